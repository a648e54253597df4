"""LY-3 ABC classification (ABC分类, seed 004 "基于客户的价值"): customers ranked by their value
contribution on D, cut by the cumulative share of the total value (Pareto).

- **Value** (minor units): a year's interest on what the customer owes on D — per loan in status,
  ⌊outstanding principal × annual rate⌋ at the contract rate; per card, ⌊balance × the policy's
  `card_annual_rate`⌋ (a card carries no contract rate). Interest is what a customer brings the
  lender; a balance alone would put a zero-rate loan among the most valuable.
- **Ahead**: the value of the customers with a *strictly* greater value on D, so equal values
  always get the same class, whatever their ids (a class is a judgement of the customer, not of
  where its id sorts).
- **Class**: A while ahead < `a_max_share_percent` of the total value, else B while ahead <
  `b_max_share_percent`, else C; a customer with no value is C (it contributes nothing). The
  customer that crosses a cut-off is in the class below it: the largest customer is always A
  (when it has any value). Integer comparisons only: ahead × 100 < percent × total.
"""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy

RATE_SCALE = 100_000_000  # annual rates are integers of 1e-8
ABC = {"as_of": pl.Date, "customer_id": pl.String, "value": pl.Int64, "abc": pl.String}


def value_of(status: pl.DataFrame, loans: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """as_of, customer_id, value (module doc) per customer of `status` (STATUS; LOANS)."""
    card_rate = policy.tiering.abc.card_annual_rate
    rates = loans.select(pl.col("loan_id").alias("account_id"), "annual_rate")
    return (
        status.join(rates, on="account_id", how="left")
        .with_columns(
            pl.when(pl.col("account_type") == "card").then(pl.lit(card_rate, dtype=pl.Int64))
            .otherwise(pl.col("annual_rate").fill_null(0)).alias("rate")
        )
        .group_by("as_of", "customer_id")
        .agg((pl.col("outstanding_principal") * pl.col("rate") // RATE_SCALE).sum()
             .cast(pl.Int64).alias("value"))
    )  # fmt: skip


def classify_abc(values: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """ABC rows, one per (as_of, customer_id) of `values` (as_of, customer_id, value)."""
    a = policy.tiering.abc
    value = pl.col("value").clip(0, None)
    per_value = (
        values.with_columns(value.alias("v"))
        .group_by("as_of", "v")
        .agg(pl.col("v").sum().alias("same"))
        .sort(["as_of", "v"], descending=[False, True])
        .with_columns(
            (pl.col("same").cum_sum().over("as_of") - pl.col("same")).alias("ahead"),
            pl.col("same").sum().over("as_of").alias("total"),
        )
    )
    ahead100, total = pl.col("ahead") * 100, pl.col("total")
    return (
        values.with_columns(value.alias("v"))
        .join(per_value, on=["as_of", "v"], how="left")
        .with_columns(
            pl.when(pl.col("v") <= 0).then(pl.lit("C"))
            .when(ahead100 < a.a_max_share_percent * total).then(pl.lit("A"))
            .when(ahead100 < a.b_max_share_percent * total).then(pl.lit("B"))
            .otherwise(pl.lit("C")).alias("abc")
        )
        .select(list(ABC))
        .cast(ABC)  # type: ignore[arg-type]
        .sort("as_of", "customer_id")
    )  # fmt: skip


def abc(status: pl.DataFrame, loans: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """ABC rows of the customers of `status`: their value and class."""
    return classify_abc(value_of(status, loans, policy), policy)
