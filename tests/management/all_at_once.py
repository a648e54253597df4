"""The pack computed from every month-end's status read at once — how `service.build` computed
it before it walked the month-ends one at a time (`management.stream`). Kept here only as an
independent reference for the streamed pack: one frame of all month-ends, "ever" flags and
vintages from cumulative maxima over it, cash attributed to month-ends by an as-of join,
dormant cards from every card transaction up to the end. Its memory grows with the months; the
tests run it on small histories."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.sql.elements import True_

from postloan.management import queries, service
from postloan.management.rules import pack as rules
from postloan.policy import Policy
from postloan.store import schema


def card_activity(source: Any, upto: date, scope: ColumnElement[bool]) -> pl.DataFrame:
    """Customer-initiated card transactions up to `upto` (a payment that is not a reversal, a
    statement with purchases): card_id, date — one row per card and date."""
    st, p, c = schema.card_statements.c, schema.payments.c, schema.cards.c
    bought = select(st.card_id, st.statement_date.label("date")).where(
        st.purchases > 0, st.statement_date <= upto
    )
    paid = select(p.account_id.label("card_id"), p.value_date.label("date")).where(
        p.account_id.in_(select(c.card_id)), p.reverses_payment_id.is_(None), p.value_date <= upto
    )
    types = {"card_id": pl.String, "date": pl.Date}
    both = pl.concat([queries.frame(source, bought, types), queries.frame(source, paid, types)])
    if not isinstance(scope, True_):
        both = both.join(queries.cards(source, scope).select("card_id"), on="card_id", how="semi")
    return both.unique()


def vintage(status: pl.DataFrame, loans: pl.DataFrame, thresholds: list[int]) -> pl.DataFrame:
    """The vintage curves from every month-end's loan rows at once (each loan's first
    month-end at DPD ≥ n among them), up to the last month-end in `status`."""
    day = pl.col("as_of")
    number = day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64)
    last = status.select(number.max()).item()
    hits = rules.vintage_hits(status, loans, thresholds)
    return rules.vintage_curves(hits, rules.vintage_sizes(loans), last, thresholds)


def build(
    conn: Connection, policy: Policy, start: date, end: date, scope: ColumnElement[bool]
) -> service.Pack:
    """The pack for the month-ends in [start, end] in `scope`, all month-ends at once."""
    _, history = service._history(conn, end)
    months = history.filter(pl.col("as_of") >= start)
    m = policy.management
    custs, loans = service._attributes(conn, conn, policy, scope)
    days = history["as_of"].to_list()
    status = queries.status_rows(conn, days, scope)
    tiers = queries.tiers(conn, days) if queries.has_table(conn, "tier_assignments") else None
    disposed = service._disposed(conn, conn, end)
    held = service._holders(conn, days)
    flagged = rules.with_flags(service._attach(status, custs, loans, tiers, disposed, held), m)
    buckets = [b.name for b in policy.dpd_buckets]
    paid = (
        queries.cash(conn, days[0], end, scope)
        .sort("value_date")
        .join_asof(
            history.select("as_of").sort("as_of"),
            left_on="value_date",
            right_on="as_of",
            strategy="forward",
        )
        .group_by("account_id", "as_of")
        .agg(pl.col("amount").sum().alias("cash"))
    )
    status_cards = flagged.filter(pl.col("account_type") == "card").select(
        pl.col("account_id").alias("card_id"),
        "as_of",
        (pl.col("outstanding_principal") + pl.col("overdue_amount")).alias("balance"),
    )
    wanted = months.select("as_of", "month")
    parts = service.Parts(
        sums=rules.aggregates(flagged, m),
        roll=rules.roll_matrix(flagged, history, buckets, rules.DIMENSIONS),
        back=rules.recovered(flagged, history, paid),
        disbursed=rules.disbursement(service._loan_dims(loans, custs), months),
        dormant=rules.dormant_share(
            queries.cards(conn, scope),
            card_activity(conn, end, scope),
            status_cards,
            months,
            m.dormant_months,
        ),
        vintage=vintage(
            flagged.filter(pl.col("account_type") == "loan").select("account_id", "as_of", "dpd"),
            loans,
            m.vintage_dpd,
        ),
        runs=status.join(wanted, on="as_of")
        .group_by("month")
        .agg(pl.col("run_id").unique().sort())
        .sort("month"),
        areas=service.area_figures(conn, policy, wanted, scope),
        cycle=service._cycle(conn, conn, policy, months, scope, (custs, loans, disposed)),
    )
    return service.assemble(policy, start, end, history, months, parts)
