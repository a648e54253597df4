"""Hysteresis (LY-4 stability): the tier a customer holds on a date from the tier they qualify
for and the state carried from the stored date before.

- No state (first date, or absent on the date before): the qualified tier.
- Qualified for the held tier or a worse one: the qualified tier at once (risk is not kept
  waiting), streak reset.
- Qualified for a better tier: the streak of consecutive dates qualifying better grows; the held
  tier stays until the streak reaches `upgrade_after_dates`, then the customer moves to the
  worst tier qualified for over the streak, and the streak restarts.

The held tier is never better than the qualified one, so never better than the floors. A date's
result depends only on the state of the date before and the date's qualified tiers: replaying
dates in order from the stored state gives the same rows.
"""

from __future__ import annotations

import polars as pl

from postloan.tiering.rules.classify import tier_of_rank, tier_rank
from postloan.tiering.rules.frames import STATE


def hold(qualified: pl.DataFrame, before: pl.DataFrame, upgrade_after: int) -> pl.DataFrame:
    """`qualified` (customer_id, qualified_tier) of one date and the STATE of the date before →
    STATE of this date, one row per customer of `qualified`."""
    joined = qualified.select("customer_id", "qualified_tier").join(
        before, on="customer_id", how="left"
    ).with_columns(
        tier_rank("qualified_tier").alias("q"),
        tier_rank(pl.col("tier")).alias("held"),
        tier_rank(pl.col("streak_worst")).alias("worst"),
    )  # fmt: skip
    better = pl.col("held").is_not_null() & (pl.col("q") < pl.col("held"))
    grown = pl.col("streak").fill_null(0) + 1
    worst = pl.max_horizontal(pl.col("worst"), pl.col("q"))  # nulls ignored
    moves = better & (grown >= upgrade_after)
    return joined.select(
        "customer_id",
        tier_of_rank(
            pl.when(moves).then(worst).when(better).then(pl.col("held")).otherwise(pl.col("q"))
        ).alias("tier"),
        pl.when(better & ~moves).then(grown).otherwise(0).cast(pl.Int64).alias("streak"),
        pl.when(better & ~moves).then(tier_of_rank(worst)).otherwise(None)
        .cast(pl.String).alias("streak_worst"),
    ).cast(STATE)  # type: ignore[arg-type]  # fmt: skip
