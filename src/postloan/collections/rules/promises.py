"""Promise rules, pure: a promise kept or broken from the payments, and each open case's
priority from its stage and the promises broken since it opened (`collections.promises`
module doc).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.collections.cases import STAGE_RANK

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


OPEN_CASES = {"case_id": pl.Int64, "customer_id": pl.String, "stage": pl.String,
              "opened_on": pl.Date}  # fmt: skip
BROKEN = {"customer_id": pl.String, "decided_on": pl.Date}


def case_priorities(open_cases: pl.DataFrame, broken: pl.DataFrame) -> pl.DataFrame:
    """case_id, priority: the stage's rank (`cases.STAGE_RANK`, 0 for a stage it does not
    name) plus `BROKEN_WEIGHT` for each promise of the customer broken on or after the day the
    case opened (OPEN_CASES, BROKEN: the broken promises with their decision day)."""
    since = (
        open_cases.select("case_id", "customer_id", "opened_on")
        .join(broken.drop_nulls("decided_on"), on="customer_id", how="inner")
        .filter(pl.col("opened_on").is_null() | (pl.col("decided_on") >= pl.col("opened_on")))
        .group_by("case_id")
        .agg(pl.len().cast(pl.Int64).alias("broken"))
    )
    rank = pl.col("stage").replace_strict(STAGE_RANK, default=0, return_dtype=pl.Int64)
    return open_cases.join(since, on="case_id", how="left", maintain_order="left").select(
        "case_id", (rank + BROKEN_WEIGHT * pl.col("broken").fill_null(0)).alias("priority")
    )
