"""Tiering's read models for the API, the workbench, the report and the export: each filtered
by a caller's customer scope clause (`access.scope.customer_scope_clause`) where it reads
customers' rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select
from sqlalchemy.sql.elements import ColumnElement

from postloan.store import schema
from postloan.store.values import stored_date
from postloan.tiering.queries import (
    CHURN_DATES_TABLE,
    CHURN_TABLE,
    DISPOSALS_TABLE,
    frame,
    has_table,
)
from postloan.tiering.rules.review import DISPOSED
from postloan.tiering.rules.whatif import FIGURES
from postloan.tiering.tables import tier_assignments, tier_dates

T = tier_assignments.c
EXPORT_COLUMNS = ("customer_id", "as_of", "purpose_class", "credit_status", "capacity", "tier",
                  "rfm_r", "rfm_f", "rfm_m", "rfm_segment", "abc", "need",
                  "need_signals")  # fmt: skip


def latest_date(conn: Connection) -> date | None:
    found = conn.execute(select(func.max(tier_dates.c.as_of))).scalar()
    return None if found is None else stored_date(found)


def is_tier_date(conn: Connection, day: date) -> bool:
    return (
        conn.execute(select(tier_dates.c.as_of).where(tier_dates.c.as_of == day)).first()
        is not None
    )


def month_before(conn: Connection, day: date) -> date | None:
    """The last tiered date at least 30 days before `day`, else the first tiered date."""
    d = tier_dates.c.as_of
    found = conn.execute(select(func.max(d)).where(d <= day - timedelta(days=30))).scalar()
    if found is None:
        found = conn.execute(select(func.min(d))).scalar()
    return None if found is None else stored_date(found)


def tier_dates_between(conn: Connection, start: date, end: date) -> list[date]:
    query = select(tier_dates.c.as_of).where(tier_dates.c.as_of.between(start, end))
    return sorted(stored_date(d) for d in conn.execute(query).scalars())


def _scoped(query: Any, scope: ColumnElement[bool]) -> Any:
    cu = schema.customers
    return query.select_from(tier_assignments.join(cu, cu.c.customer_id == T.customer_id)).where(
        scope
    )


def customer_history(conn: Connection, customer_id: str, limit: int) -> list[Any]:
    """The customer's rows, newest first (the caller has checked the scope)."""
    query = (select(tier_assignments).where(T.customer_id == customer_id)
             .order_by(T.as_of.desc()).limit(limit))  # fmt: skip
    return list(conn.execute(query).all())


def tiers_on(conn: Connection, day: date, scope: ColumnElement[bool]) -> pl.DataFrame:
    """customer_id, tier, balance, npl_balance, rfm scores and segment of `day` in scope."""
    types = {"customer_id": pl.String, "tier": pl.String, "balance": pl.Int64,
             "npl_balance": pl.Int64, "rfm_r": pl.Int64, "rfm_f": pl.Int64, "rfm_m": pl.Int64,
             "rfm_segment": pl.String}  # fmt: skip
    query = _scoped(select(*(T[n] for n in types)), scope).where(T.as_of == day)
    return frame(conn, query, types)


def history_between(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> pl.DataFrame:
    types = {"as_of": pl.Date, "customer_id": pl.String, "tier": pl.String,
             "balance": pl.Int64, "npl_balance": pl.Int64, "max_dpd": pl.Int64,
             "worst_class": pl.String}  # fmt: skip
    query = _scoped(select(*(T[n] for n in types)), scope).where(T.as_of.between(start, end))
    return frame(conn, query, types)


FEATURES = {"as_of": pl.Date, "customer_id": pl.String, "max_dpd": pl.Int64,
            "times_late": pl.Int64, "credit_status": pl.String, "capacity": pl.String,
            "rfm_r": pl.Int64, "rfm_f": pl.Int64, "rfm_m": pl.Int64,
            "npl_balance": pl.Int64}  # fmt: skip


def features_between(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> pl.DataFrame:
    """What the decision tree learns from (FEATURES) on the tiered dates in [start, end]."""
    query = _scoped(select(*(T[n] for n in FEATURES)), scope).where(T.as_of.between(start, end))
    return frame(conn, query, FEATURES)


def figures_between(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> pl.DataFrame:
    """What a what-if replays (`rules.whatif.FIGURES`) on the tiered dates in [start, end]."""
    cu = schema.customers.c
    columns = [cu[n] if n in ("monthly_income", "total_liabilities") else T[n] for n in FIGURES]
    query = _scoped(select(*columns), scope).where(T.as_of.between(start, end))
    return frame(conn, query, FIGURES)


def state_before(conn: Connection, day: date, scope: ColumnElement[bool]) -> pl.DataFrame:
    """The hysteresis state stored for the last tiered date before `day`, in scope."""
    before = conn.execute(select(func.max(tier_dates.c.as_of)).where(tier_dates.c.as_of < day))
    found = before.scalar()
    types = {"customer_id": pl.String, "tier": pl.String, "streak": pl.Int64,
             "streak_worst": pl.String}  # fmt: skip
    if found is None:
        return pl.DataFrame(schema=types)
    query = _scoped(select(*(T[n] for n in types)), scope).where(T.as_of == stored_date(found))
    return frame(conn, query, types)


def churn_between(conn: Connection, start: date, end: date) -> tuple[pl.DataFrame, list[date]]:
    """Churn's identification rows and dates in [start, end] (empty without the churn area)."""
    types = {"as_of": pl.Date, "customer_id": pl.String}
    if not has_table(conn, "churn_identified"):
        return pl.DataFrame(schema=types), []
    c = CHURN_TABLE.c
    rows = frame(conn, select(c.as_of, c.customer_id).where(c.as_of.between(start, end)), types)
    d = CHURN_DATES_TABLE.c
    days = [stored_date(v) for v in
            conn.execute(select(d.as_of).where(d.as_of.between(start, end))).scalars()]  # fmt: skip
    return rows, days


def _approved(upto: date) -> Any:
    """account_id, customer_id, effective_on: each account's first approved disposal on or
    before `upto` (an account disposed twice counts from the first)."""
    d = DISPOSALS_TABLE.c
    return (select(d.account_id, func.min(d.customer_id).label("customer_id"),
                   func.min(d.effective_on).label("effective_on"))
            .where(d.status == "approved", d.effective_on <= upto)
            .group_by(d.account_id).subquery())  # fmt: skip


def disposed_between(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write-offs and disposals for the loss rate (`rules.review.losses`), in scope: DISPOSED
    (each customer's first approved disposal effective on or before `end`), and per tiered
    date of [start, end] and customer the outstanding principal of its accounts already out
    of the pool then (as_of, customer_id, removed_balance). Empty without the table."""
    removed_types = {"as_of": pl.Date, "customer_id": pl.String, "removed_balance": pl.Int64}
    if not has_table(conn, "account_disposals"):
        return pl.DataFrame(schema=DISPOSED), pl.DataFrame(schema=removed_types)
    first = _approved(end)
    cu = schema.customers
    in_scope = cu.c.customer_id == first.c.customer_id
    per_customer = (select(first.c.customer_id, func.min(first.c.effective_on))
                    .select_from(first.join(cu, in_scope)).where(scope)
                    .group_by(first.c.customer_id))  # fmt: skip
    s = schema.account_status.c
    removed = (
        select(s.as_of, s.customer_id, func.sum(s.outstanding_principal))
        .select_from(schema.account_status.join(first, first.c.account_id == s.account_id)
                     .join(cu, cu.c.customer_id == s.customer_id)
                     .join(tier_dates, tier_dates.c.as_of == s.as_of))
        .where(s.as_of.between(start, end), first.c.effective_on <= s.as_of, scope)
        .group_by(s.as_of, s.customer_id)
    )  # fmt: skip
    return frame(conn, per_customer, DISPOSED), frame(conn, removed, removed_types)


def export_frame(conn: Connection, day: date) -> pl.DataFrame:
    types = {
        n: (
            pl.Date
            if n == "as_of"
            else pl.Int64
            if n.startswith("rfm_") and n != "rfm_segment"
            else pl.String
        )
        for n in EXPORT_COLUMNS
    }
    query = select(*(T[n] for n in types)).where(T.as_of == day).order_by(T.customer_id)
    return frame(conn, query, types)
