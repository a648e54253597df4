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

from postloan.collections.strategies import current_strategy
from postloan.collections.tables import cases, contacts, tasks
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import as_date, as_utc

DAYS_PER_WEEK = 7


def weekly_floor_cap(policy: Policy) -> int:
    """Most contacts a week the floors may ask for: the default jurisdiction's call capacity,
    and never more than one a day."""
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    capacity = rules.weekly_call_capacity
    return DAYS_PER_WEEK if capacity is None else min(capacity, DAYS_PER_WEEK)


def weekly_floor(policy: Policy, bucket: str) -> int:
    """The bucket's weekly minimum, capped by what the default jurisdiction allows."""
    return min(policy.collections.min_contacts_per_week.get(bucket, 0), weekly_floor_cap(policy))


def spacing_days(floor: int) -> int | None:
    """Days between contacts that meet `floor` per week (None: no floor)."""
    return DAYS_PER_WEEK // floor if floor > 0 else None


def due_contacts(
    open_cases: pl.DataFrame, last_contact: pl.DataFrame, policy: Policy, as_of: date
) -> pl.DataFrame:
    """The open cases that need a contact on `as_of`.

    In: open cases with their customer's worst overdue account on D (customer_id, account_id,
    dpd, overdue_amount — the customer's total; optionally `target`, the contacts per week of
    the case's treatment strategy), and each customer's last contact day (customer_id,
    last_day, local days). Out: the same columns plus bucket and floor — the larger of the
    bucket's floor and the strategy's target, never above the caps — for the cases due.
    """
    buckets = pl.DataFrame(
        [
            {"bucket": b.name, "floor": weekly_floor(policy, b.name),
             "min_dpd": b.min_dpd, "max_dpd": b.max_dpd}
            for b in policy.dpd_buckets
        ],
        schema={"bucket": pl.String, "floor": pl.Int32, "min_dpd": pl.Int32, "max_dpd": pl.Int32},
    )  # fmt: skip
    if "target" not in open_cases.columns:
        open_cases = open_cases.with_columns(pl.lit(0, pl.Int32).alias("target"))
    cap = weekly_floor_cap(policy)
    banded = (
        open_cases.join_where(
            buckets,
            pl.col("dpd") >= pl.col("min_dpd"),
            pl.col("dpd") <= pl.col("max_dpd").fill_null(2**31 - 1),
        )
        .with_columns(
            pl.max_horizontal("floor", pl.min_horizontal(pl.col("target").fill_null(0), cap))
            .cast(pl.Int32)
            .alias("floor")
        )
        .filter(pl.col("floor") > 0)
    )
    return (
        banded.join(last_contact, on="customer_id", how="left")
        .with_columns((pl.lit(DAYS_PER_WEEK) // pl.col("floor")).alias("spacing"))
        .filter(
            pl.col("last_day").is_null()
            | ((pl.lit(as_of) - pl.col("last_day")).dt.total_days() >= pl.col("spacing"))
        )
        .select("customer_id", "account_id", "dpd", "overdue_amount", "bucket", "floor")
        .sort("customer_id")
    )


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
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
                "overdue_amount": pl.Int64},
        orient="row",
    )  # fmt: skip
    # The worst account names the task (ties: the smallest id); the amount is the customer's.
    worst = (
        frame.sort(["customer_id", "dpd", "account_id"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("account_id").first(), pl.col("dpd").first(), pl.col("overdue_amount").sum())
    )
    # The intensity of each open case's treatment strategy (OD-9) raises the floor.
    chosen = current_strategy()
    catalogue = policy.strategies.catalogue
    targets = pl.DataFrame(
        [
            (customer, catalogue[name].contacts_per_week if name in catalogue else 0)
            for customer, name in conn.execute(
                select(chosen.c.customer_id, chosen.c.strategy).join(
                    cases,
                    (cases.c.customer_id == chosen.c.customer_id)
                    & (cases.c.opened_on == chosen.c.case_opened_on)
                    & (cases.c.status == "open"),
                )
            ).all()
        ],
        schema={"customer_id": pl.String, "target": pl.Int32},
        orient="row",
    )
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
    rows = [
        {"kind": "contact", "customer_id": r["customer_id"], "account_id": r["account_id"],
         "created_on": day, "window_start": day, "due_by": day,
         "overdue_amount": r["overdue_amount"], "dpd": r["dpd"], "status": "open"}
        for r in due.to_dicts()
        if r["customer_id"] not in already
    ]  # fmt: skip
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
