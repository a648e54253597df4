"""The engine's input and output frames: column names and Polars types.

Every amount is an integer number of minor units (分); every date a `pl.Date`. Account ids are
the contract's `loan_id` / `card_id`, here called `account_id` for both. `postloan.contract`
turns contract files into these frames; the store (later) loads them straight from SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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

CARDS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "credit_limit": pl.Int64,
    "open_date": pl.Date,
    "close_date": pl.Date,  # nullable
}

STATEMENTS = {
    "account_id": pl.String,
    "statement_date": pl.Date,
    "due_date": pl.Date,
    "statement_balance": pl.Int64,
    "minimum_due": pl.Int64,
    "purchases": pl.Int64,
}

PAYMENTS = {
    "payment_id": pl.String,
    "account_id": pl.String,
    "value_date": pl.Date,
    "amount": pl.Int64,
    "reverses_payment_id": pl.String,  # nullable; a reversal row cancels that payment
}

# account-status, as DATA_CONTRACT "Outputs" lists it (amounts in minor units here; the export
# writes them with 2 decimals).
ACCOUNT_STATUS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "account_type": pl.String,  # loan | card
    "as_of": pl.Date,
    "outstanding_principal": pl.Int64,
    "overdue_principal": pl.Int64,
    "overdue_interest": pl.Int64,
    "overdue_amount": pl.Int64,
    "dpd": pl.Int32,
    "bucket": pl.String,
    "risk_class": pl.String,
    "consecutive_overdue_periods": pl.Int32,
    "cumulative_overdue_periods": pl.Int32,
    "last_payment_date": pl.Date,
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


@dataclass(frozen=True)
class Portfolio:
    """Everything the engine needs, as frames in the schemas above."""

    loans: pl.DataFrame = field(default_factory=lambda: empty(LOANS))
    instalments: pl.DataFrame = field(default_factory=lambda: empty(INSTALMENTS))
    cards: pl.DataFrame = field(default_factory=lambda: empty(CARDS))
    statements: pl.DataFrame = field(default_factory=lambda: empty(STATEMENTS))
    payments: pl.DataFrame = field(default_factory=lambda: empty(PAYMENTS))

    def conformed(self) -> Portfolio:
        return Portfolio(
            loans=conform(self.loans, LOANS),
            instalments=conform(self.instalments, INSTALMENTS),
            cards=conform(self.cards, CARDS),
            statements=conform(self.statements, STATEMENTS),
            payments=conform(self.payments, PAYMENTS),
        )
