"""The weighted indicator score (RK-1) per customer per date, over whole frames.

Input (`SCORE_INPUTS`), one row per (as_of, customer_id) with accounts on the date:
worst DPD and times late (the most overdue periods of one account), the overdue amount, the
customer file's income, assets, liabilities and industry, the latest `income_change` in the
lookback (amount and date; null: none) and the churn grade stored on the date (null: none).

Each indicator scores 0-100 points (see `policy.risk`); the score is the weighted average,
rounded half up to an integer, and falls into a grade. Missing data scores as the first
step (no evidence of risk): an unknown debt ratio is 0 points, not "average" — the score is
about what the lender knows, and the file's completeness is a data-quality report's job.
"""

from __future__ import annotations

import polars as pl

from postloan.policy.risk import INDICATORS, Score
from postloan.risk.rules.steps import step_points

SCORE_INPUTS = {
    "as_of": pl.Date, "customer_id": pl.String, "worst_dpd": pl.Int64, "times_late": pl.Int64,
    "overdue_amount": pl.Int64, "monthly_income": pl.Int64, "total_assets": pl.Int64,
    "total_liabilities": pl.Int64, "industry": pl.String, "income_reported": pl.Int64,
    "income_reported_on": pl.Date, "churn_grade": pl.Int64,
}  # fmt: skip

PARTS = tuple(f"{name}_points" for name in INDICATORS)


def debt_ratio(liabilities: pl.Expr, assets: pl.Expr) -> pl.Expr:
    """Liabilities / assets in whole percent (floor); liabilities without assets: 100 %+
    (negative equity as far as the file shows), no liabilities known: null."""
    return (
        pl.when(liabilities.is_null())
        .then(None)
        .when(assets.is_null() | (assets <= 0))
        .then(pl.when(liabilities > 0).then(pl.lit(1_000, pl.Int64)).otherwise(0))
        .otherwise((liabilities * 100) // assets)
    )


def income_drop_pct(on_file: pl.Expr, reported: pl.Expr) -> pl.Expr:
    """Percent drop (floor) of the reported income against the file's; no drop or unknown: 0."""
    return (
        pl.when(
            on_file.is_not_null() & (on_file > 0) & reported.is_not_null() & (reported < on_file)
        )
        .then(((on_file - reported) * 100) // on_file)
        .otherwise(0)
        .fill_null(0)
    )


def score(frame: pl.DataFrame, cfg: Score) -> pl.DataFrame:
    """`frame` (SCORE_INPUTS) with debt_ratio, income_drop_pct, the four indicators' points,
    the score and its grade added. Vectorised: one select over the whole frame."""
    bins = cfg.bins
    recent = pl.col("income_reported_on").is_not_null() & (
        (pl.col("as_of") - pl.col("income_reported_on")).dt.total_days() < cfg.income_lookback_days
    )
    with_inputs = frame.with_columns(
        industry_listed=pl.col("industry").is_in(list(cfg.industry.listed)).fill_null(False),
        debt_ratio=debt_ratio(pl.col("total_liabilities"), pl.col("total_assets")),
        income_drop_pct=income_drop_pct(
            pl.col("monthly_income"), pl.when(recent).then(pl.col("income_reported"))
        ),
    )
    churn = pl.lit(0, pl.Int64)
    for grade, points in bins.churn_grade_points.items():
        churn = (
            pl.when(pl.col("churn_grade") == int(grade))
            .then(pl.lit(points, pl.Int64))
            .otherwise(churn)
        )
    parts = with_inputs.with_columns(
        credit_points=pl.max_horizontal(
            step_points(pl.col("worst_dpd"), bins.worst_dpd_points),
            step_points(pl.col("times_late"), bins.times_late_points),
        ),
        capacity_points=pl.max_horizontal(
            step_points(pl.col("debt_ratio"), bins.debt_ratio_points),
            step_points(pl.col("income_drop_pct"), bins.income_drop_points),
        ),
        industry_points=pl.when(pl.col("industry_listed"))
        .then(pl.lit(cfg.industry.listed_points, pl.Int64))
        .otherwise(0),
        churn_points=churn,
    )
    total = sum(cfg.weights[name] for name in INDICATORS)
    weighted = sum(pl.col(f"{name}_points") * cfg.weights[name] for name in INDICATORS)
    rounded = (weighted * 2 + total) // (2 * total)  # half up, in integers
    scored = parts.with_columns(score=pl.lit(0, pl.Int64) + rounded)
    return scored.with_columns(grade=grade_of(pl.col("score"), cfg))


def grade_of(value: pl.Expr, cfg: Score) -> pl.Expr:
    grade = pl.lit(cfg.grades[0].name)
    for g in cfg.grades[1:]:
        grade = pl.when(value >= g.at_least).then(pl.lit(g.name)).otherwise(grade)
    return grade
