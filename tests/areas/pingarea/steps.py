"""The ping area's daily-run step: re-derive one row per stored date from `first` on."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from postloan.area import StepContext
from postloan.store.schema import account_status
from tests.areas.pingarea.tables import ping_marks


def mark(ctx: StepContext) -> None:
    ctx.conn.execute(delete(ping_marks).where(ping_marks.c.as_of >= ctx.first))
    for day in ctx.dates:
        overdue = ctx.conn.execute(
            select(func.count()).where(account_status.c.as_of == day, account_status.c.dpd > 0)
        ).scalar_one()
        ctx.conn.execute(
            insert(ping_marks).values(as_of=day, overdue_accounts=overdue, run_id=ctx.run_id)
        )
