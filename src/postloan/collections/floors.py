"""Weekly contact floors (OD-5) as scheduled contact tasks.

The policy sets a minimum number of contacts per week for each DPD bucket
(`collections.min_contacts_per_week`: 31–60 ≥ 2, 61–90 ≥ 3, 91+ daily by default), raised to the
intensity of the case's treatment strategy (`strategies.catalogue.*.contacts_per_week`, OD-9),
never above what the jurisdiction's call caps allow in a week. Each daily run turns the floor
into work for its business date D: an open case gets a contact task on D when its customer has
not been contacted for `7 // floor` local days. Spacing contacts that way always meets the floor
— every 3 days gives ≥ 2 in any 7, every 2 days ≥ 3, every day 7 — without front-loading a
week's calls.

Tasks are scheduled for the run's last date only: a backfill replays history, and yesterday's
work cannot be scheduled any more. An open contact task from an earlier day is dropped when a
later day is run — it is no longer today's work, and the compliance report, not the task list,
says whether the week's floor was met (from the contacts themselves). Done tasks stay. So the
open contact tasks are always those of the latest stored date, and a backfill, the same dates
run one by one, and a re-run of an old date all leave the same tasks
(`collections.service.roll_back` deletes the open tasks of replayed dates).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, delete, func, select, update

from postloan.collections.handover import paused_customers
from postloan.collections.rules.floors import DAYS_PER_WEEK as DAYS_PER_WEEK
from postloan.collections.rules.floors import (
    OPEN_CASE_ACCOUNTS,
    contact_task_rows,
    strategy_targets,
    worst_accounts,
)
from postloan.collections.rules.floors import due_contacts as due_contacts
from postloan.collections.rules.floors import spacing_days as spacing_days
from postloan.collections.rules.floors import weekly_floor as weekly_floor
from postloan.collections.rules.floors import weekly_floor_cap as weekly_floor_cap
from postloan.collections.strategies import current_strategy
from postloan.collections.tables import cases, contacts, tasks
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import as_date, as_utc


def _open_case_worst(conn: Connection, day: date, policy: Policy) -> pl.DataFrame:
    rows = conn.execute(
        select(
            account_status.c.customer_id, account_status.c.account_id,
            account_status.c.dpd, account_status.c.overdue_amount,
        )
        .join(cases, (cases.c.customer_id == account_status.c.customer_id)
              & (cases.c.status == "open"))
        .where(account_status.c.as_of == day, account_status.c.dpd > 0)
    ).all()  # fmt: skip
    worst = worst_accounts(pl.DataFrame([tuple(r) for r in rows], schema=OPEN_CASE_ACCOUNTS,
                                        orient="row"))  # fmt: skip
    # The intensity of each open case's treatment strategy (OD-9) raises the floor.
    chosen = current_strategy()
    pairs = conn.execute(
        select(chosen.c.customer_id, chosen.c.strategy).join(
            cases,
            (cases.c.customer_id == chosen.c.customer_id)
            & (cases.c.opened_on == chosen.c.case_opened_on)
            & (cases.c.status == "open"),
        )
    ).all()
    targets = strategy_targets([(r[0], r[1]) for r in pairs], policy)
    return worst.join(targets, on="customer_id", how="left")


def _last_contacts(conn: Connection, day: date, zone: str) -> pl.DataFrame:
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    rows = conn.execute(
        select(contacts.c.customer_id, func.max(contacts.c.at))
        .where(contacts.c.at < end)
        .group_by(contacts.c.customer_id)
    ).all()
    tz = ZoneInfo(zone)
    # max(at) comes back as text on SQLite (an aggregate loses the column type): parse it.
    last = [
        (customer, _as_instant(at).astimezone(tz).date()) for customer, at in rows if at is not None
    ]
    return pl.DataFrame(last, schema={"customer_id": pl.String, "last_day": pl.Date}, orient="row")


def _as_instant(value: datetime | str) -> datetime:
    instant = as_utc(value)
    assert instant is not None
    return instant


def schedule_contact_tasks(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step: drop earlier days' open contact tasks, schedule today's (module doc)."""
    if not days:
        return
    day = days[-1]
    conn.execute(
        delete(tasks).where(
            tasks.c.kind == "contact", tasks.c.status == "open", tasks.c.due_by < day
        )
    )
    zone = policy.contact.jurisdictions[policy.contact.default_jurisdiction].timezone
    due = due_contacts(
        _open_case_worst(conn, day, policy), _last_contacts(conn, day, zone), policy, day
    )
    already = set(
        conn.execute(
            select(tasks.c.customer_id).where(
                tasks.c.kind == "contact", tasks.c.status == "open", tasks.c.due_by >= day
            )
        ).scalars()
    )
    # Work another area has paused (a hardship plan being kept) gets no new contact task.
    already |= paused_customers(conn)
    rows = contact_task_rows(due, already, day)
    if rows:
        conn.execute(tasks.insert(), rows)


def complete_contact_tasks(
    conn: Connection, customer_id: str, user: str, channel: str, at: datetime
) -> int:
    """A recorded contact completes the customer's open contact tasks; returns how many."""
    result = conn.execute(
        update(tasks)
        .where(
            tasks.c.kind == "contact", tasks.c.status == "open", tasks.c.customer_id == customer_id
        )
        .values(status="done", done_at=at, done_by=user, channel=channel)
    )
    return int(result.rowcount or 0)


def open_task_days(conn: Connection, customer_id: str) -> list[date]:
    """The days of a customer's open contact tasks (for tests and the case page)."""
    return [
        d
        for d in (
            as_date(v)
            for v in conn.execute(
                select(tasks.c.due_by).where(
                    tasks.c.kind == "contact",
                    tasks.c.status == "open",
                    tasks.c.customer_id == customer_id,
                )
            ).scalars()
        )
        if d is not None
    ]
