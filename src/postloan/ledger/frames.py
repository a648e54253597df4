"""The ledger's frames: loans in, instalments out (column names and Polars types).

Every amount is an integer number of minor units (分); every date a `pl.Date`. These are the
schemas `generate_instalments` reads and writes. They live here, below the engine, so the ledger
needs nothing from `postloan.engine`; `postloan.engine.frames` re-exports them with the engine's
other frames (cards, statements, payments, account status) and `Portfolio`.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

LOANS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "principal": pl.Int64,  # minor units
    "annual_rate": pl.Int64,  # units of 1e-8 (money.RATE_SCALE): 0.0435 -> 4_350_000
    "term_months": pl.Int32,
    "repayment_method": pl.String,  # equal_installment | equal_principal | interest_only
    "disbursement_date": pl.Date,
    "first_due_date": pl.Date,  # null -> disbursement_date + 1 month (month-end rolled)
}

# One row per instalment (a loan's schedule), generated or imported.
INSTALMENTS = {
    "account_id": pl.String,
    "period": pl.Int32,  # 1..n
    "due_date": pl.Date,
    "principal_due": pl.Int64,
    "interest_due": pl.Int64,
}


Schema = Mapping[str, pl.DataType | type[pl.DataType]]


def empty(schema: Schema) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def conform(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    """Select and cast the schema's columns (missing nullable ones become null)."""
    cols = []
    for name, dtype in schema.items():
        if name in frame.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(cols)
