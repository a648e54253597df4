"""Portfolio summary (资产质量概览): accounts and balances by bucket and by five-category class.

Pure functions over an account-status frame (amounts in minor units).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from postloan.policy import Policy

RISK_CLASSES = ["normal", "special_mention", "substandard", "doubtful", "loss"]
NON_PERFORMING = ["substandard", "doubtful", "loss"]


@dataclass(frozen=True)
class PortfolioSummary:
    by_bucket: pl.DataFrame  # bucket, accounts, outstanding_principal, overdue_amount
    by_class: pl.DataFrame  # risk_class, accounts, outstanding_principal
    accounts: int
    outstanding_principal: int
    overdue_amount: int
    dpd30_ratio: float  # outstanding principal with DPD >= 30 / total outstanding principal
    npl_ratio: float  # (substandard + doubtful + loss) balance / total balance


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def summarise(status: pl.DataFrame, policy: Policy) -> PortfolioSummary:
    """Summarise one date's account status, buckets and classes in policy order."""
    bucket_order = pl.DataFrame({"bucket": [b.name for b in policy.dpd_buckets]})
    by_bucket = bucket_order.join(
        status.group_by("bucket").agg(
            pl.len().alias("accounts"),
            pl.col("outstanding_principal").sum(),
            pl.col("overdue_amount").sum(),
        ),
        on="bucket",
        how="left",
        maintain_order="left",
    ).fill_null(0)
    by_class = (
        pl.DataFrame({"risk_class": RISK_CLASSES})
        .join(
            status.group_by("risk_class").agg(
                pl.len().alias("accounts"), pl.col("outstanding_principal").sum()
            ),
            on="risk_class",
            how="left",
            maintain_order="left",
        )
        .fill_null(0)
    )
    total = int(status["outstanding_principal"].sum() or 0)
    dpd30 = int(status.filter(pl.col("dpd") >= 30)["outstanding_principal"].sum() or 0)
    npl = int(
        status.filter(pl.col("risk_class").is_in(NON_PERFORMING))["outstanding_principal"].sum()
        or 0
    )
    return PortfolioSummary(
        by_bucket=by_bucket,
        by_class=by_class,
        accounts=status.height,
        outstanding_principal=total,
        overdue_amount=int(status["overdue_amount"].sum() or 0),
        dpd30_ratio=_ratio(dpd30, total),
        npl_ratio=_ratio(npl, total),
    )
