"""Load what the engine needs from the store as Polars frames (the fast path, not ORM objects).

Generated schedules are recomputed from the loans' terms (deterministic, faster than reading
tens of millions of rows) and imported schedules override them per loan. A business area may
change schedules from a date on (collections: an approved repayment agreement replaces its
loan's schedule from the agreement's effective date; `Area.schedule_changes`):
`load_portfolio(conn, as_of)` gives the schedules in force on a date (by default the latest,
what is owed from now on); the run takes the contract schedules and the changes apart
(`load_changes`) because each date needs its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select

from postloan import areas
from postloan.area import ScheduleChanges
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


def load_changes(conn: Any) -> ScheduleChanges:
    """What the business areas change in the contract schedules (collections: approved
    repayment agreements), through their `Area.schedule_changes` hooks — every area's frames
    together; empty when no area changes schedules."""
    found = [hook(conn) for hook in areas.schedule_change_hooks()]
    if not found:
        return ScheduleChanges(
            pl.DataFrame(schema=SCHEDULE_CHANGES),
            pl.DataFrame(schema=RESTRUCTURINGS),
            pl.DataFrame(schema=AGREED_DUES),
        )
    if len(found) == 1:
        return found[0]
    return ScheduleChanges(
        pl.concat([f.changes for f in found]).sort("account_id", "effective_date", "period"),
        pl.concat([f.restructurings for f in found]),
        pl.concat([f.agreed_dues for f in found]),
    )


def load_schedule_changes(conn: Any) -> pl.DataFrame:
    """The changed schedules, each with its effective date (SCHEDULE_CHANGES)."""
    changes: pl.DataFrame = load_changes(conn).changes
    return changes


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
