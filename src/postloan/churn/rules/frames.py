"""The churn rules' frames: column names and Polars types (amounts in minor units)."""

from __future__ import annotations

import polars as pl

# The rules of CH-2 in the contract's order (DATA_CONTRACT "Outputs").
RULES: tuple[str, ...] = (
    "loan_overdue",
    "card_default",
    "closed_not_reapplied",
    "transferred_out",
    "inactive",
)

# Customers' events (DATA_CONTRACT "events"); `amount` in minor units (income_change: the new
# monthly income).
EVENTS = {"customer_id": pl.String, "date": pl.Date, "type": pl.String, "amount": pl.Int64}

# One row per customer identified on a date: the rules that hold and the evidence (JSON).
IDENTIFIED = {
    "as_of": pl.Date,
    "customer_id": pl.String,
    **dict.fromkeys(RULES, pl.Boolean),
    "evidence": pl.String,
}

# What the customers' files say that grading reads.
CUSTOMERS = {
    "customer_id": pl.String,
    "branch_id": pl.String,
    "industry": pl.String,
    "monthly_income": pl.Int64,
    "total_liabilities": pl.Int64,
}

# The customer's accounts on D as account status stored them (open accounts only).
STATUS = {
    "as_of": pl.Date,
    "customer_id": pl.String,
    "balance": pl.Int64,  # outstanding principal
    "overdue_amount": pl.Int64,
    "max_dpd": pl.Int32,
    "max_consecutive": pl.Int32,  # consecutive overdue periods, worst account
    "open_accounts": pl.Int32,
}

# IDENTIFIED + grading: degree (CH-4), grade (CH-5), the suggested reason (CH-3).
GRADED = {
    **IDENTIFIED,
    "branch_id": pl.String,
    "balance": pl.Int64,
    "overdue_amount": pl.Int64,
    "max_dpd": pl.Int32,
    "open_accounts": pl.Int32,
    "degree": pl.String,
    "grade": pl.Int32,
    "suggested_reason": pl.String,
    "signals": pl.String,  # JSON: what grading and the reason read (docs/churn.md)
}
