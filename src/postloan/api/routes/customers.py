"""Customers: search (on what the caller's mask shows), the 360° view, and the reveals —
one full value, or who holds a whole mobile or ID number (audited)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Connection, Engine

from postloan.access.errors import ReasonRequired
from postloan.access.masking import mask_customer, parse_extra
from postloan.access.permissions import Action, can
from postloan.access.reveal import (
    EXTRA_PREFIX,
    MAX_REASON_CHARS,
    REVEALABLE_FIELDS,
    check_reason,
    is_revealable,
    reveal,
)
from postloan.access.scope import customer_in_scope
from postloan.access.users import User
from postloan.api.deps import authenticate, bearer, get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Forbidden, Invalid
from postloan.api.routes.policy import effective_policy_and_version
from postloan.api.util import NO_NUL, Page, jsonable
from postloan.policy import Policy
from postloan.views import customer_search
from postloan.views.customer360 import Limits, area_sections_tail, ledger_json

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


REASON_DOC = (
    "why the full value is needed, recorded in the audit log: at least the policy's"
    " `security.reveal.min_reason_chars` (a Chinese character counts as two) and"
    " `min_distinct_chars` different characters"
)


class RevealIn(BaseModel):
    field: str = Field(
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description=f"one of {', '.join(REVEALABLE_FIELDS)}, or {EXTRA_PREFIX}<column> for an"
        " imported extra attribute",
    )
    reason: str = Field(max_length=MAX_REASON_CHARS, pattern=NO_NUL, description=REASON_DOC)

    @field_validator("field")
    @classmethod
    def _revealable(cls, value: str) -> str:
        if not is_revealable(value):
            raise ValueError(f"one of {', '.join(REVEALABLE_FIELDS)}, or {EXTRA_PREFIX}<column>")
        return value


class LookupIn(BaseModel):
    identifier: str = Field(
        min_length=1,
        max_length=32,
        pattern=NO_NUL,
        description="a whole mobile (11 digits) or PRC ID number (18 characters)",
    )
    reason: str = Field(max_length=MAX_REASON_CHARS, pattern=NO_NUL, description=REASON_DOC)

    @field_validator("identifier")
    @classmethod
    def _whole(cls, value: str) -> str:
        if customer_search.identifier_kind(value) is None:
            raise ValueError("a whole mobile (11 digits) or PRC ID number (18 characters)")
        return value


class Revealed(BaseModel):
    customer_id: str
    field: str
    value: str | None


def _customer_record(row: Any) -> dict[str, Any]:
    record = jsonable(row._mapping, CUSTOMER_AMOUNTS)
    record["extra"] = parse_extra(record.get("extra"))
    return record


def _masked_record(row: Any, user: User, policy: Policy) -> dict[str, Any]:
    """The customer as the user's role may see it: personal fields and imported extra
    attributes masked (the policy's non-personal extra columns in full)."""
    non_personal = policy.security.personal_data.non_personal_extra_columns.get("customers", ())
    return mask_customer(_customer_record(row), user.role, non_personal)


@router.get("", response_model=CustomerPage)
def search_customers(
    q: str | None = Query(
        None,
        max_length=200,
        pattern=NO_NUL,
        description="customer id (prefix), name (part), or the last digits of a mobile or ID"
        " number that the caller's mask shows; a whole mobile or ID number is refused (422) —"
        " look it up with POST /api/customers/lookup (a reveal)",
    ),
    branch: str | None = Query(None, max_length=32, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=200),
    user: User = Depends(require(Action.CUSTOMER_SEARCH)),
    conn: Connection = Depends(get_conn),
) -> CustomerPage:
    """Customers in the caller's data scope, masked for the caller's role; masked parts of a
    mobile or ID number cannot be searched (`views.customer_search`)."""
    try:
        found = customer_search.search(
            conn, user, q, branch=branch, limit=page_size, offset=(page - 1) * page_size
        )
    except customer_search.FullIdentifierQuery as exc:
        raise Invalid(str(exc), field="q", code="identifier_search") from None
    items = [CustomerSummary(**record) for record in found.items]
    return CustomerPage(items=items, total=found.total, page=page, page_size=page_size)


@router.post("/lookup", response_model=CustomerPage)
def lookup_customers(
    request: Request,
    body: LookupIn,
    user: User = Depends(require(Action.CUSTOMER_REVEAL)),
    conn: Connection = Depends(get_conn),
) -> CustomerPage:
    """The customers (in the caller's reveal scope) holding a whole mobile or ID number. Who
    holds a number is personal data: this is a reveal — `customer.reveal`, a reason meeting
    the policy's minimum, one audit entry (also when nothing matches). Listed masked."""
    policy, _, _ = effective_policy_and_version(request)
    found = customer_search.lookup(conn, user, body.identifier, body.reason, now(), policy=policy)
    conn.commit()
    items = [CustomerSummary(**record) for record in found.items]
    return CustomerPage(items=items, total=found.total, page=1, page_size=max(1, found.total))


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
        row = customer_in_scope(conn, user, customer_id, Action.CUSTOMER_VIEW)
        policy, _, version = effective_policy_and_version(request)
        # Masked here, per request and per role: the cached ledger part below holds no
        # customer record and no extra attributes, so a cache hit never crosses roles.
        head = b'{"customer":' + _detail_json(_masked_record(row, user, policy))
        if not can(user.role, Action.ACCOUNT_VIEW):
            return _json_response(head + NO_ACCOUNTS + area_sections_tail(conn, None))
        limits = Limits(history_dates=history, payments=payments_shown, events=EVENTS_SHOWN)
        ledger = ledger_json(conn, customer_id, policy, limits, request.app.state.views, version)
        work = area_sections_tail(conn, customer_id, lambda action: can(user.role, action))
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


NO_ACCOUNTS = (  # a role that may not see accounts: empty ledger, the areas' sections empty
    b',"accounts_visible":false,"as_of":null,"accounts":[],"status_history":[],"schedules":[],'
    b'"statements":[],"payments_total":0,"payments":[],"events":[]'
)


def _json_response(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.post("/{customer_id}/reveal", response_model=Revealed)
def reveal_field(
    request: Request,
    body: RevealIn,
    customer_id: str = CustomerId,
    user: User = Depends(require(Action.CUSTOMER_REVEAL)),
    conn: Connection = Depends(get_conn),
) -> Revealed:
    """One full (unmasked) value — a personal field or an imported extra attribute
    (`extra.<column>`) — with a reason meeting the policy's minimum; written to the audit
    log."""
    policy, _, _ = effective_policy_and_version(request)
    check_reason(body.reason, policy.security.reveal)  # 422 `reason` before anything else
    customer_in_scope(conn, user, customer_id, Action.CUSTOMER_REVEAL)  # else 404
    try:
        value = reveal(conn, user, customer_id, body.field, body.reason, now(), policy=policy)
    except ReasonRequired:
        raise
    except ValueError as exc:  # an extra column the customer does not have
        raise Invalid(str(exc), field="field") from None
    conn.commit()
    return Revealed(customer_id=customer_id, field=body.field, value=value)
