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
from sqlalchemy import select

from postloan.collections.agreement_tables import agreement_instalments, agreements
from postloan.engine.frames import CARDS, INSTALMENTS, LOANS, PAYMENTS, STATEMENTS, Portfolio
from postloan.engine.restructure import AGREED_DUES, RESTRUCTURINGS
from postloan.engine.schedule_versions import SCHEDULE_CHANGES, in_force
from postloan.ledger import generate_instalments, override_instalments
from postloan.store import bulk, schema


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
    a, i = agreements, agreement_instalments
    return bulk.read(
        conn,
        select(
            a.c.effective_date,
            a.c.account_id,
            i.c.period,
            i.c.due_date,
            i.c.principal_due,
            i.c.interest_due,
        )
        .select_from(i.join(a, a.c.agreement_id == i.c.agreement_id))
        .where(a.c.status == "approved")
        .order_by(a.c.account_id, a.c.effective_date, i.c.period),
        SCHEDULE_CHANGES,
    )


def load_restructurings(conn: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Approved agreements (RESTRUCTURINGS) and their agreed due dates (AGREED_DUES)."""
    a, i = agreements, agreement_instalments
    approved = bulk.read(
        conn,
        select(
            a.c.agreement_id,
            a.c.account_id,
            a.c.effective_date,
            a.c.class_at_restructuring,
            a.c.repeat,
        )
        .where(a.c.status == "approved")
        .order_by(a.c.agreement_id),
        RESTRUCTURINGS,
    )
    dues = bulk.read(
        conn,
        select(i.c.agreement_id, i.c.due_date)
        .select_from(i.join(a, a.c.agreement_id == i.c.agreement_id))
        .where(a.c.status == "approved", i.c.agreed)
        .order_by(i.c.agreement_id, i.c.due_date),
        AGREED_DUES,
    )
    return approved.select(list(RESTRUCTURINGS)), dues.select(list(AGREED_DUES))


def load_contract_portfolio(conn: Any) -> Portfolio:
    """The portfolio with the contract schedules (generated, or imported), no agreements."""
    loans = bulk.read(
        conn,
        select(
            schema.loans.c.loan_id.label("account_id"),
            *(schema.loans.c[name] for name in list(LOANS)[1:]),
        ).order_by(schema.loans.c.loan_id),
        LOANS,
    )
    sched = schema.schedules
    imported = bulk.read(
        conn,
        select(
            sched.c.loan_id.label("account_id"),
            sched.c.period,
            sched.c.due_date,
            sched.c.principal_due,
            sched.c.interest_due,
        ).order_by(sched.c.loan_id, sched.c.period),
        INSTALMENTS,
    )
    instalments = generate_instalments(loans)
    if imported.height:
        instalments = override_instalments(instalments, imported)
    card = schema.cards
    cards = bulk.read(
        conn,
        select(
            card.c.card_id.label("account_id"),
            card.c.customer_id,
            card.c.credit_limit,
            card.c.open_date,
            card.c.close_date,
        ).order_by(card.c.card_id),
        CARDS,
    )
    stmt = schema.card_statements
    statements = bulk.read(
        conn,
        select(
            stmt.c.card_id.label("account_id"), *(stmt.c[name] for name in list(STATEMENTS)[1:])
        ).order_by(stmt.c.card_id, stmt.c.statement_date),
        STATEMENTS,
    )
    pay = schema.payments
    payments = bulk.read(
        conn,
        select(*(pay.c[name] for name in PAYMENTS)).order_by(pay.c.account_id, pay.c.value_date),
        PAYMENTS,
    )
    return Portfolio(loans, instalments, cards, statements, payments)
