"""The customer 360° view's ledger part: accounts, status history, schedules, statements,
payments and events of one customer, as JSON-ready values.

Both the API (`GET /api/customers/{id}`) and the workbench page read it. It is built for a
page view, not a portfolio: a handful of indexed queries on the customer's own rows, schedules
regenerated per loan (`ledger.build_schedule`, exact integers) unless imported, and schedule
state computed per account by `engine.single` (equal to the portfolio engine, property-tested).
Nothing here depends on who asks — masking of the customer record and the permission to see
accounts are the caller's business.

Amounts are 2-decimal strings and dates ISO text, as everywhere in the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from postloan.engine.single import (
    InstalmentDue,
    PaymentRow,
    StatementDue,
    instalment_states,
    statement_states,
)
from postloan.ledger import build_schedule
from postloan.money import RATE_SCALE, format_amount
from postloan.policy import Policy
from postloan.store.schema import (
    account_status,
    card_statements,
    cards,
    events,
    loans,
    payments,
    schedules,
)

STATUS_AMOUNTS = frozenset(
    ("outstanding_principal", "overdue_principal", "overdue_interest", "overdue_amount")
)
STATUS_COLUMNS = (
    "as_of", "account_id", "account_type", "outstanding_principal", "overdue_principal",
    "overdue_interest", "overdue_amount", "dpd", "bucket", "risk_class",
    "consecutive_overdue_periods", "cumulative_overdue_periods", "last_payment_date", "run_id",
)  # fmt: skip
INSTALMENT_AMOUNTS = ("principal_due", "interest_due", "covered_principal", "covered_interest")
STATEMENT_AMOUNTS = ("statement_balance", "minimum_due", "minimum_covered")


@dataclass(frozen=True)
class Limits:
    """How much of the long lists a view carries (newest first)."""

    history_dates: int = 30
    payments: int = 200
    events: int = 200


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _money(value: Any) -> str | None:
    return None if value is None else format_amount(int(value))


def _rate(units: int | None) -> str | None:
    if units is None:
        return None
    return format((Decimal(int(units)) / RATE_SCALE).normalize(), "f")


def _status_json(row: Any) -> dict[str, Any]:
    m = row._mapping
    return {
        c: (_money(m[c]) if c in STATUS_AMOUNTS else _iso(m[c])) for c in STATUS_COLUMNS
    }


def _json_row(values: dict[str, Any], amounts: Sequence[str]) -> dict[str, Any]:
    return {k: (_money(v) if k in amounts else _iso(v)) for k, v in values.items()}


def _schedule(loan: Any, imported: list[Any]) -> list[InstalmentDue]:
    """The loan's schedule: imported rows replace the generated schedule wholesale."""
    if imported:
        return [
            InstalmentDue(int(r.period), _as_date(r.due_date), int(r.principal_due),
                          int(r.interest_due))
            for r in imported
        ]  # fmt: skip
    built = build_schedule(
        Decimal(int(loan.principal)) / 100,
        Decimal(int(loan.annual_rate)) / RATE_SCALE,
        int(loan.term_months),
        loan.repayment_method,
        _as_date(loan.disbursement_date),
        None if loan.first_due_date is None else _as_date(loan.first_due_date),
    )
    return [
        InstalmentDue(i.period, i.due_date, int(i.principal_due * 100), int(i.interest_due * 100))
        for i in built
    ]


def _status(conn: Connection, customer_id: str, dates: int) -> list[Any]:
    """The customer's status rows on their latest `dates` stored dates, newest first."""
    recent = (
        select(account_status.c.as_of)
        .where(account_status.c.customer_id == customer_id)
        .group_by(account_status.c.as_of)
        .order_by(account_status.c.as_of.desc())
        .limit(dates)
        .subquery()
    )
    return conn.execute(
        select(account_status)
        .where(
            account_status.c.customer_id == customer_id,
            account_status.c.as_of >= select(func.min(recent.c.as_of)).scalar_subquery(),
        )
        .order_by(account_status.c.as_of.desc(), account_status.c.account_id)
    ).all()


def latest_stored_date(conn: Connection) -> date | None:
    value = conn.execute(select(func.max(account_status.c.as_of))).scalar()
    return None if value is None else _as_date(value)


def ledger_view(
    conn: Connection, customer_id: str, policy: Policy, limits: Limits = Limits()
) -> dict[str, Any]:
    """Accounts with their latest status, status history, schedules and statements as of the
    latest stored date, payments and events (newest first, up to `limits`)."""
    loan_rows = conn.execute(
        select(loans).where(loans.c.customer_id == customer_id).order_by(loans.c.loan_id)
    ).all()
    card_rows = conn.execute(
        select(cards).where(cards.c.customer_id == customer_id).order_by(cards.c.card_id)
    ).all()
    status_rows = _status(conn, customer_id, limits.history_dates)
    latest = _as_date(status_rows[0].as_of) if status_rows else None
    as_of = latest or latest_stored_date(conn) or date.today()
    current = {
        r.account_id: _status_json(r) for r in status_rows if _as_date(r.as_of) == latest
    }

    loan_ids = [r.loan_id for r in loan_rows]
    card_ids = [r.card_id for r in card_rows]
    pay_rows = (
        conn.execute(
            select(payments)
            .where(payments.c.account_id.in_(loan_ids + card_ids))
            .order_by(payments.c.value_date.desc(), payments.c.payment_id)
        ).all()
        if loan_ids or card_ids
        else []
    )
    by_account: dict[str, list[PaymentRow]] = {}
    for p in pay_rows:
        by_account.setdefault(p.account_id, []).append(
            PaymentRow(p.payment_id, _as_date(p.value_date), int(p.amount), p.reverses_payment_id)
        )

    threshold = int(policy.allocation.materiality_threshold * 100)
    principal_first = policy.allocation.order == "principal_first"
    instalments: list[dict[str, Any]] = []
    if loan_ids:
        imported: dict[str, list[Any]] = {}
        for r in conn.execute(
            select(schedules)
            .where(schedules.c.loan_id.in_(loan_ids))
            .order_by(schedules.c.loan_id, schedules.c.period)
        ):
            imported.setdefault(r.loan_id, []).append(r)
        for loan in loan_rows:
            states = instalment_states(
                _schedule(loan, imported.get(loan.loan_id, [])),
                by_account.get(loan.loan_id, ()),
                as_of,
                threshold=threshold,
                principal_first=principal_first,
            )
            instalments.extend(
                {"account_id": loan.loan_id, **_json_row(s, INSTALMENT_AMOUNTS)} for s in states
            )

    statements: list[dict[str, Any]] = []
    if card_ids:
        issued: dict[str, list[StatementDue]] = {}
        for r in conn.execute(
            select(card_statements)
            .where(card_statements.c.card_id.in_(card_ids))
            .order_by(card_statements.c.card_id, card_statements.c.statement_date)
        ):
            issued.setdefault(r.card_id, []).append(
                StatementDue(_as_date(r.statement_date), _as_date(r.due_date),
                             int(r.statement_balance), int(r.minimum_due))
            )  # fmt: skip
        for card_id in card_ids:
            states = statement_states(
                issued.get(card_id, []), by_account.get(card_id, ()), as_of, threshold=threshold
            )
            statements.extend(
                {"account_id": card_id, **_json_row(s, STATEMENT_AMOUNTS)} for s in states
            )

    event_rows = conn.execute(
        select(events)
        .where(events.c.customer_id == customer_id)
        .order_by(events.c.date.desc(), events.c.event_id)
        .limit(limits.events)
    ).all()
    accounts = [
        {
            "account_id": r.loan_id, "account_type": "loan", "product": r.product,
            "principal": _money(r.principal), "annual_rate": _rate(r.annual_rate),
            "term_months": r.term_months, "repayment_method": r.repayment_method,
            "disbursement_date": _iso(r.disbursement_date),
            "first_due_date": _iso(r.first_due_date), "credit_limit": None, "open_date": None,
            "close_date": None, "branch_id": r.branch_id, "status": current.get(r.loan_id),
        }
        for r in loan_rows
    ] + [
        {
            "account_id": r.card_id, "account_type": "card", "product": None, "principal": None,
            "annual_rate": None, "term_months": None, "repayment_method": None,
            "disbursement_date": None, "first_due_date": None,
            "credit_limit": _money(r.credit_limit), "open_date": _iso(r.open_date),
            "close_date": _iso(r.close_date), "branch_id": None, "status": current.get(r.card_id),
        }
        for r in card_rows
    ]  # fmt: skip
    return {
        "as_of": as_of.isoformat(),
        "accounts": accounts,
        "status_history": [_status_json(r) for r in status_rows],
        "schedules": instalments,
        "statements": statements,
        "payments_total": len(pay_rows),
        "payments": [
            {
                "payment_id": p.payment_id, "account_id": p.account_id,
                "value_date": _iso(p.value_date), "amount": _money(p.amount),
                "channel": p.channel, "reverses_payment_id": p.reverses_payment_id,
            }
            for p in pay_rows[: limits.payments]
        ],  # fmt: skip
        "events": [
            {
                "event_id": e.event_id, "account_id": e.account_id, "date": _iso(e.date),
                "type": e.type, "amount": _money(e.amount), "detail": e.detail,
            }
            for e in event_rows
        ],  # fmt: skip
    }
