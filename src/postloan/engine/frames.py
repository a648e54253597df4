"""The engine's input and output frames: column names and Polars types.

Every amount is an integer number of minor units (分); every date a `pl.Date`. Account ids are
the contract's `loan_id` / `card_id`, here called `account_id` for both. `postloan.contract`
turns contract files into these frames; the store (later) loads them straight from SQL.
`LOANS`, `INSTALMENTS` and the `conform` / `empty` helpers are the ledger's
(`postloan.ledger.frames`), re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

# The ledger's frames (loans in, instalments out) and the schema helpers live in
# `postloan.ledger.frames`, below the engine; re-exported here with the engine's own frames.
from postloan.ledger.frames import INSTALMENTS, LOANS, Schema, conform, empty

__all__ = [
    "ACCOUNT_STATUS",
    "CARDS",
    "INSTALMENTS",
    "LOANS",
    "PAYMENTS",
    "STATEMENTS",
    "Portfolio",
    "Schema",
    "conform",
    "empty",
]

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
