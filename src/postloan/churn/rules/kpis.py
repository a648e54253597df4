"""Churn KPIs for a period (SPEC KPI-2, issue 12 "KPIs"): churn rate per rule by customers and
by balance, per branch and month; the pool's size and flows (entries, exits by reason).

口径 (what each figure is):
- a month's figures are taken on its last churn date in the period (month-end snapshot);
- churn rate by customers = customers identified by the rule ÷ customers with an account
  opened on or before that date (every relationship the lender has had, closed ones too —
  rule (c) counts customers whose accounts are all closed);
- churn rate by balance = outstanding principal on that date of the accounts of customers
  identified by the rule ÷ outstanding principal of every open account;
- "any" is a customer identified by at least one rule (a customer may meet several);
- entries / exits: episodes entered / left on a date in the month (within the period), exits
  by reason (`rules.pool.EXIT_REASONS`); pool size at the snapshot.
- win-back rate: measured once win-back measures exist (issue 12, measures) — reported as null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.churn.rules.frames import RULES
from postloan.churn.rules.pool import EXIT_REASONS

ALL_BRANCHES = "*"  # the row of all branches together
RATE_DIGITS = 6


@dataclass(frozen=True)
class ChurnKpis:
    date_from: date
    date_to: date
    rates: pl.DataFrame  # month, as_of, branch_id, base and per-rule figures
    flows: pl.DataFrame  # month, branch_id, pool_size, entries, exits, exits_<reason>
    win_back_rate: float | None = None  # measures (issue 12) will fill it


def month_ends(dates: list[date]) -> list[date]:
    """The last of `dates` in each month."""
    last: dict[tuple[int, int], date] = {}
    for day in sorted(dates):
        last[(day.year, day.month)] = day
    return sorted(last.values())


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m")


def _rate(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then((part / whole).round(RATE_DIGITS)).otherwise(None)


def churn_kpis(
    start: date,
    end: date,
    snapshots: list[date],
    identified: pl.DataFrame,
    base: pl.DataFrame,
    episodes: pl.DataFrame,
) -> ChurnKpis:
    """`identified`: pool rows on the snapshots (as_of, customer_id, branch_id, rules,
    balance); `base`: per snapshot and branch, customers and outstanding; `episodes`: entered
    or left in the period (customer_id, branch_id, entered_on, left_on, exit_reason)."""
    with_any = identified.with_columns(pl.any_horizontal(*RULES).alias("any"))
    parts = []
    for rule in (*RULES, "any"):
        hit = with_any.filter(pl.col(rule))
        parts.append(
            hit.group_by("as_of", "branch_id").agg(
                pl.len().alias(f"{rule}_customers"),
                pl.col("balance").sum().alias(f"{rule}_balance"),
            )
        )
    rates = base.select("as_of", "branch_id", "customers", "outstanding")
    for part in parts:
        rates = rates.join(part, on=["as_of", "branch_id"], how="full", coalesce=True)
    rates = _with_all_branches(rates.fill_null(0), ["as_of"])
    rates = rates.with_columns(
        *[_rate(pl.col(f"{k}_customers"), pl.col("customers")).alias(f"{k}_rate_customers")
          for k in (*RULES, "any")],
        *[_rate(pl.col(f"{k}_balance"), pl.col("outstanding")).alias(f"{k}_rate_balance")
          for k in (*RULES, "any")],
    ).with_columns(_month("as_of").alias("month")).sort("as_of", "branch_id")  # fmt: skip
    rates = rates.select("month", "as_of", "branch_id", pl.exclude("month", "as_of", "branch_id"))
    return ChurnKpis(start, end, rates, _flows(start, end, snapshots, identified, episodes))


def _with_all_branches(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    numbers = [name for name in frame.columns if name not in (*keys, "branch_id")]
    total = (
        frame.group_by(keys)
        .agg(pl.col(numbers).sum())
        .with_columns(pl.lit(ALL_BRANCHES).alias("branch_id"))
    )
    return pl.concat([frame.with_columns(pl.col("branch_id").fill_null("")),
                      total.select(frame.columns)])  # fmt: skip


def _flows(
    start: date, end: date, snapshots: list[date], identified: pl.DataFrame,
    episodes: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    size = (
        identified.group_by("as_of", "branch_id")
        .agg(pl.len().alias("pool_size"))
        .with_columns(_month("as_of").alias("month"))
        .drop("as_of")
    )
    entered = (
        episodes.filter(pl.col("entered_on").is_between(start, end))
        .with_columns(_month("entered_on").alias("month"))
        .group_by("month", "branch_id")
        .agg(pl.len().alias("entries"))
    )
    left = episodes.filter(
        pl.col("left_on").is_not_null() & pl.col("left_on").is_between(start, end)
    ).with_columns(_month("left_on").alias("month"))
    exits = left.group_by("month", "branch_id").agg(
        pl.len().alias("exits"),
        *[(pl.col("exit_reason") == reason).sum().alias(f"exits_{reason}")
          for reason in EXIT_REASONS],
    )  # fmt: skip
    months = pl.DataFrame({"month": [d.strftime("%Y-%m") for d in _months(start, end)]})
    branches = pl.concat([size.select("branch_id"), episodes.select("branch_id")]).unique()
    grid = months.join(branches, how="cross")
    flows = (
        grid.join(size, on=["month", "branch_id"], how="left", nulls_equal=True)
        .join(entered, on=["month", "branch_id"], how="left", nulls_equal=True)
        .join(exits, on=["month", "branch_id"], how="left", nulls_equal=True)
        .fill_null(0)
    )
    flows = _with_all_branches(flows, ["month"])
    if not snapshots:
        flows = flows.with_columns(pl.lit(0, dtype=pl.UInt32).alias("pool_size"))
    return flows.sort("month", "branch_id").select(
        "month", "branch_id", "pool_size", "entries", "exits",
        *[f"exits_{reason}" for reason in EXIT_REASONS],
    )  # fmt: skip


def _months(start: date, end: date) -> list[date]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
