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

from postloan.collections.cases import STAGE_RANK
from postloan.collections.tables import cases, promises
from postloan.store.schema import cards, loans, payments
from postloan.store.values import as_date, rows_frame

BROKEN_WEIGHT = 10  # > the highest stage rank

PROMISES = {
    "promise_id": pl.Int64, "customer_id": pl.String, "account_id": pl.String,
    "amount": pl.Int64, "made_on": pl.Date, "due_on": pl.Date,
}  # fmt: skip
PAYMENTS = {
    "payment_id": pl.String, "customer_id": pl.String, "account_id": pl.String,
    "value_date": pl.Date, "amount": pl.Int64, "reverses_payment_id": pl.String,
}  # fmt: skip


def promise_outcomes(promise_rows: pl.DataFrame, payment_rows: pl.DataFrame, as_of: date
                     ) -> pl.DataFrame:  # fmt: skip
    """promise_id, status (pending | kept | broken), decided_on — for every promise."""
    undone = payment_rows.filter(
        pl.col("reverses_payment_id").is_not_null() & (pl.col("value_date") <= as_of)
    )["reverses_payment_id"]
    counted = payment_rows.filter(
        pl.col("reverses_payment_id").is_null()
        & (pl.col("value_date") <= as_of)
        & ~pl.col("payment_id").is_in(undone.implode())
    ).select("customer_id", pl.col("account_id").alias("paid_account"), "value_date",
             pl.col("amount").alias("paid"))  # fmt: skip
    matched = (
        promise_rows.join(counted, on="customer_id", how="inner")
        .filter(
            (pl.col("value_date") >= pl.col("made_on"))
            & (pl.col("value_date") <= pl.col("due_on"))
            & (pl.col("account_id").is_null() | (pl.col("account_id") == pl.col("paid_account")))
        )
        .sort("promise_id", "value_date")
        .with_columns(pl.col("paid").cum_sum().over("promise_id").alias("running"))
        .filter(pl.col("running") >= pl.col("amount"))
        .group_by("promise_id")
        .agg(pl.col("value_date").min().alias("kept_on"))
    )
    out = promise_rows.join(matched, on="promise_id", how="left")
    broken_on = pl.col("due_on") + pl.duration(days=1)
    return out.select(
        "promise_id",
        pl.when(pl.col("kept_on").is_not_null())
        .then(pl.lit("kept"))
        .when(broken_on <= as_of)
        .then(pl.lit("broken"))
        .otherwise(pl.lit("pending"))
        .alias("status"),
        pl.when(pl.col("kept_on").is_not_null())
        .then(pl.col("kept_on"))
        .when(broken_on <= as_of)
        .then(broken_on)
        .cast(pl.Date)
        .alias("decided_on"),
    ).sort("promise_id")


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
    by_customer: dict[str, list[date]] = {}
    for r in broken:
        day = as_date(r.decided_on)
        if day is not None:
            by_customer.setdefault(r.customer_id, []).append(day)
    rows = []
    for c in open_cases:
        opened = as_date(c.opened_on) or date.min
        since = sum(1 for d in by_customer.get(c.customer_id, []) if d >= opened)
        rows.append({"cid": c.case_id, "p": STAGE_RANK.get(c.stage, 0) + BROKEN_WEIGHT * since})
    conn.execute(
        update(cases).where(cases.c.case_id == bindparam("cid")).values(priority=bindparam("p")),
        rows,
    )
