"""What the 360° page's template needs prepared in Python: labels per language, the status
history as a grid, the imported extra attributes (masked) and the cells' HTML ids.

The page is the workbench's busiest, and in Jinja each `t(...)` call, each attribute read of a
dict (`c.name` tries `getattr` first, then the key) and each per-cell expression costs a few
microseconds — about a third of a page's rendering went into the status-history grid and the
labels. So the template reads labels from a plain dict (`L["cust.profile"]`) and the grid as
finished cells; the HTML is the same (tests/web compare it with the API's view).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from postloan.access import Action, User, can
from postloan.access.reveal import EXTRA_PREFIX
from postloan.policy import Policy
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


def field_dom_id(field: str) -> str:
    """The HTML id of a revealable field's cell: `field-phone`; an imported attribute
    (`extra.<column>`, any characters) gets a stable hash so the id is a valid selector."""
    if field.startswith(EXTRA_PREFIX):
        return "field-extra-" + hashlib.sha1(field.encode()).hexdigest()[:12]
    return f"field-{field}"


def extra_rows(view: Customer360, policy: Policy, user: User) -> list[dict[str, Any]]:
    """The customer's imported extra attributes as the page lists them: the value as masked
    for the user (`access.masking.mask_extra`, already applied), and whether a reveal form is
    offered (personal columns with a value, for roles that may reveal)."""
    extra = view.customer.get("extra") or {}
    non_personal = policy.security.personal_data.non_personal_extra_columns.get("customers", ())
    may_reveal = can(user.role, Action.CUSTOMER_REVEAL)
    return [
        {
            "column": column,
            "field": EXTRA_PREFIX + column,
            "value": "" if value is None else str(value),
            "revealable": may_reveal and column not in non_personal and value not in (None, ""),
        }
        for column, value in extra.items()
    ]


def reason_minimum(policy: Policy) -> dict[str, int]:
    """The policy's minimum for a reveal's reason, as the message `reveal.reason_required`
    states it (`n` characters, a Chinese one counting two; `d` different ones)."""
    rules = policy.security.reveal
    return {"n": rules.min_reason_chars, "d": rules.min_distinct_chars}
