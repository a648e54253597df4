"""Customers: search, the 360° view, and revealing one full value (audited)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, Engine, and_, func, or_, select

from postloan.access.masking import mask_customer
from postloan.access.permissions import Action, can
from postloan.access.reveal import MIN_REASON_LENGTH, REVEALABLE_FIELDS, reveal
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.access.users import User
from postloan.api.deps import authenticate, bearer, get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Forbidden, NotFound
from postloan.api.routes.policy import effective_policy_and_version
from postloan.api.util import NO_NUL, Page, jsonable
from postloan.store.schema import customers
from postloan.views.casework import casework_tail
from postloan.views.customer360 import Limits, ledger_json

router = APIRouter(prefix="/api/customers", tags=["customers"], responses=ERROR_RESPONSES)

CUSTOMER_AMOUNTS = ("monthly_income", "total_assets", "total_liabilities")
EVENTS_SHOWN = 200
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
    restructured: bool = Field(
        default=False, description="under a repayment agreement (collections.agreements)"
    )


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
    paid_late: bool


class Statement(BaseModel):
    account_id: str
    statement_date: date
    due_date: date
    statement_balance: str
    minimum_due: str
    minimum_covered: str
    completion_date: date | None = None
    days_late: int
    paid_late: bool
    paid_in_full: bool


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
    payments_total: int = Field(description="payments on the accounts; `payments` lists the newest")
    payments: list[Payment]
    events: list[Event]
    cases: list[dict[str, Any]] = Field(
        default_factory=list, description="collection cases, newest first, with stage history"
    )
    contacts: list[dict[str, Any]] = Field(
        default_factory=list, description="the latest contacts (collections), newest first"
    )


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
    row = visible_customer(conn, user, customer_id, action)
    if row is None:  # unknown and out of scope look the same: no leak of existence
        raise NotFound(f"no customer {customer_id!r}", field="customer_id")
    return row


@router.get("/{customer_id}", response_model=Customer360)
async def customer_360(
    request: Request,
    customer_id: str = CustomerId,
    history: int = Query(30, ge=1, le=366, description="status dates shown, newest first"),
    payments_shown: int = Query(
        200, ge=0, le=5_000, description="payments listed, newest first (payments_total counts all)"
    ),
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Response:
    """The 360° view: the customer (masked), accounts with their latest status, status
    history, schedules and statements as of the latest stored date, payments and events.
    Customers outside the caller's scope answer 404."""
    # The busiest route: authentication is called here rather than through the dependency
    # chain (`require` -> `current_user` -> engine), whose resolution cost a fifth of a view;
    # the checks are the same: 401 without a valid token, 403 without `customer.view`.
    # On the event loop, not in the thread pool: the view is a few milliseconds of CPU and
    # indexed reads, and under load the thread pool's hand-offs and lock contention cost
    # more than the view itself (measured: 277 -> 640 requests/s, benchmarks/RESULTS.md).
    engine: Engine = request.app.state.loop_engine
    with engine.connect() as conn:
        user = authenticate(conn, request, credentials)
        if not can(user.role, Action.CUSTOMER_VIEW):
            raise Forbidden(f"role {user.role} may not {Action.CUSTOMER_VIEW}", code="forbidden")
        row = _visible_customer(conn, user, customer_id, Action.CUSTOMER_VIEW)
        head = b'{"customer":' + _detail_json(mask_customer(_customer_record(row), user.role))
        if not can(user.role, Action.ACCOUNT_VIEW):
            return _json_response(head + NO_ACCOUNTS)
        policy, _, version = effective_policy_and_version(request)
        limits = Limits(history_dates=history, payments=payments_shown, events=EVENTS_SHOWN)
        ledger = ledger_json(conn, customer_id, policy, limits, request.app.state.views, version)
        work = casework_tail(conn, customer_id)
    # The ledger part arrives as finished JSON (often from the view cache), spliced into the
    # Customer360 shape — checked by the API tests and by schemathesis against the schema.
    return _json_response(head + b',"accounts_visible":true,' + ledger[1:-1] + work)


DETAIL_FIELDS = tuple(CustomerDetail.model_fields)


def _detail_json(record: dict[str, Any]) -> bytes:
    """The CustomerDetail shape as JSON, without building the model (tested equal to it)."""
    out = {name: record.get(name) for name in DETAIL_FIELDS}
    if out["consent_marketing"] is not None:
        out["consent_marketing"] = bool(out["consent_marketing"])
    return orjson.dumps(out)


NO_WORK = b',"cases":[],"contacts":[]}'  # roles that may not see accounts see no casework
NO_ACCOUNTS = (
    b',"accounts_visible":false,"as_of":null,"accounts":[],"status_history":[],"schedules":[],'
    b'"statements":[],"payments_total":0,"payments":[],"events":[]' + NO_WORK
)


def _json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


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
