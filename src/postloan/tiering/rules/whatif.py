"""LY-4 what-if: candidate cut-offs replayed on the stored history, beside the stored tiers,
without touching them.

The stored rows keep every figure a tier is derived from (worst DPD, times late, instalments,
worst five-category class, open case, RFM scores), and the customer file holds income and
liabilities; so the candidate's tiers are re-derived date by date from those figures — the
step's own rules (`classify.qualify`, `tree.tree_floor`, `hysteresis.hold`), not a copy. The
hysteresis starts from the state stored for the date before the window (the customers' tiers
as they stood when the candidate would have come into force). The loop is over dates, each
date set-based over its customers.
"""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy
from postloan.tiering.rules.classify import qualify
from postloan.tiering.rules.frames import CLASS_RANK, STATE
from postloan.tiering.rules.hysteresis import hold
from postloan.tiering.rules.tree import tree_floor

# The stored figures a replay reads per customer and date (tier_assignments + the customer file).
FIGURES = {
    "as_of": pl.Date, "customer_id": pl.String, "tier": pl.String, "max_dpd": pl.Int64,
    "times_late": pl.Int64, "instalments": pl.Int64, "worst_class": pl.String,
    "open_case": pl.Boolean, "rfm_r": pl.Int64, "rfm_f": pl.Int64, "rfm_m": pl.Int64,
    "monthly_income": pl.Int64, "total_liabilities": pl.Int64,
}  # fmt: skip
REPLAYED = {"as_of": pl.Date, "customer_id": pl.String, "tier": pl.String}


def replay(figures: pl.DataFrame, before: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """REPLAYED: each (date, customer) of `figures` (FIGURES) tiered under `policy`, in date
    order from the hysteresis STATE `before`."""
    state = before.cast(STATE)  # type: ignore[arg-type]
    out: list[pl.DataFrame] = []
    for day in figures["as_of"].unique().sort():
        per = figures.filter(pl.col("as_of") == day).with_columns(
            pl.col("worst_class").replace_strict(CLASS_RANK, return_dtype=pl.Int64)
            .alias("class_rank")
        )  # fmt: skip
        found = tree_floor(qualify(per, policy), policy)
        state = hold(found, state, policy.tiering.upgrade_after_dates)
        out.append(state.select(pl.lit(day, dtype=pl.Date).alias("as_of"), "customer_id",
                                "tier"))  # fmt: skip
    if not out:
        return pl.DataFrame(schema=REPLAYED)
    return pl.concat(out).sort("as_of", "customer_id").cast(REPLAYED)  # type: ignore[arg-type]


def with_status(figures: pl.DataFrame, status: pl.DataFrame) -> pl.DataFrame:
    """FIGURES with what a policy changes in them taken from `status` (the engine's account
    status of the same dates under that policy): worst DPD, times late and the worst
    five-category class per customer and date, as `classify.classify` derives them. The rest
    (capacity inputs, RFM scores, the open-case floor) stays as stored. Customers of
    `figures` without status rows keep their stored figures."""
    worst = {rank: name for name, rank in CLASS_RANK.items()}
    per = (
        status.with_columns(
            pl.col("risk_class").replace_strict(CLASS_RANK, return_dtype=pl.Int64)
            .alias("class_rank")
        )
        .group_by("as_of", "customer_id")
        .agg(
            pl.col("dpd").max().cast(pl.Int64).alias("_max_dpd"),
            pl.col("cumulative_overdue_periods").sum().cast(pl.Int64).alias("_times_late"),
            pl.col("class_rank").max().alias("_rank"),
        )
    )  # fmt: skip
    return (
        figures.join(per, on=["as_of", "customer_id"], how="left")
        .with_columns(
            pl.coalesce("_max_dpd", "max_dpd").alias("max_dpd"),
            pl.coalesce("_times_late", "times_late").alias("times_late"),
            pl.coalesce(pl.col("_rank").replace_strict(worst, default=None,
                                                       return_dtype=pl.String),
                        "worst_class").alias("worst_class"),
        )
        .select(list(FIGURES))
    )  # fmt: skip


def tier_counts(replayed: pl.DataFrame, balances: pl.DataFrame) -> pl.DataFrame:
    """as_of, tier, customers, balance: each tier's customers and their outstanding principal
    (`balances`: as_of, customer_id, balance) per date."""
    return (
        replayed.join(balances, on=["as_of", "customer_id"], how="left")
        .group_by("as_of", "tier")
        .agg(pl.len().cast(pl.Int64).alias("customers"),
             pl.col("balance").fill_null(0).sum().cast(pl.Int64).alias("balance"))
        .sort("as_of", "tier")
    )  # fmt: skip
