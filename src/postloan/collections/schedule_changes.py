"""What repayment agreements change in the loans' schedules, read for the core (collections'
`Area.schedule_changes` and `Area.agreed_schedules` hooks).

An approved agreement replaces its loan's schedule from its effective date on; the engine
recomputes status with the schedule in force on each date and classifies restructured loans
(`engine.schedule_versions`, `engine.restructure`). The daily run reads every approved
agreement at once (`portfolio_changes`, Arrow frames through `store.bulk`); the 360° view reads
one customer's (`agreed_rows`, a statement compiled once).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, cast, select

from postloan.area import ScheduleChanges
from postloan.collections.agreement_tables import agreement_instalments, agreements
from postloan.engine.restructure import AGREED_DUES, RESTRUCTURINGS
from postloan.engine.schedule_versions import SCHEDULE_CHANGES
from postloan.store import bulk
from postloan.views.sql import Query


def portfolio_changes(conn: Any) -> ScheduleChanges:
    """Every approved agreement: its schedule from its effective date (SCHEDULE_CHANGES), and
    the agreements and agreed due dates that classify restructured loans."""
    a, i = agreements, agreement_instalments
    changes = bulk.read(
        conn,
        select(a.c.effective_date, a.c.account_id, i.c.period, i.c.due_date,
               i.c.principal_due, i.c.interest_due)
        .select_from(i.join(a, a.c.agreement_id == i.c.agreement_id))
        .where(a.c.status == "approved")
        .order_by(a.c.account_id, a.c.effective_date, i.c.period),
        SCHEDULE_CHANGES,
    )  # fmt: skip
    approved = bulk.read(
        conn,
        select(a.c.agreement_id, a.c.account_id, a.c.effective_date,
               a.c.class_at_restructuring, a.c.repeat)
        .where(a.c.status == "approved")
        .order_by(a.c.agreement_id),
        RESTRUCTURINGS,
    )  # fmt: skip
    dues = bulk.read(
        conn,
        select(i.c.agreement_id, i.c.due_date)
        .select_from(i.join(a, a.c.agreement_id == i.c.agreement_id))
        .where(a.c.status == "approved", i.c.agreed)
        .order_by(i.c.agreement_id, i.c.due_date),
        AGREED_DUES,
    )
    return ScheduleChanges(
        changes, approved.select(list(RESTRUCTURINGS)), dues.select(list(AGREED_DUES))
    )


# One customer's accounts' approved agreements, dates as ISO text (the view only shows them).
_AGREED = Query(
    select(agreements.c.account_id,
           cast(agreements.c.effective_date, String).label("effective_date"),
           agreements.c.agreement_id, agreement_instalments.c.period,
           cast(agreement_instalments.c.due_date, String).label("due_date"),
           agreement_instalments.c.principal_due, agreement_instalments.c.interest_due)
    .join(agreements, agreements.c.agreement_id == agreement_instalments.c.agreement_id)
    .where(agreements.c.status == "approved",
           agreements.c.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(agreements.c.account_id, agreements.c.effective_date,
              agreements.c.agreement_id, agreement_instalments.c.period)
)  # fmt: skip


def agreed_rows(conn: Any, account_ids: list[str]) -> list[tuple[Any, ...]]:
    """(account_id, effective_date, agreement_id, period, due_date, principal_due,
    interest_due) of the approved agreements on `account_ids`, in order."""
    return [tuple(row) for row in _AGREED.rows(conn, {"ids": account_ids})]
