"""Small helpers shared by the loan and card computations."""

from __future__ import annotations

import polars as pl


def asof(
    left: pl.DataFrame,
    right: pl.DataFrame,
    *,
    left_on: str,
    right_on: str,
    by: str,
    strategy: str,
) -> pl.DataFrame:
    """As-of join within groups `by`; both sides must be sorted by (by, on).

    `forward`: the first right row whose key is >= the left key (the first on ties);
    `backward`: the last right row whose key is <= the left key (the last on ties).
    """
    return left.join_asof(
        right,
        left_on=left_on,
        right_on=right_on,
        by=by,
        strategy=strategy,  # type: ignore[arg-type]
        check_sortedness=False,
    )


def clamp(expr: pl.Expr, low: pl.Expr | int, high: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(pl.min_horizontal(expr, high), low)


def late_counters(frame: pl.DataFrame, late: pl.Expr) -> pl.DataFrame:
    """Per history, running counts for the period counters (frame sorted by hk, idx).

    `cum_late` = late periods up to and including this one; `last_on_time` = index of the
    latest on-time period up to this one (0 when none) — so for the latest period k due before
    D, consecutive = k − last_on_time and cumulative = cum_late.
    """
    return frame.with_columns(late.alias("late")).with_columns(
        pl.col("late").cast(pl.Int32).cum_sum().over("hk").alias("cum_late"),
        pl.when(~pl.col("late"))
        .then(pl.col("idx"))
        .otherwise(None)
        .forward_fill()
        .over("hk")
        .fill_null(0)
        .alias("last_on_time"),
    )


def last_per_key(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Keep the last row of each run of equal (hk, key) in a frame sorted by (hk, key, ...)."""
    nxt_hk = pl.col("hk").shift(-1)
    nxt_key = pl.col(key).shift(-1)
    return frame.filter(nxt_hk.is_null() | (nxt_hk != pl.col("hk")) | (nxt_key != pl.col(key)))
