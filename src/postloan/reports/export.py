"""account-status as the contract writes it: amounts with exactly 2 decimals, ISO dates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from postloan import __version__
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


def write_account_status(
    status: pl.DataFrame, out: Path, *, as_of: date, policy_version: str
) -> Path:
    """Write CSV or Parquet by the file's extension, and record how it was computed.

    The contract fixes the file's columns, so the policy version (and the date and row count)
    go to a sidecar `<file>.meta.json`; Parquet files also carry them as key-value metadata.
    Returns the sidecar's path.
    """
    frame = account_status_contract(status)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "kind": "account-status",
        "as_of": as_of.isoformat(),
        "policy_version": policy_version,
        "rows": frame.height,
        "postloan_version": __version__,
    }
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out, metadata={f"postloan.{k}": str(v) for k, v in meta.items()})
    else:
        frame.write_csv(out)
    sidecar = out.with_name(out.name + ".meta.json")
    sidecar.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return sidecar
