"""The stored monthly packs (issue 16 item 5): written by the daily run's `management.pack`
step on a month's last calendar day, listed and read by the API and the workbench.

The step is idempotent: it drops the packs built on a date from the run's first date on (their
status may have changed, or the date was deleted) and writes one per language for every
month-end among the run's dates, from the status stored then — re-running a date rewrites the
same pack (but for its `created_at`). Whole book: the readers need `management.export`."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, true

from postloan.area import StepContext
from postloan.errors import NotFoundError
from postloan.management import printable, service
from postloan.management.tables import management_packs
from postloan.policy import Policy
from postloan.store.values import stored_date

P = management_packs.c


def is_month_end(day: date) -> bool:
    """The last calendar day of its month (the scheduled pack's date)."""
    return (day + timedelta(days=1)).month != day.month


def write_month(
    conn: Connection, policy: Policy, day: date, run_id: int, now: datetime
) -> list[str]:
    """Build the pack of the `policy.management.print_months` months up to `day` (whole
    book) and store it in every language; the month's earlier pack is replaced."""
    m = policy.management
    built = service.build(conn, policy, printable.month_start(day, m.print_months), day, true())
    month = day.strftime("%Y-%m")
    conn.execute(delete(management_packs).where(P.month == month))
    rows = [
        {
            "month": month,
            "lang": lang,
            "as_of": day,
            "html": printable.render(built, lang, now, run_id),
            "policy_version": built.policy_version,
            "definitions_version": built.definitions_version,
            "run_id": run_id,
            "created_at": now,
        }
        for lang in printable.LANGS
    ]
    conn.execute(insert(management_packs), rows)
    return [month]


def run_step(ctx: StepContext) -> dict[str, Any]:
    """The daily run's `management.pack` step (module doc)."""
    conn = ctx.conn
    conn.execute(delete(management_packs).where(P.as_of >= ctx.first))
    written: list[str] = []
    for day in ctx.dates:
        if is_month_end(day):
            written += write_month(conn, ctx.policy, day, ctx.run_id, ctx.now)
    return {"packs": written}


def listed(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(P.month, P.lang, P.as_of, P.policy_version, P.definitions_version, P.run_id,
               P.created_at).order_by(P.month.desc(), P.lang)
    ).all()  # fmt: skip
    return [
        {
            "month": r.month,
            "lang": r.lang,
            "as_of": stored_date(r.as_of).isoformat(),
            "policy_version": r.policy_version,
            "definitions_version": r.definitions_version,
            "run_id": r.run_id,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def html_of(conn: Connection, month: str, lang: str) -> str:
    found = conn.execute(
        select(P.html).where(P.month == month, P.lang == lang)
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no stored pack for {month} ({lang})", field="month")
    return str(found)
