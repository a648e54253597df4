"""Load what the engine needs from the store as Polars frames (the fast path, not ORM objects).

Generated schedules are recomputed from the loans' terms (deterministic, faster than reading
tens of millions of rows) and imported schedules override them per loan. An approved repayment
agreement replaces its loan's schedule from the agreement's effective date on
(`agreement_instalments`): `load_portfolio(conn, as_of)` gives the schedules in force on a
date (by default the latest, what is owed from now on); the run takes the contract schedules
and the changes apart (`load_schedule_changes`) because each date needs its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from postloan.engine.frames import CARDS, LOANS, PAYMENTS, STATEMENTS, Portfolio
from postloan.engine.restructure import AGREED_DUES, RESTRUCTURINGS
from postloan.engine.schedule_versions import SCHEDULE_CHANGES, in_force
from postloan.ledger import generate_instalments, override_instalments
from postloan.store import bulk


def load_portfolio(conn: Any, as_of: date | None = None) -> Portfolio:
    """The portfolio with the schedules in force on `as_of` (None: the latest agreements)."""
    contract = load_contract_portfolio(conn)
    changes = load_schedule_changes(conn)
    if changes.height == 0:
        return contract
    return Portfolio(
        contract.loans,
        in_force(contract.instalments, changes, as_of),
        contract.cards,
        contract.statements,
        contract.payments,
    )


def load_schedule_changes(conn: Any) -> pl.DataFrame:
    """The approved agreements' schedules, each with its effective date (SCHEDULE_CHANGES)."""
    return bulk.read(
        conn,
        "SELECT a.effective_date, a.account_id, i.period, i.due_date, i.principal_due,"
        " i.interest_due FROM agreement_instalments i"
        " JOIN agreements a ON a.agreement_id = i.agreement_id"
        " WHERE a.status = 'approved' ORDER BY a.account_id, a.effective_date, i.period",
        SCHEDULE_CHANGES,
    )


def load_restructurings(conn: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Approved agreements (RESTRUCTURINGS) and their agreed due dates (AGREED_DUES)."""
    agreements = bulk.read(
        conn,
        "SELECT agreement_id, account_id, effective_date, class_at_restructuring, repeat"
        " FROM agreements WHERE status = 'approved' ORDER BY agreement_id",
        RESTRUCTURINGS,
    )
    dues = bulk.read(
        conn,
        "SELECT i.agreement_id, i.due_date FROM agreement_instalments i"
        " JOIN agreements a ON a.agreement_id = i.agreement_id"
        " WHERE a.status = 'approved' AND i.agreed ORDER BY i.agreement_id, i.due_date",
        AGREED_DUES,
    )
    return agreements.select(list(RESTRUCTURINGS)), dues.select(list(AGREED_DUES))


def load_contract_portfolio(conn: Any) -> Portfolio:
    """The portfolio with the contract schedules (generated, or imported), no agreements."""
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
