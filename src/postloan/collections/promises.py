"""Promises to pay (承诺还款): kept or broken, decided from the payments — and case priority.

A promise (amount A, made on M, due on U; for one account or any of the customer's accounts) is
**kept** on the first day the payments counted as of D, dated M…U, add up to A; **broken** the
day after U if they never did; **pending** until then. A payment reversed on or before D does not
count (a bounced transfer keeps no promise). `promise_outcomes` decides every promise at once
from two frames; `update_promises` stores the outcomes and sets each open case's priority:
its stage's rank, plus `BROKEN_WEIGHT` for every promise broken since the case opened — a broken
promise moves a case ahead of every case without one in the collector's queue.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, bindparam, select, update

from postloan.collections.rules.promises import (
    BROKEN,
    OPEN_CASES,
    PAYMENTS,
    PROMISES,
    case_priorities,
)
from postloan.collections.rules.promises import BROKEN_WEIGHT as BROKEN_WEIGHT
from postloan.collections.rules.promises import promise_outcomes as promise_outcomes
from postloan.collections.tables import cases, promises
from postloan.store.schema import cards, loans, payments
from postloan.store.values import as_date, rows_frame


def update_promises(conn: Connection, as_of: date) -> dict[str, int]:
    """Decide every promise as of D, store the outcomes, and set the open cases' priority."""
    promise_rows = rows_frame(
        conn.execute(select(*[promises.c[n] for n in PROMISES])).all(), PROMISES
    ).with_columns(pl.col("made_on").cast(pl.Date), pl.col("due_on").cast(pl.Date))
    customers = promise_rows["customer_id"].unique().to_list()
    owners = (
        select(loans.c.loan_id.label("account_id"), loans.c.customer_id)
        .union_all(select(cards.c.card_id, cards.c.customer_id))
        .subquery()
    )
    statement = (
        select(
            payments.c.payment_id, owners.c.customer_id, payments.c.account_id,
            payments.c.value_date, payments.c.amount, payments.c.reverses_payment_id,
        )
        .join(owners, owners.c.account_id == payments.c.account_id)
        .where(owners.c.customer_id.in_(bindparam("who", expanding=True)))
    )  # fmt: skip
    found = conn.execute(statement, {"who": customers}).all() if customers else []
    payment_rows = rows_frame(found, PAYMENTS).with_columns(pl.col("value_date").cast(pl.Date))
    outcomes = promise_outcomes(promise_rows, payment_rows, as_of)
    if outcomes.height:
        conn.execute(
            update(promises)
            .where(promises.c.promise_id == bindparam("pid"))
            .values(status=bindparam("st"), decided_on=bindparam("on")),
            [{"pid": r["promise_id"], "st": r["status"], "on": r["decided_on"]}
             for r in outcomes.to_dicts()],
        )  # fmt: skip
    _set_priorities(conn)
    counts = outcomes.group_by("status").len()
    return dict(zip(counts["status"].to_list(), counts["len"].to_list(), strict=True))


def undecide_promises_from(conn: Connection, first: date) -> None:
    """Promises decided on `first` or later are pending again (those dates are gone)."""
    conn.execute(
        update(promises)
        .where(promises.c.decided_on >= first)
        .values(status="pending", decided_on=None)
    )


def _set_priorities(conn: Connection) -> None:
    open_cases = conn.execute(
        select(cases.c.case_id, cases.c.customer_id, cases.c.stage, cases.c.opened_on).where(
            cases.c.status == "open"
        )
    ).all()
    if not open_cases:
        return
    broken = conn.execute(
        select(promises.c.customer_id, promises.c.decided_on).where(promises.c.status == "broken")
    ).all()
    priorities = case_priorities(
        rows_frame([(r[0], r[1], r[2], as_date(r[3])) for r in open_cases], OPEN_CASES),
        rows_frame([(r[0], as_date(r[1])) for r in broken], BROKEN),
    )
    conn.execute(
        update(cases).where(cases.c.case_id == bindparam("cid")).values(priority=bindparam("p")),
        [{"cid": c, "p": p} for c, p in priorities.rows()],
    )
