"""Collections' figures for the management pack (`Area.kpi_figures`, issue 16 item 2): KPI-1
for each of the pack's months — the period from the month's first day to its month-end
(`kpis.collection_kpis`: opening = the last stored date before it) — for the portfolio, each
team and each collector, and the cure rate by bucket; the same figures as `postloan report
collections` for that month, in the pack's long shape.

KPI-1's lines are attributed to collectors, not to a customer scope: a caller with a branch or
narrower scope gets none here (the area's own report shows them the lines they may see)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection
from sqlalchemy.sql.elements import True_

from postloan.area import KpiFigures, kpi_definition
from postloan.collections.kpis import collection_kpis
from postloan.policy import Policy

VERSION = 1  # raise whenever a 口径 below changes (the formulas: `collections.kpis`)


def _definition(zh: str, en: str, numerator: str, denominator: str, basis: str) -> dict[str, Any]:
    return kpi_definition(VERSION, zh, en, numerator, denominator, basis)


# KPI id → (column of the KPI table, numerator column, denominator column, definition)
_FROM_TABLE: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "collections_recovery_rate": (
        "recovery_rate", "cash_recovered", "opening_overdue",
        _definition("清收率", "recovery rate", "cash recovered on the opening overdue pool "
                    "(per account at most its opening overdue)", "the pool's opening overdue "
                    "amount", "amount"),
    ),
    "collections_reduction_rate": (
        "reduction_rate", "reduction", "opening_overdue",
        _definition("压降率", "overdue reduction rate", "opening − closing overdue of the "
                    "pool (cash, write-off, restructuring, transfer, other)", "the pool's "
                    "opening overdue amount", "amount"),
    ),
    "collections_cost_ratio": (
        "cost_ratio", "cost", "cash_recovered",
        _definition("催收成本率", "collection cost ratio", "legal costs + contacts × unit cost",
                    "amount recovered (pool cash + recoveries after write-off)", "amount"),
    ),
    "collections_promise_kept_rate": (
        "promise_kept_rate", "promises_kept", "promises_broken",
        _definition("承诺兑现率", "promise-kept rate", "promises decided kept in the month",
                    "promises decided kept or broken in the month", "count"),
    ),
    "collections_contacts_per_case": (
        "contacts_per_case", "contacts", "cases",
        _definition("案均联系次数", "contacts per case", "contacts made in the month",
                    "cases open at some time in the month", "count"),
    ),
}  # fmt: skip
CURE = "collections_cure_rate"
DEFINITIONS: dict[str, dict[str, Any]] = {
    **{k: v[3] for k, v in _FROM_TABLE.items()},
    CURE: _definition("出催率（按账龄组）", "cure rate by bucket", "opening principal of the "
                      "bucket's accounts current at the month-end (not disposed of)",
                      "opening principal of the bucket's accounts", "amount"),
}  # fmt: skip
_LEVEL = {"portfolio": "portfolio", "team": "team", "collector": "collector"}


def _month_rows(month: str, as_of: date, table: pl.DataFrame, cure: pl.DataFrame) -> pl.DataFrame:
    parts = []
    recovered = pl.col("cash_recovered") + pl.col("recovered_after_writeoff")
    for kpi, (ratio, numerator, denominator, _) in _FROM_TABLE.items():
        den = (
            recovered
            if kpi == "collections_cost_ratio"
            else pl.col("promises_kept") + pl.col("promises_broken")
            if kpi == "collections_promise_kept_rate"
            else pl.col(denominator)
        )
        parts.append(
            table.select(
                pl.lit(kpi).alias("kpi"),
                pl.col("level").replace_strict(_LEVEL).alias("dimension"),
                pl.col("key").cast(pl.String).alias("value"),
                pl.col(numerator).cast(pl.Float64).alias("numerator"),
                den.cast(pl.Float64).alias("denominator"),
                pl.col(ratio).cast(pl.Float64).alias("ratio"),
            )
        )
    parts.append(
        cure.select(
            pl.lit(CURE).alias("kpi"),
            pl.lit("bucket").alias("dimension"),
            pl.col("bucket").alias("value"),
            pl.col("cured_principal").cast(pl.Float64).alias("numerator"),
            pl.col("opening_principal").cast(pl.Float64).alias("denominator"),
            pl.col("cure_rate").cast(pl.Float64).alias("ratio"),
        )
    )
    return pl.concat(parts).with_columns(
        pl.lit(month).alias("month"),
        pl.lit(as_of).alias("as_of"),
        pl.lit(None, pl.Float64).alias("low"),
        pl.lit(None, pl.Float64).alias("high"),
        pl.lit(VERSION, pl.Int64).alias("definition_version"),
    )


def kpi_figures(
    conn: Connection, policy: Policy, months: list[tuple[str, date]], scope: ColumnElement[bool]
) -> KpiFigures:
    """KPI-1 per month of the pack (head-office scope only; see the module doc)."""
    if not isinstance(scope, True_):
        return KpiFigures(
            DEFINITIONS,
            pl.DataFrame(),
            ("collections KPIs: whole-book callers only (postloan report collections gives "
             "each caller the lines they may see)",),
        )  # fmt: skip
    frames = []
    for month, as_of in months:
        found = collection_kpis(conn, date.fromisoformat(month + "-01"), as_of, policy)
        frames.append(_month_rows(month, as_of, found.table, found.cure_by_bucket))
    return KpiFigures(DEFINITIONS, pl.concat(frames) if frames else pl.DataFrame())
