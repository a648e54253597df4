"""Customers: search, the 360° view, and revealing one full value (audited)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, and_, func, or_, select

from postloan.access.masking import mask_customer
from postloan.access.permissions import Action, can
from postloan.access.reveal import MIN_REASON_LENGTH, REVEALABLE_FIELDS, reveal
from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, as_date, jsonable
from postloan.engine import instalment_status, statement_status
from postloan.engine.frames import CARDS, INSTALMENTS, LOANS, PAYMENTS, STATEMENTS, Portfolio
from postloan.ledger import generate_instalments, override_instalments
from postloan.store.schema import (
    account_status,
    card_statements,
    cards,
    customers,
    events,
    loans,
    payments,
    schedules,
)

router = APIRouter(prefix="/api/customers", tags=["customers"], responses=ERROR_RESPONSES)

CUSTOMER_AMOUNTS = ("monthly_income", "total_assets", "total_liabilities")
STATUS_AMOUNTS = (
    "outstanding_principal",
    "overdue_principal",
    "overdue_interest",
    "overdue_amount",
)
PAYMENTS_SHOWN = 500
EVENTS_SHOWN = 500
CustomerId = Path(
    min_length=1, max_length=64, pattern=NO_NUL, description="the lender's customer id"
)


class CustomerSummary(BaseModel):
    customer_id: str
    name: str
    id_type: str | None = None
    id_number: str | None = Field(default=None, description="masked for the caller's role")
    phone: str | None = Field(default=None, description="masked")
    branch_id: str | None = None


class CustomerPage(Page):
    items: list[CustomerSummary]


class CustomerDetail(BaseModel):
    customer_id: str
    name: str
    id_type: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
    occupation: str | None = None
    industry: str | None = None
    monthly_income: str | None = None
    total_assets: str | None = None
    total_liabilities: str | None = None
    bureau_score: int | None = None
    branch_id: str | None = None
    consent_marketing: bool | None = None
    consent_date: date | None = None
    extra: dict[str, Any] | None = None


class StatusRow(BaseModel):
    as_of: date
    account_id: str
    account_type: str
    outstanding_principal: str
    overdue_principal: str
    overdue_interest: str
    overdue_amount: str
    dpd: int
    bucket: str
    risk_class: str
    consecutive_overdue_periods: int
    cumulative_overdue_periods: int
    last_payment_date: date | None = None
    run_id: int


class Account(BaseModel):
    account_id: str
    account_type: Literal["loan", "card"]
    product: str | None = None
    principal: str | None = Field(default=None, description="loans")
    annual_rate: str | None = Field(default=None, description="loans, as a decimal fraction")
    term_months: int | None = None
    repayment_method: str | None = None
    disbursement_date: date | None = None
    first_due_date: date | None = None
    credit_limit: str | None = Field(default=None, description="cards")
    open_date: date | None = None
    close_date: date | None = None
    branch_id: str | None = None
    status: StatusRow | None = Field(default=None, description="the latest stored status")


class Instalment(BaseModel):
    account_id: str
    period: int
    due_date: date
    principal_due: str
    interest_due: str
    covered_principal: str
    covered_interest: str
    completion_date: date | None = None
    days_late: int
    paid_late: bool | None = None


class Statement(BaseModel):
    account_id: str
    statement_date: date
    due_date: date
    statement_balance: str
    minimum_due: str
    completion_date: date | None = None
    days_late: int | None = None
    paid_in_full: bool | None = None


class Payment(BaseModel):
    payment_id: str
    account_id: str
    value_date: date
    amount: str
    channel: str | None = None
    reverses_payment_id: str | None = None


class Event(BaseModel):
    event_id: str
    account_id: str | None = None
    date: date
    type: str
    amount: str | None = None
    detail: str | None = None


class Customer360(BaseModel):
    customer: CustomerDetail
    accounts_visible: bool = Field(description="false when the role may not view accounts")
    as_of: date | None = Field(default=None, description="the latest stored status date used")
    accounts: list[Account]
    status_history: list[StatusRow]
    schedules: list[Instalment]
    statements: list[Statement]
    payments: list[Payment]
    events: list[Event]
    cases: list[dict[str, Any]] = Field(default_factory=list, description="issue 5")
    contacts: list[dict[str, Any]] = Field(default_factory=list, description="issue 5")


class RevealIn(BaseModel):
    field: Literal["id_number", "phone", "address"] = Field(
        description=f"one of {', '.join(REVEALABLE_FIELDS)}"
    )
    reason: str = Field(
        min_length=MIN_REASON_LENGTH,
        max_length=500,
        pattern=NO_NUL,
        description=f"why the full value is needed (at least {MIN_REASON_LENGTH} characters)",
    )

    @field_validator("reason")
    @classmethod
    def _stated(cls, value: str) -> str:
        value = value.strip()
        if len(value) < MIN_REASON_LENGTH:
            raise ValueError(f"state a reason (at least {MIN_REASON_LENGTH} characters)")
        return value


class Revealed(BaseModel):
    customer_id: str
    field: str
    value: str | None


def _customer_record(row: Any) -> dict[str, Any]:
    record = jsonable(row._mapping, CUSTOMER_AMOUNTS)
    extra = record.get("extra")
    if isinstance(extra, str):
        try:
            parsed = json.loads(extra)
        except ValueError:
            parsed = {"raw": extra}
        record["extra"] = parsed if isinstance(parsed, dict) else {"value": parsed}
    return record


@router.get("", response_model=CustomerPage)
def search_customers(
    q: str | None = Query(
        None,
        max_length=200,
        pattern=NO_NUL,
        description="customer id (prefix), name (part) or phone (suffix)",
    ),
    branch: str | None = Query(None, max_length=32, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=200),
    user: User = Depends(require(Action.CUSTOMER_SEARCH)),
    conn: Connection = Depends(get_conn),
) -> CustomerPage:
    """Customers in the caller's data scope, masked for the caller's role."""
    where = [customer_scope_clause(user, Action.CUSTOMER_SEARCH)]
    text = (q or "").strip()
    if text:
        where.append(
            or_(
                customers.c.customer_id.startswith(text, autoescape=True),
                customers.c.name.contains(text, autoescape=True),
                customers.c.phone.endswith(text, autoescape=True),
            )
        )
    if branch:
        where.append(customers.c.branch_id == branch)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(customers).where(clause)).scalar_one()
    cols = [customers.c[name] for name in CustomerSummary.model_fields]
    rows = conn.execute(
        select(*cols)
        .where(clause)
        .order_by(customers.c.customer_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    items = [CustomerSummary(**mask_customer(dict(row._mapping), user.role)) for row in rows]
    return CustomerPage(items=items, total=total, page=page, page_size=page_size)


def _visible_customer(conn: Connection, user: User, customer_id: str, action: Action) -> Any:
    row = conn.execute(
        select(customers).where(
            customers.c.customer_id == customer_id, customer_scope_clause(user, action)
        )
    ).first()
    if row is None:  # unknown and out of scope look the same: no leak of existence
        raise NotFound(f"no customer {customer_id!r}", field="customer_id")
    return row


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    data = {name: [row._mapping[name] for row in rows] for name in schema}
    return pl.DataFrame(data, schema=schema)


def _portfolio(conn: Connection, customer_id: str, loan_ids: list[str], card_ids: list[str]
               ) -> Portfolio:  # fmt: skip
    """The customer's own accounts as engine frames (schedules generated, imports override)."""
    loan_rows = conn.execute(
        select(
            loans.c.loan_id.label("account_id"), loans.c.customer_id, loans.c.principal,
            loans.c.annual_rate, loans.c.term_months, loans.c.repayment_method,
            loans.c.disbursement_date, loans.c.first_due_date,
        ).where(loans.c.customer_id == customer_id).order_by(loans.c.loan_id)
    ).all()  # fmt: skip
    loan_frame = _frame(loan_rows, LOANS)
    instalments = generate_instalments(loan_frame)
    imported = conn.execute(
        select(
            schedules.c.loan_id.label("account_id"), schedules.c.period, schedules.c.due_date,
            schedules.c.principal_due, schedules.c.interest_due,
        ).where(schedules.c.loan_id.in_(loan_ids)).order_by(schedules.c.loan_id, schedules.c.period)
    ).all()  # fmt: skip
    if imported:
        instalments = override_instalments(instalments, _frame(imported, INSTALMENTS))
    card_rows = conn.execute(
        select(
            cards.c.card_id.label("account_id"), cards.c.customer_id, cards.c.credit_limit,
            cards.c.open_date, cards.c.close_date,
        ).where(cards.c.customer_id == customer_id).order_by(cards.c.card_id)
    ).all()  # fmt: skip
    statement_rows = conn.execute(
        select(
            card_statements.c.card_id.label("account_id"), card_statements.c.statement_date,
            card_statements.c.due_date, card_statements.c.statement_balance,
            card_statements.c.minimum_due, card_statements.c.purchases,
        ).where(card_statements.c.card_id.in_(card_ids))
        .order_by(card_statements.c.card_id, card_statements.c.statement_date)
    ).all()  # fmt: skip
    payment_rows = conn.execute(
        select(
            payments.c.payment_id, payments.c.account_id, payments.c.value_date,
            payments.c.amount, payments.c.reverses_payment_id,
        ).where(payments.c.account_id.in_(loan_ids + card_ids))
        .order_by(payments.c.account_id, payments.c.value_date)
    ).all()  # fmt: skip
    return Portfolio(
        loans=loan_frame,
        instalments=instalments,
        cards=_frame(card_rows, CARDS),
        statements=_frame(statement_rows, STATEMENTS),
        payments=_frame(payment_rows, PAYMENTS),
    )


def _status_row(row: Any) -> StatusRow:
    values = jsonable(row._mapping, STATUS_AMOUNTS)
    values.pop("customer_id", None)
    return StatusRow(**values)


@router.get("/{customer_id}", response_model=Customer360)
def customer_360(
    request: Request,
    customer_id: str = CustomerId,
    history: int = Query(30, ge=1, le=366, description="status dates shown, newest first"),
    user: User = Depends(require(Action.CUSTOMER_VIEW)),
    conn: Connection = Depends(get_conn),
) -> Customer360:
    """The 360° view: the customer (masked), accounts with their latest status, status
    history, schedules as of the latest stored date, payments and events. Customers outside
    the caller's scope answer 404."""
    row = _visible_customer(conn, user, customer_id, Action.CUSTOMER_VIEW)
    detail = CustomerDetail(**mask_customer(_customer_record(row), user.role))
    if not can(user.role, Action.ACCOUNT_VIEW):
        return Customer360(
            customer=detail, accounts_visible=False, accounts=[], status_history=[],
            schedules=[], statements=[], payments=[], events=[],
        )  # fmt: skip

    loan_rows = conn.execute(
        select(loans).where(loans.c.customer_id == customer_id).order_by(loans.c.loan_id)
    ).all()
    card_rows = conn.execute(
        select(cards).where(cards.c.customer_id == customer_id).order_by(cards.c.card_id)
    ).all()
    loan_ids = [r.loan_id for r in loan_rows]
    card_ids = [r.card_id for r in card_rows]

    dates = [
        as_date(d)
        for d in conn.execute(
            select(account_status.c.as_of)
            .where(account_status.c.customer_id == customer_id)
            .group_by(account_status.c.as_of)
            .order_by(account_status.c.as_of.desc())
            .limit(history)
        ).scalars()
    ]
    latest = dates[0] if dates else None
    history_rows: list[StatusRow] = []
    if dates:
        rows = conn.execute(
            select(account_status)
            .where(account_status.c.customer_id == customer_id, account_status.c.as_of >= dates[-1])
            .order_by(account_status.c.as_of.desc(), account_status.c.account_id)
        ).all()
        history_rows = [_status_row(r) for r in rows]
    current = {s.account_id: s for s in history_rows if s.as_of == latest}

    accounts = [
        Account(
            account_id=r.loan_id, account_type="loan", product=r.product,
            principal=amount(r.principal), annual_rate=_rate(r.annual_rate),
            term_months=r.term_months, repayment_method=r.repayment_method,
            disbursement_date=r.disbursement_date, first_due_date=r.first_due_date,
            branch_id=r.branch_id, status=current.get(r.loan_id),
        )
        for r in loan_rows
    ] + [
        Account(
            account_id=r.card_id, account_type="card", credit_limit=amount(r.credit_limit),
            open_date=r.open_date, close_date=r.close_date, status=current.get(r.card_id),
        )
        for r in card_rows
    ]  # fmt: skip

    as_of = latest or _latest_stored(conn) or date.today()
    portfolio = _portfolio(conn, customer_id, loan_ids, card_ids)
    policy, _ = effective_policy(request)
    instalments: list[Instalment] = []
    if loan_ids:
        table = instalment_status(portfolio, as_of, policy)
        instalments = [
            Instalment(**jsonable(r, ("principal_due", "interest_due", "covered_principal",
                                      "covered_interest")))
            for r in table.iter_rows(named=True)
        ]  # fmt: skip
    statements: list[Statement] = []
    if card_ids and portfolio.statements.height:
        table = statement_status(portfolio, as_of, policy)
        statements = [
            Statement(**{k: v for k, v in jsonable(r, ("statement_balance", "minimum_due")).items()
                         if k in Statement.model_fields})
            for r in table.iter_rows(named=True)
        ]  # fmt: skip

    payment_rows = conn.execute(
        select(payments)
        .where(payments.c.account_id.in_(loan_ids + card_ids))
        .order_by(payments.c.value_date.desc(), payments.c.payment_id)
        .limit(PAYMENTS_SHOWN)
    ).all()
    event_rows = conn.execute(
        select(events)
        .where(events.c.customer_id == customer_id)
        .order_by(events.c.date.desc(), events.c.event_id)
        .limit(EVENTS_SHOWN)
    ).all()
    return Customer360(
        customer=detail,
        accounts_visible=True,
        as_of=as_of,
        accounts=accounts,
        status_history=history_rows,
        schedules=instalments,
        statements=statements,
        payments=[Payment(**jsonable(r._mapping, ("amount",))) for r in payment_rows],
        events=[
            Event(
                **{k: v for k, v in jsonable(r._mapping, ("amount",)).items() if k != "customer_id"}
            )
            for r in event_rows
        ],
    )


def _rate(units: int | None) -> str | None:
    from postloan.money import rate_to_decimal

    return None if units is None else format(rate_to_decimal(int(units)).normalize(), "f")


def _latest_stored(conn: Connection) -> date | None:
    return as_date(conn.execute(select(func.max(account_status.c.as_of))).scalar())


@router.post("/{customer_id}/reveal", response_model=Revealed)
def reveal_field(
    body: RevealIn,
    customer_id: str = CustomerId,
    user: User = Depends(require(Action.CUSTOMER_REVEAL)),
    conn: Connection = Depends(get_conn),
) -> Revealed:
    """One full (unmasked) value, with a stated reason; written to the audit log."""
    _visible_customer(conn, user, customer_id, Action.CUSTOMER_REVEAL)
    value = reveal(conn, user, customer_id, body.field, body.reason, now())
    conn.commit()
    return Revealed(customer_id=customer_id, field=body.field, value=value)
