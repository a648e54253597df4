"""Portfolio summary (资产质量概览): accounts and balances by bucket and by five-category class.

Pure functions over an account-status frame (amounts in minor units).

Written-off (核销) and disposed (资产处置) accounts are out of the performing pool from the date
their disposal takes effect (`collections.disposals`): from then on their balances leave the
totals, the buckets, the classes and the DPD30+ and NPL ratios, and are reported apart
(`written_off`). Their status rows still exist — the debt is still owed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from postloan.policy import Policy

if TYPE_CHECKING:
    from sqlalchemy import Connection

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
    # Out of the performing pool: per disposal kind (write_off | asset_disposal): accounts,
    # outstanding_principal, overdue_amount — still owed, no longer counted above.
    written_off: pl.DataFrame = field(default_factory=lambda: _removed(pl.DataFrame()))
    written_off_accounts: int = 0
    written_off_principal: int = 0


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


DISPOSAL_KINDS = ["write_off", "asset_disposal"]


def _removed(rows: pl.DataFrame) -> pl.DataFrame:
    """Per disposal kind: accounts, outstanding principal, overdue amount."""
    kinds = pl.DataFrame({"kind": DISPOSAL_KINDS})
    if not rows.height:
        return kinds.with_columns(
            pl.lit(0, pl.UInt32).alias("accounts"),
            pl.lit(0, pl.Int64).alias("outstanding_principal"),
            pl.lit(0, pl.Int64).alias("overdue_amount"),
        )
    totals = rows.group_by("kind").agg(
        pl.len().alias("accounts"),
        pl.col("outstanding_principal").sum(),
        pl.col("overdue_amount").sum(),
    )
    return kinds.join(totals, on="kind", how="left", maintain_order="left").fill_null(0)


def split_disposed(
    status: pl.DataFrame, disposed: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(performing rows, removed rows with their `kind`): a status row is removed when its
    account has a disposal (account_id, kind, effective_on) effective on or before its as_of."""
    if disposed is None or not disposed.height:
        return status, status.clear().with_columns(pl.lit(None, pl.String).alias("kind"))
    marked = status.join(
        disposed.select("account_id", "kind", "effective_on"), on="account_id", how="left"
    ).with_columns(
        (pl.col("effective_on").is_not_null() & (pl.col("effective_on") <= pl.col("as_of")))
        .alias("_out")
    )  # fmt: skip
    removed = marked.filter(pl.col("_out")).drop("_out", "effective_on")
    kept = marked.filter(~pl.col("_out")).drop("_out", "effective_on", "kind")
    return kept, removed


def summarise(
    status: pl.DataFrame, policy: Policy, disposed: pl.DataFrame | None = None
) -> PortfolioSummary:
    """Summarise one date's account status, buckets and classes in policy order.

    `disposed` (account_id, kind, effective_on; `collections.disposals.disposed_accounts`): the
    accounts written off or disposed — out of every figure from their effective date, and
    reported in `written_off`."""
    status, removed = split_disposed(status, disposed)
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
        written_off=_removed(removed),
        written_off_accounts=removed.height,
        written_off_principal=int(removed["outstanding_principal"].sum() or 0),
    )


def stored_disposals(conn: Connection, as_of: date) -> pl.DataFrame:
    """The disposals in force on `as_of`, from the store (for `summarise`)."""
    from postloan.collections.disposals import disposed_accounts

    return disposed_accounts(conn, as_of)
