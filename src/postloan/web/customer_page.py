"""What the 360° page's template needs prepared in Python: labels per language, the status
history as a grid.

The page is the workbench's busiest, and in Jinja each `t(...)` call, each attribute read of a
dict (`c.name` tries `getattr` first, then the key) and each per-cell expression costs a few
microseconds — about a third of a page's rendering went into the status-history grid and the
labels. So the template reads labels from a plain dict (`L["cust.profile"]`) and the grid as
finished cells; the HTML is the same (tests/web compare it with the API's view).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from postloan.web.data import Customer360
from postloan.web.i18n import MESSAGES, bucket_label, translate


class Labels(dict[str, str]):
    """`translate(lang, key)` for every key; an unknown key shows as itself, like `t`."""

    def __missing__(self, key: str) -> str:
        return key


@cache
def labels(lang: str) -> Labels:
    keys = {k for messages in MESSAGES.values() for k in messages}
    return Labels({k: translate(lang, k) for k in keys})


def history_grid(view: Customer360, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """One row per stored date (newest first): the date and, per account of the page, the
    cell's CSS class ("overdue" when DPD > 0) and text ("DPD · bucket", "-" without status)."""
    names: dict[str, str] = {}
    rows = []
    for day, statuses in view.history_rows:
        cells = []
        for h in statuses:
            if h is None:
                cells.append(("", "-"))
                continue
            bucket: Any = h["bucket"]
            name = names.get(bucket)
            if name is None:
                name = names[bucket] = bucket_label(lang, bucket)
            cells.append(("overdue" if h["dpd"] > 0 else "", f"{h['dpd']} · {name}"))
        rows.append((day, cells))
    return rows
