"""Churn's figures for the management pack (`Area.kpi_figures`, issue 16 item 2): the churn
rate by rule (a)–(e) and "any", by customers and by balance, per month-end and branch — the
same figures as `postloan report churn` (`report.churn_report`, 口径 in `rules.kpis`), in the
pack's long shape. Called by the management area through the registry; churn imports nothing
of management."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection

from postloan.area import KpiFigures, kpi_definition
from postloan.churn.report import MAX_DAYS, churn_report
from postloan.churn.rules.frames import RULES
from postloan.churn.rules.kpis import ALL_BRANCHES
from postloan.policy import Policy

VERSION = 1  # raise whenever the 口径 below changes
_RULE_NAMES = {
    "loan_overdue": ("(a)贷款逾期", "(a) loan overdue"),
    "card_default": ("(b)信用卡违约", "(b) card default"),
    "closed_not_reapplied": ("(c)结清未续贷", "(c) closed, not re-applied"),
    "transferred_out": ("(d)转出", "(d) transferred out"),
    "inactive": ("(e)不活跃", "(e) inactive"),
    "any": ("任一规则", "any rule"),
}


def _definitions() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rule in (*RULES, "any"):
        zh, en = _RULE_NAMES.get(rule, (rule, rule))
        out[f"churn_{rule}_customers"] = kpi_definition(
            VERSION, f"流失率（{zh}，客户数）", f"churn rate ({en}, customers)",
            f"customers identified by {rule} on the month's last churn date",
            "customers with an account opened by then (closed ones too)", "count",
            period="month_end",
        )  # fmt: skip
        out[f"churn_{rule}_balance"] = kpi_definition(
            VERSION, f"流失率（{zh}，余额）", f"churn rate ({en}, balance)",
            f"outstanding principal of the customers identified by {rule}",
            "outstanding principal of every open account", "amount", period="month_end",
        )  # fmt: skip
    return out


def kpi_figures(
    conn: Connection, policy: Policy, months: list[tuple[str, date]], scope: ColumnElement[bool]
) -> KpiFigures:
    """The churn rates of the pack's months in `scope` (a customers clause)."""
    definitions = _definitions()
    if not months:
        return KpiFigures(definitions, pl.DataFrame())
    end = months[-1][1]
    first = date.fromisoformat(months[0][0] + "-01")
    start = max(first, end - timedelta(days=MAX_DAYS))
    left_out = () if start == first else (f"churn rates before {start} (a span of 3 years)",)
    rates = churn_report(conn, start, end, scope).rates.filter(
        pl.col("month").is_in([m for m, _ in months])
    )
    parts = []
    for rule in (*RULES, "any"):
        for basis, whole in (("customers", "customers"), ("balance", "outstanding")):
            parts.append(
                rates.select(
                    "month",
                    "as_of",
                    pl.lit(f"churn_{rule}_{basis}").alias("kpi"),
                    pl.when(pl.col("branch_id") == ALL_BRANCHES)
                    .then(pl.lit("portfolio"))
                    .otherwise(pl.lit("branch"))
                    .alias("dimension"),
                    pl.when(pl.col("branch_id") == ALL_BRANCHES)
                    .then(pl.lit("all"))
                    .when(pl.col("branch_id") == "")
                    .then(pl.lit("(none)"))
                    .otherwise(pl.col("branch_id"))
                    .alias("value"),
                    pl.col(f"{rule}_{basis}").cast(pl.Float64).alias("numerator"),
                    pl.col(whole).cast(pl.Float64).alias("denominator"),
                    pl.when(pl.col(whole) > 0)
                    .then(pl.col(f"{rule}_{basis}") / pl.col(whole))
                    .alias("ratio"),
                    pl.lit(None, pl.Float64).alias("low"),
                    pl.lit(None, pl.Float64).alias("high"),
                    pl.lit(VERSION, pl.Int64).alias("definition_version"),
                )
            )
    return KpiFigures(definitions, pl.concat(parts) if parts else pl.DataFrame(), left_out)
