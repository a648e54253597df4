"""Buckets and five-category classes from DPD, as policy expressions over whole frames."""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy


def bucket_expr(policy: Policy, dpd: pl.Expr) -> pl.Expr:
    """The policy bucket whose [min_dpd, max_dpd] holds dpd."""
    expr: pl.Expr | None = None
    for bucket in policy.dpd_buckets:
        cond = dpd >= bucket.min_dpd
        if bucket.max_dpd is not None:
            cond = cond & (dpd <= bucket.max_dpd)
        expr = (pl.when(cond) if expr is None else expr.when(cond)).then(pl.lit(bucket.name))  # type: ignore[attr-defined]
    assert expr is not None, "a validated policy has at least one bucket"
    return expr.otherwise(None)  # type: ignore[attr-defined]


def _class_for(policy: Policy, account_type: str, dpd: pl.Expr) -> pl.Expr:
    floors = policy.classification.floors_for(account_type)
    grace = policy.classification.technical_grace_days
    return (
        pl.when(dpd > floors.loss)
        .then(pl.lit("loss"))
        .when(dpd > floors.doubtful)
        .then(pl.lit("doubtful"))
        .when(dpd > floors.substandard)
        .then(pl.lit("substandard"))
        .when((dpd > floors.special_mention) & (dpd > grace))
        .then(pl.lit("special_mention"))
        .otherwise(pl.lit("normal"))
    )


def risk_class_expr(policy: Policy, dpd: pl.Expr, account_type: pl.Expr) -> pl.Expr:
    """Five-category class floor from DPD: loans and cards have their own floors."""
    return (
        pl.when(account_type == "card")
        .then(_class_for(policy, "card", dpd))
        .otherwise(_class_for(policy, "loan", dpd))
    )
