"""Collectors' contacts with promises to pay on a demo store (`Area.demo`, called by
`postloan demo` between its two runs): the calls `rules.demo.plan_promises` draws on the last
stored date before `before`, stored as the contact log and the promises a collector recording
them on the case page would have left (`contacts.record_contact` writes the same rows) —
set-based: one grouped query, one insert of the contacts, one of the promises, one update of
the contacted customers' open contact tasks, and one audit entry for the batch. Whether each
promise was kept or broken is not decided here: the second run's `collections.promises` step
decides it from the payments, as for any recorded promise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Connection, bindparam, func, insert, select, update

from postloan.access import audit
from postloan.access.tables import users
from postloan.collections.casework_tables import case_collectors
from postloan.collections.rules.demo import OVERDUE, plan_promises
from postloan.collections.tables import contact_opt_outs, contacts, promises, tasks
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import as_date, rows_frame

ACTOR = "demo"


def overdue_on(conn: Connection, day: date) -> pl.DataFrame:
    """OVERDUE on `day`: per customer the worst DPD, the overdue amount and the collector
    holding their case (None without one); customers who opted out of phone calls left out."""
    s = account_status
    worst = (
        select(s.c.customer_id, func.max(s.c.dpd).label("dpd"),
               func.sum(s.c.overdue_amount).label("overdue"))
        .where(s.c.as_of == day).group_by(s.c.customer_id).having(func.max(s.c.dpd) > 0)
        .subquery()
    )  # fmt: skip
    opted = select(contact_opt_outs.c.customer_id).where(contact_opt_outs.c.channel == "phone")
    rows = conn.execute(
        select(worst.c.customer_id, worst.c.dpd, worst.c.overdue, users.c.username)
        .outerjoin(case_collectors, case_collectors.c.customer_id == worst.c.customer_id)
        .outerjoin(users, users.c.user_id == case_collectors.c.user_id)
        .where(worst.c.customer_id.not_in(opted))
    ).all()  # fmt: skip
    return rows_frame([(r[0], int(r[1]), int(r[2]), r[3]) for r in rows], OVERDUE)


def record_demo_contacts(conn: Connection, policy: Policy, before: date, until: date,
                         seed: int) -> Mapping[str, int]:  # fmt: skip
    """Store the drawn calls and their promises; returns the counts (contacts, customers)."""
    last = as_date(conn.execute(
        select(func.max(account_status.c.as_of)).where(account_status.c.as_of < before)
    ).scalar())  # fmt: skip
    if last is None:
        return {"contacts": 0, "customers": 0}
    code = policy.contact.default_jurisdiction
    zone = policy.contact.jurisdictions[code].timezone
    planned = plan_promises(overdue_on(conn, last), last, until, seed, zone)
    if planned.is_empty():
        return {"contacts": 0, "customers": 0}
    rows = planned.to_dicts()
    made = conn.execute(
        insert(contacts).returning(contacts.c.contact_id, sort_by_parameter_order=True),
        [{"customer_id": r["customer_id"], "account_id": None, "at": r["at"], "channel": "phone",
          "recorded_by": r["collector"], "staff": json.dumps([r["collector"]]),
          "outcome": "promise_to_pay", "content": None, "response": None,
          "promise_amount": r["amount"], "promise_date": r["due_on"], "jurisdiction": code}
         for r in rows],
    ).scalars().all()  # fmt: skip
    conn.execute(
        insert(promises),
        [{"contact_id": cid, "customer_id": r["customer_id"], "account_id": None,
          "amount": r["amount"], "made_on": r["made_on"], "due_on": r["due_on"],
          "status": "pending", "decided_on": None} for cid, r in zip(made, rows, strict=True)],
    )  # fmt: skip
    latest = planned.group_by("customer_id").agg(pl.col("at").max(), pl.col("collector").last())
    conn.execute(
        update(tasks)
        .where(tasks.c.kind == "contact", tasks.c.status == "open",
               tasks.c.customer_id == bindparam("who"))
        .values(status="done", done_at=bindparam("at"), done_by=bindparam("by"), channel="phone"),
        [{"who": r["customer_id"], "at": r["at"], "by": r["collector"]}
         for r in latest.to_dicts()],
    )  # fmt: skip
    audit.record(
        conn, actor=ACTOR, action="contact.demo", target_type="store", target_id="demo",
        now=datetime.now(UTC),
        detail={"contacts": len(rows), "customers": latest.height, "status_on": last.isoformat(),
                "seed": seed},
    )  # fmt: skip
    return {"contacts": len(rows), "customers": latest.height}
