"""Step tables (`policy.rating.Step`) as polars expressions: the points of the highest step a
value reaches, one vectorised `when` chain instead of a per-row search."""

from __future__ import annotations

import polars as pl

from postloan.policy.rating import Step


def step_points(value: pl.Expr, steps: list[Step]) -> pl.Expr:
    """Points of the highest step `value` reaches (steps rise strictly from 0, validated by
    the policy); a null value scores the first step's points."""
    points = pl.lit(steps[0].points, dtype=pl.Int64)
    for step in steps[1:]:
        points = (
            pl.when(value >= step.at_least).then(pl.lit(step.points, pl.Int64)).otherwise(points)
        )
    return points
