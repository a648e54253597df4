"""The frames tiering's rules take and give (column → polars type). Amounts are minor units."""

from __future__ import annotations

import polars as pl

# Account status of the dates tiered (the core's `account_status` columns the rules read).
STATUS = {
    "as_of": pl.Date, "account_id": pl.String, "customer_id": pl.String,
    "account_type": pl.String, "outstanding_principal": pl.Int64, "dpd": pl.Int64,
    "risk_class": pl.String, "cumulative_overdue_periods": pl.Int64,
    "last_payment_date": pl.Date,
}  # fmt: skip
LOANS = {
    "loan_id": pl.String, "customer_id": pl.String, "principal": pl.Int64,
    "annual_rate": pl.Int64, "term_months": pl.Int64, "disbursement_date": pl.Date,
    "first_due_date": pl.Date, "purpose": pl.String,
}  # fmt: skip
CUSTOMERS = {
    "customer_id": pl.String, "branch_id": pl.String, "monthly_income": pl.Int64,
    "total_liabilities": pl.Int64,
}  # fmt: skip
# Card statements with their card's customer (RFM's card activity).
STATEMENTS = {
    "customer_id": pl.String, "card_id": pl.String, "statement_date": pl.Date,
    "due_date": pl.Date, "minimum_due": pl.Int64, "purchases": pl.Int64,
}  # fmt: skip
# Collections' cases (read by SQL from its table): open on D when opened_on ≤ D < closed_on.
CASES = {"customer_id": pl.String, "opened_on": pl.Date, "closed_on": pl.Date}

# One row per customer and date: what classification and tiering found (before hysteresis).
CLASSIFIED = {
    "as_of": pl.Date, "customer_id": pl.String, "branch_id": pl.String,
    "purpose_class": pl.String, "credit_status": pl.String, "capacity": pl.String,
    "balance": pl.Int64, "npl_balance": pl.Int64, "max_dpd": pl.Int64, "times_late": pl.Int64,
    "instalments": pl.Int64, "worst_class": pl.String, "open_case": pl.Boolean,
    "qualified_tier": pl.String,
}  # fmt: skip
# The hysteresis state carried from one stored date to the next.
STATE = {"customer_id": pl.String, "tier": pl.String, "streak": pl.Int64,
         "streak_worst": pl.String}  # fmt: skip
RFM = {
    "as_of": pl.Date, "customer_id": pl.String, "recency_days": pl.Int64,
    "frequency": pl.Int64, "rfm_r": pl.Int64, "rfm_f": pl.Int64, "rfm_m": pl.Int64,
    "rfm_segment": pl.String,
}  # fmt: skip

CLASS_RANK = {"normal": 0, "special_mention": 1, "substandard": 2, "doubtful": 3, "loss": 4}
NPL_CLASSES = ("substandard", "doubtful", "loss")  # non-performing (不良): 次级、可疑、损失
