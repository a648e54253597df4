"""account-status as the contract writes it: amounts with exactly 2 decimals, ISO dates."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from postloan.contract import format_amount
from postloan.engine.frames import ACCOUNT_STATUS

AMOUNT_COLUMNS = (
    "outstanding_principal",
    "overdue_principal",
    "overdue_interest",
    "overdue_amount",
)


def account_status_contract(status: pl.DataFrame) -> pl.DataFrame:
    """Engine account-status (minor units) -> contract columns, in contract order."""
    return status.select(
        [
            format_amount(pl.col(c)).alias(c) if c in AMOUNT_COLUMNS else pl.col(c)
            for c in ACCOUNT_STATUS
        ]
    )


def write_account_status(status: pl.DataFrame, out: Path) -> None:
    """Write CSV or Parquet by the file's extension."""
    frame = account_status_contract(status)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out)
    else:
        frame.write_csv(out)
