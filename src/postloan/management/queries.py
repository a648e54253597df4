"""Management's SQL: the month-end status, the account attributes the pack breaks down by, and
the inputs of its other figures — all reads, scoped to the caller's customers.

Tiering's `tier_assignments` is read by SQL as a lightweight table (named here, not imported:
areas reach each other only through what they publish). Every read runs on a SQLAlchemy
connection (the API, the workbench) or an ADBC one (`store.bulk`: the CLI and the benchmark,
Arrow-native for millions of rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    String,
    column,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.sql.elements import True_

from postloan.access.tables import users
from postloan.management.rules.pack import NON_PERFORMING
from postloan.policy.management import Management
from postloan.store import bulk, schema
from postloan.store.rows import read_frame
from postloan.store.values import UTCDateTime, stored_date

TIERS_TABLE = table(
    "tier_assignments", column("as_of", Date), column("customer_id", String), column("tier", String)
)

# Collections' approved write-offs and asset disposals: out of the pool from their effective
# date, as in the core summary (`reports.summary`).
DISPOSALS_TABLE = table("account_disposals", column("account_id", String),
                        column("effective_on", Date), column("status", String))  # fmt: skip

# Collections' reassignment log: who held each customer when (the pack's team and collector
# breakdowns). Read by SQL, as collections' own KPI attribution reads it (`collections.kpis`).
REASSIGNMENTS_TABLE = table("reassignments", column("log_id", Integer),
                            column("customer_id", String), column("kind", String),
                            column("from_user_id", Integer), column("to_user_id", Integer),
                            column("at", UTCDateTime()), column("business_date", Date))  # fmt: skip

S = schema.account_status.c
CU = schema.customers.c
LO = schema.loans.c

STATUS = {
    "as_of": pl.Date,
    "account_id": pl.String,
    "customer_id": pl.String,
    "account_type": pl.String,
    "outstanding_principal": pl.Int64,
    "overdue_amount": pl.Int64,
    "dpd": pl.Int64,
    "bucket": pl.String,
    "risk_class": pl.String,
    "run_id": pl.Int64,
}
CUSTOMERS = {"customer_id": pl.String, "branch": pl.String, "industry": pl.String}
LOANS = {
    "account_id": pl.String,
    "principal": pl.Int64,
    "term_months": pl.Int64,
    "disbursement_date": pl.Date,
    "product": pl.String,
    "purpose": pl.String,
    "guarantee": pl.String,
    "rate_type": pl.String,
    "borrower_type": pl.String,
    "officer": pl.String,
    "customer_id": pl.String,
}


def frame(source: Any, query: Any, types: dict[str, Any]) -> pl.DataFrame:
    """A select's rows typed by `types`, from a SQLAlchemy or an ADBC connection. Every column
    has a declared SQL type, so dates come back as dates on every backend."""
    if isinstance(source, Connection):
        return read_frame(source, query, types)
    return bulk.read(source, query).cast(types)  # type: ignore[arg-type]


def stored_dates(conn: Connection, upto: date) -> list[date]:
    """The stored business dates up to `upto`, in order. Every page and pack starts here, so
    it must not read the status rows: it walks the primary key (as_of, account_id) one date
    at a time — a recursive CTE whose every step is one index seek for the next larger date
    (a loose index scan) — so its cost grows with the dates, not with the accounts. A
    `GROUP BY as_of` read every row's key: ≈ 0.45 s on the 100k demo's 2.25M rows, most of
    the dashboard's first paint (docs/management.md, "Dashboard first paint")."""
    walk = (
        select(func.min(S.as_of).label("day"))
        .where(S.as_of <= upto)
        .cte("stored_walk", recursive=True)
    )
    following = (
        select(func.min(S.as_of)).where(S.as_of > walk.c.day, S.as_of <= upto).scalar_subquery()
    )
    walk = walk.union_all(select(following.label("day")).where(walk.c.day.is_not(None)))
    query = select(walk.c.day).where(walk.c.day.is_not(None)).order_by(walk.c.day)
    return [stored_date(d) for (d,) in conn.execute(query)]


def month_ends(days: Sequence[date]) -> pl.DataFrame:
    """Each calendar month's last stored date (the pack's month-end 口径)."""
    frame_ = pl.DataFrame({"as_of": list(days)}, schema={"as_of": pl.Date})
    return (
        frame_.with_columns(pl.col("as_of").dt.strftime("%Y-%m").alias("month"))
        .group_by("month")
        .agg(pl.col("as_of").max())
        .sort("as_of")
    )


def _in_scope(scope: ColumnElement[bool]) -> Any:
    return select(CU.customer_id).where(scope)


def status_rows(source: Any, days: Sequence[date], scope: ColumnElement[bool]) -> pl.DataFrame:
    query = select(*(S[n] for n in STATUS)).where(S.as_of.in_(list(days)))
    if not isinstance(scope, True_):
        query = query.where(S.customer_id.in_(_in_scope(scope)))
    return frame(source, query, STATUS)


def ever_clauses(management: Management) -> dict[str, ColumnElement[bool]]:
    """Each "ever" definition's numerator (before the pool) as a clause on the status rows,
    by the column `rules.with_flags` takes it in (`_ever_<kpi>`)."""
    out: dict[str, ColumnElement[bool]] = {}
    for kpi, definition in management.kpis.items():
        if definition.status != "ever":
            continue
        if definition.numerator == "dpd_at_least":
            out[f"_ever_{kpi}"] = S.dpd >= definition.min_dpd
        elif definition.numerator == "non_performing":
            out[f"_ever_{kpi}"] = S.risk_class.in_(NON_PERFORMING)
        else:
            out[f"_ever_{kpi}"] = S.risk_class == "loss"
    return out


def accounts_meeting(
    conn: Connection,
    clauses: dict[str, ColumnElement[bool]],
    days: Sequence[date],
    scope: ColumnElement[bool],
) -> pl.DataFrame | None:
    """account_id and one boolean column per clause: the accounts in `scope` whose status met
    it on some date of `days` (one `DISTINCT account_id` each: ids only, however many dates);
    None without clauses."""
    if not clauses:
        return None
    out = pl.DataFrame(schema={"account_id": pl.String})
    for name, clause in clauses.items():
        found: list[str] = []
        if days:
            query = select(S.account_id).where(S.as_of.in_(list(days)), clause).distinct()
            if not isinstance(scope, True_):
                query = query.where(S.customer_id.in_(_in_scope(scope)))
            found = list(conn.execute(query).scalars())
        part = pl.DataFrame({"account_id": found}, schema={"account_id": pl.String})
        out = out.join(part.with_columns(pl.lit(True).alias(name)), on="account_id", how="full",
                       coalesce=True)  # fmt: skip
    return out


def cycle_status(source: Any, start: date, end: date, scope: ColumnElement[bool]) -> pl.DataFrame:
    """Each card's status on its statement dates in [start, end] that are stored (the card
    cycle-end 口径): the status columns, one row per card and statement date."""
    st = schema.card_statements.c
    query = (
        select(*(S[n] for n in STATUS))
        .join(schema.card_statements, (st.card_id == S.account_id) & (st.statement_date == S.as_of))
        .where(st.statement_date >= start, st.statement_date <= end)
    )
    if not isinstance(scope, True_):
        query = query.where(S.customer_id.in_(_in_scope(scope)))
    return frame(source, query, STATUS)


def customers(source: Any, scope: ColumnElement[bool]) -> pl.DataFrame:
    query = select(CU.customer_id, CU.branch_id.label("branch"), CU.industry).where(scope)
    return frame(source, query, CUSTOMERS)


def loans(source: Any, scope: ColumnElement[bool]) -> pl.DataFrame:
    query = select(
        LO.loan_id.label("account_id"),
        LO.principal,
        LO.term_months,
        LO.disbursement_date,
        LO.product,
        LO.purpose,
        LO.guarantee,
        LO.rate_type,
        LO.borrower_type,
        LO.officer_id.label("officer"),
        LO.customer_id,
    )
    if not isinstance(scope, True_):
        query = query.where(LO.customer_id.in_(_in_scope(scope)))
    return frame(source, query, LOANS)


def has_table(conn: Connection, name: str) -> bool:
    return inspect(conn).has_table(name)


def disposals(source: Any, upto: date) -> pl.DataFrame:
    """Approved disposals effective on or before `upto`: account_id, effective_on (the first,
    should an account have two)."""
    d = DISPOSALS_TABLE.c
    query = select(d.account_id, d.effective_on).where(d.status == "approved",
                                                       d.effective_on <= upto)  # fmt: skip
    rows = frame(source, query, {"account_id": pl.String, "effective_on": pl.Date})
    return rows.group_by("account_id").agg(pl.col("effective_on").min())


def tiers(source: Any, days: Sequence[date]) -> pl.DataFrame:
    t = TIERS_TABLE.c
    query = select(t.as_of, t.customer_id, t.tier).where(t.as_of.in_(list(days)))
    return frame(source, query, {"as_of": pl.Date, "customer_id": pl.String, "tier": pl.String})


def cash(source: Any, start: date, end: date, scope: ColumnElement[bool]) -> pl.DataFrame:
    """Payments dated in (start, end]: account_id, value_date, signed amount (a reversal row
    subtracts the amount it cancels)."""
    p = schema.payments.c
    sign = func.coalesce(p.reverses_payment_id, "") == ""
    query = select(p.account_id, p.value_date, p.amount, sign.label("plain")).where(
        p.value_date > start, p.value_date <= end
    )
    if not isinstance(scope, True_):
        # the scope's loans and cards (not its status rows: one per account and date, read
        # again for every month of a pack)
        c = schema.cards.c
        owned = (
            select(LO.loan_id)
            .where(LO.customer_id.in_(_in_scope(scope)))
            .union_all(select(c.card_id).where(c.customer_id.in_(_in_scope(scope))))
        )
        query = query.where(p.account_id.in_(owned))
    raw = frame(
        source,
        query,
        {"account_id": pl.String, "value_date": pl.Date, "amount": pl.Int64, "plain": pl.Boolean},
    )
    return raw.with_columns(
        pl.when(pl.col("plain")).then(pl.col("amount")).otherwise(-pl.col("amount")).alias("amount")
    ).drop("plain")


def cards(source: Any, scope: ColumnElement[bool]) -> pl.DataFrame:
    c = schema.cards.c
    query = select(c.card_id, c.open_date, c.close_date)
    if not isinstance(scope, True_):
        query = query.where(c.customer_id.in_(_in_scope(scope)))
    return frame(source, query, {"card_id": pl.String, "open_date": pl.Date, "close_date": pl.Date})


def last_card_activity(
    source: Any, day: date, after: date, scope: ColumnElement[bool] | None = None
) -> pl.DataFrame:
    """Each card's last customer-initiated transaction in (after, day] (DATA_CONTRACT: a
    payment that is not a reversal, a statement with purchases; one row per card, reduced in
    SQL), for the cards in `scope` (default: all) that could be
    dormant on `day`: those without a balance in its status (a dormant card has none). What one
    month-end's dormant share needs when `after` is on or before the dormancy window's start:
    the pack reads this per month-end, not every statement and payment since the cards
    opened."""
    st, p, c = schema.card_statements.c, schema.payments.c, schema.cards.c
    owing = select(S.account_id).where(
        S.as_of == day,
        S.account_type == "card",
        (S.outstanding_principal + S.overdue_amount) != 0,
    )
    candidates = select(c.card_id).where(c.card_id.not_in(owing))
    statements = st.card_id.not_in(owing)
    if scope is not None and not isinstance(scope, True_):
        candidates = candidates.where(c.customer_id.in_(_in_scope(scope)))
        statements = st.card_id.in_(candidates)
    bought = (
        select(st.card_id.label("card_id"), func.max(st.statement_date).label("date"))
        .where(st.purchases > 0, st.statement_date > after, st.statement_date <= day,
               statements)
        .group_by(st.card_id)
    )  # fmt: skip
    paid = (
        select(p.account_id.label("card_id"), func.max(p.value_date).label("date"))
        .where(p.account_id.in_(candidates),
               p.reverses_payment_id.is_(None), p.value_date > after, p.value_date <= day)
        .group_by(p.account_id)
    )  # fmt: skip
    types = {"card_id": pl.String, "date": pl.Date}
    both = pl.concat([frame(source, bought, types), frame(source, paid, types)])
    return both.group_by("card_id").agg(pl.col("date").max())


def holders(conn: Connection, days: Sequence[date]) -> pl.DataFrame:
    """as_of, customer_id, collector (username), team: who held each customer on each of
    `days` — the last reassignment-log row up to the day (its business date, or its time
    before the next midnight UTC for rows without one), in the order they were logged; a
    release leaves the customer with the collector released, any other change with the new
    one (collections' attribution, `collections.rules.kpis.last_holders`). A small table (one
    row per allocation), read on the SQLAlchemy connection."""
    log = REASSIGNMENTS_TABLE.c
    rows = conn.execute(
        select(log.customer_id, log.kind, log.from_user_id, log.to_user_id, log.at,
               log.business_date).order_by(log.at, log.log_id)
    ).all()  # fmt: skip
    schema_ = {"customer_id": pl.String, "kind": pl.String, "from_user_id": pl.Int64,
               "to_user_id": pl.Int64, "_on": pl.Date}  # fmt: skip
    frame_ = pl.DataFrame(
        [
            (r[0], r[1], r[2], r[3], stored_date(r[5]) if r[5] is not None else r[4].date())
            for r in rows
        ],
        schema=schema_,
        orient="row",
    ).with_row_index("_order")
    people = pl.DataFrame(
        [tuple(r) for r in conn.execute(select(users.c.user_id, users.c.username, users.c.team))],
        schema={"user_id": pl.Int64, "collector": pl.String, "team": pl.String},
        orient="row",
    ).with_columns(pl.col("team").fill_null("(no team)"))
    holder = pl.when(pl.col("kind") == "release").then("from_user_id").otherwise("to_user_id")
    parts = [
        frame_.filter(pl.col("_on") <= day)
        .sort("_order")
        .group_by("customer_id")
        .agg(holder.last().alias("user_id"))
        .drop_nulls("user_id")
        .with_columns(pl.lit(day, pl.Date).alias("as_of"))
        for day in days
    ]
    held = pl.concat(parts) if parts else pl.DataFrame(schema={"customer_id": pl.String,
                                                               "user_id": pl.Int64,
                                                               "as_of": pl.Date})  # fmt: skip
    return held.join(people, on="user_id", how="inner").select(
        "as_of", "customer_id", "collector", "team"
    )
