"""Strategy rules (OD-9), pure: the holdout draw, the strategy each stage entry gets, and the
outcome of each stage spell and their totals by strategy (the store side: `strategies`)."""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl

from postloan.policy import Policy

_SCALE = float(2**64)
STAGE_ENTRIES = {
    "customer_id": pl.String, "case_opened_on": pl.Date, "entered_on": pl.Date,
    "stage": pl.String,
}  # fmt: skip


def holdout_draw(customer_id: str, case_opened_on: date, seed: int) -> float:
    """The case's uniform draw in [0, 1): the same for the same (customer, episode, seed)."""
    key = f"{seed}|{customer_id}|{case_opened_on.isoformat()}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


def plan(policy: Policy) -> pl.DataFrame:
    stages = policy.strategies.stages
    return pl.DataFrame(
        {
            "stage": list(stages),
            "champion": [p.champion for p in stages.values()],
            "challenger": [p.challenger for p in stages.values()],
            "holdout_share": [p.holdout_share for p in stages.values()],
        },
        schema={"stage": pl.String, "champion": pl.String, "challenger": pl.String,
                "holdout_share": pl.Float64},
    )  # fmt: skip


def choose_strategies(entries: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """customer_id, case_opened_on, entered_on, stage, strategy, arm — for every stage entry
    (STAGE_ENTRIES) whose stage has strategies in the policy (a "none" stage has none)."""
    seed = policy.strategies.seed
    # One hash per case episode (not per stage entry): hashlib has no vectorised form, and the
    # episodes without a strategy yet are the day's new cases — a few hundred on a daily run.
    episodes = entries.select("customer_id", "case_opened_on").unique()
    draws = [holdout_draw(c, o, seed) for c, o in episodes.iter_rows()]
    episodes = episodes.with_columns(pl.Series("draw", draws, dtype=pl.Float64))
    held_out = pl.col("challenger").is_not_null() & (pl.col("draw") < pl.col("holdout_share"))
    return (
        entries.join(episodes, on=["customer_id", "case_opened_on"], how="left")
        .join(plan(policy), on="stage", how="inner")
        .select(
            "customer_id", "case_opened_on", "entered_on", "stage",
            pl.when(held_out).then(pl.col("challenger")).otherwise(pl.col("champion"))
            .alias("strategy"),
            pl.when(held_out).then(pl.lit("challenger")).otherwise(pl.lit("champion"))
            .alias("arm"),
        )
        .sort("customer_id", "case_opened_on", "entered_on")
    )  # fmt: skip


SPELLS = {
    "customer_id": pl.String, "entered_on": pl.Date, "stage": pl.String, "strategy": pl.String,
    "arm": pl.String, "left_on": pl.Date, "closed_on": pl.Date, "close_reason": pl.String,
    "overdue_at_entry": pl.Int64,
}  # fmt: skip
PAID = {"customer_id": pl.String, "payment_id": pl.String, "value_date": pl.Date,
        "amount": pl.Int64, "reverses_payment_id": pl.String}  # fmt: skip


def spell_outcomes(spells: pl.DataFrame, paid: pl.DataFrame, end: date) -> pl.DataFrame:
    """Per spell: cured (the case closed cured when the spell ended, by `end`) and recovered
    (payments dated after entry up to the spell's end or `end`, reversals as of `end`
    excluded, at most the overdue amount at entry). In: SPELLS, PAID."""
    undone = paid.filter(pl.col("reverses_payment_id").is_not_null())["reverses_payment_id"]
    counted = paid.filter(
        pl.col("reverses_payment_id").is_null() & ~pl.col("payment_id").is_in(undone.implode())
    )
    until = pl.min_horizontal(pl.col("left_on").fill_null(end), pl.lit(end))
    keyed = spells.with_row_index("spell")
    recovered = (
        keyed.select("spell", "customer_id", "entered_on", until.alias("until"))
        .join(counted, on="customer_id", how="inner")
        .filter((pl.col("value_date") > pl.col("entered_on"))
                & (pl.col("value_date") <= pl.col("until")))
        .group_by("spell")
        .agg(pl.col("amount").sum().alias("paid"))
    )  # fmt: skip
    cured = (
        (pl.col("close_reason") == "cured")
        & (pl.col("closed_on") == pl.col("left_on"))
        & (pl.col("closed_on") <= end)
    ).fill_null(False)
    return (
        keyed.join(recovered, on="spell", how="left")
        .with_columns(
            cured.alias("cured"),
            # Money beyond the overdue amount pays balances not yet due: not a recovery.
            pl.min_horizontal(pl.col("paid").fill_null(0), pl.col("overdue_at_entry")).alias(
                "recovered"
            ),
        )
        .drop("spell", "paid")
    )


def strategy_totals(outcomes: pl.DataFrame) -> pl.DataFrame:
    """`spell_outcomes` by stage, strategy and arm: spells, cured, cure_rate, overdue_at_entry,
    recovered and recovery_rate (None without an overdue amount at entry)."""
    return (
        outcomes.group_by("stage", "strategy", "arm")
        .agg(
            pl.len().alias("spells"),
            pl.col("cured").sum().alias("cured"),
            pl.col("overdue_at_entry").sum().alias("overdue_at_entry"),
            pl.col("recovered").sum().alias("recovered"),
        )
        .with_columns(
            (pl.col("cured") / pl.col("spells")).alias("cure_rate"),
            pl.when(pl.col("overdue_at_entry") > 0)
            .then(pl.col("recovered") / pl.col("overdue_at_entry"))
            .alias("recovery_rate"),
        )
        .sort("stage", "strategy")
    )
