"""The contract files' columns (DATA_CONTRACT "Inputs"), their kinds and engine names.

A column is (contract name, engine name, kind, required); kinds are parsed by
`postloan.contract.codec`. Engine frames call both `loan_id` and `card_id` `account_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Column:
    name: str  # in the file
    engine: str  # in the frame
    kind: str  # text | amount | rate | integer | date | bool
    required: bool = False
    dtype: type[pl.DataType] | None = None  # integer columns: the frame's integer type


def _c(
    name: str,
    kind: str = "text",
    required: bool = False,
    engine: str | None = None,
    dtype: type[pl.DataType] | None = None,
) -> Column:
    return Column(name, engine or name, kind, required, dtype)


FILES: dict[str, tuple[Column, ...]] = {
    "customers": (
        _c("customer_id", required=True),
        _c("name", required=True),
        _c("id_number"),
        _c("id_type"),
        _c("phone"),
        _c("address"),
        _c("occupation"),
        _c("industry"),
        _c("monthly_income", "amount"),
        _c("total_assets", "amount"),
        _c("total_liabilities", "amount"),
        _c("bureau_score", "integer", dtype=pl.Int32),
        _c("branch_id"),
        _c("consent_marketing", "bool"),
        _c("consent_date", "date"),
    ),
    "loans": (
        _c("loan_id", required=True, engine="account_id"),
        _c("customer_id", required=True),
        _c("principal", "amount", required=True),
        _c("annual_rate", "rate", required=True),
        _c("term_months", "integer", required=True, dtype=pl.Int32),
        _c("repayment_method", required=True),
        _c("disbursement_date", "date", required=True),
        _c("first_due_date", "date"),
        _c("product"),
        _c("purpose"),
        _c("guarantee"),
        _c("rate_type"),
        _c("borrower_type"),
        _c("currency"),
        _c("branch_id"),
        _c("officer_id"),
    ),
    "schedules": (
        _c("loan_id", required=True, engine="account_id"),
        _c("period", "integer", required=True, dtype=pl.Int32),
        _c("due_date", "date", required=True),
        _c("principal_due", "amount", required=True),
        _c("interest_due", "amount", required=True),
    ),
    "cards": (
        _c("card_id", required=True, engine="account_id"),
        _c("customer_id", required=True),
        _c("credit_limit", "amount", required=True),
        _c("open_date", "date", required=True),
        _c("close_date", "date"),
    ),
    "card_statements": (
        _c("card_id", required=True, engine="account_id"),
        _c("statement_date", "date", required=True),
        _c("due_date", "date", required=True),
        _c("statement_balance", "amount", required=True),
        _c("minimum_due", "amount", required=True),
        _c("purchases", "amount"),
    ),
    "payments": (
        _c("payment_id", required=True),
        _c("account_id", required=True),
        _c("value_date", "date", required=True),
        _c("amount", "amount", required=True),
        _c("channel"),
        _c("reverses_payment_id"),
    ),
    "events": (
        _c("event_id", required=True),
        _c("customer_id", required=True),
        _c("account_id"),
        _c("date", "date", required=True),
        _c("type", required=True),
        _c("amount", "amount"),
        _c("detail"),
    ),
}

_DTYPES: dict[str, type[pl.DataType]] = {
    "text": pl.String,
    "amount": pl.Int64,
    "rate": pl.Int64,
    "integer": pl.Int64,
    "date": pl.Date,
    "bool": pl.Boolean,
}


def engine_dtype(column: Column) -> type[pl.DataType]:
    return column.dtype or _DTYPES[column.kind]


Schema = dict[str, pl.DataType | type[pl.DataType]]


def engine_schema(kind: str) -> Schema:
    """The engine-side schema of a file kind (what `read_contract_tables` returns)."""
    return {c.engine: engine_dtype(c) for c in FILES[kind]}


def widen(schema: dict[str, type[pl.DataType]]) -> Schema:
    """A frames.* schema typed as `frames.conform` / `frames.empty` declare it."""
    return dict(schema)
