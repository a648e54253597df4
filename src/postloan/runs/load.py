"""Load what the engine needs from the store as Polars frames (the fast path, not ORM objects).

Generated schedules are recomputed from the loans' terms (deterministic, faster than reading
tens of millions of rows) and imported schedules override them per loan.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from postloan.engine.frames import CARDS, LOANS, PAYMENTS, STATEMENTS, Portfolio
from postloan.ledger import generate_instalments, override_instalments
from postloan.store import bulk


def load_portfolio(conn: Any) -> Portfolio:
    loans = bulk.read(
        conn,
        "SELECT loan_id AS account_id, customer_id, principal, annual_rate, term_months,"
        " repayment_method, disbursement_date, first_due_date FROM loans ORDER BY loan_id",
        LOANS,
    )
    imported = bulk.read(
        conn,
        "SELECT loan_id AS account_id, period, due_date, principal_due, interest_due"
        " FROM schedules ORDER BY loan_id, period",
        {"period": pl.Int32, "due_date": pl.Date, "principal_due": pl.Int64,
         "interest_due": pl.Int64},
    )  # fmt: skip
    instalments = generate_instalments(loans)
    if imported.height:
        instalments = override_instalments(instalments, imported)
    cards = bulk.read(
        conn,
        "SELECT card_id AS account_id, customer_id, credit_limit, open_date, close_date"
        " FROM cards ORDER BY card_id",
        CARDS,
    )
    statements = bulk.read(
        conn,
        "SELECT card_id AS account_id, statement_date, due_date, statement_balance, minimum_due,"
        " purchases FROM card_statements ORDER BY card_id, statement_date",
        STATEMENTS,
    )
    payments = bulk.read(
        conn,
        "SELECT payment_id, account_id, value_date, amount, reverses_payment_id FROM payments"
        " ORDER BY account_id, value_date",
        PAYMENTS,
    )
    return Portfolio(loans, instalments, cards, statements, payments)
