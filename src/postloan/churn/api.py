"""Churn's API routes (`/api/churn/...`): the pool with filters, a customer's churn card, the
officer's reason confirmation and the KPIs.

Every row is filtered through the caller's data scope for the route's action (branch roles see
their branch); a customer outside it answers 404 like one that does not exist. Personal fields
are masked as everywhere (`access.masking`); roles that may not see accounts (marketing,
auditors) get the pool without amounts and evidence. A reason confirmation is audited; with
the session cookie it needs the CSRF token (`api.deps`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access.masking import mask_customer
from postloan.access.permissions import Action, can
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.customer_view import confirmation, current_row, episode
from postloan.churn.evaluation import win_back_rates
from postloan.churn.reasons import MAX_NOTE, confirm_reason
from postloan.churn.report import as_json, churn_report
from postloan.inputs import BusinessDate

router = APIRouter(prefix="/api/churn", tags=["churn"], responses=ERROR_RESPONSES)

CustomerId = Path(min_length=1, max_length=64, pattern=NO_NUL, description="the customer id")
Rule = Literal["loan_overdue", "card_default", "closed_not_reapplied", "transferred_out",
               "inactive"]  # fmt: skip
Degree = Literal["light", "moderate", "severe"]
Reason = Literal["policy", "service", "marketing", "competition", "macro", "customer_own"]
HISTORY_SHOWN = 90


class PoolItem(BaseModel):
    customer_id: str
    name: str | None
    branch_id: str | None
    as_of: str
    rules: list[str] = Field(description="the CH-2 rules that hold on as_of")
    first_identified: str = Field(description="first date of the current pool episode")
    degree: str = Field(description="light | moderate | severe (CH-4)")
    grade: int = Field(description="1 (highest risk) .. 3 (CH-5)")
    reason: str | None = Field(description="CH-3 class: confirmed, else suggested, else null")
    reason_source: str | None = Field(description="confirmed | suggested | null")
    worth_pursuing: bool = Field(description="picked by the latest periodic screening")
    balance: str | None = Field(description="outstanding principal on as_of (null: not shown)")
    overdue_amount: str | None
    max_dpd: int | None


class PoolPage(Page):
    as_of: str | None = Field(description="the churn date shown (default: the latest)")
    items: list[PoolItem]


def _shows_accounts(user: User) -> bool:
    return can(user.role, Action.ACCOUNT_VIEW)


def _item(row: Any, user: User) -> PoolItem:
    accounts = _shows_accounts(user)
    return PoolItem(
        customer_id=row.customer_id, name=row.name, branch_id=row.customer_branch,
        as_of=iso(row.as_of) or "",
        rules=[k for k in read.RULES if row._mapping[k]],
        first_identified=iso(row.first_identified) or "", degree=row.degree,
        grade=int(row.grade), reason=row.reason, reason_source=row.reason_source,
        worth_pursuing=bool(row.worth_pursuing),
        balance=amount(row.balance) if accounts else None,
        overdue_amount=amount(row.overdue_amount) if accounts else None,
        max_dpd=int(row.max_dpd) if accounts else None,
    )  # fmt: skip


def _day(conn: Connection, as_of: date | None) -> date | None:
    if as_of is None:
        return read.latest_churn_date(conn)
    if not read.is_churn_date(conn, as_of):
        raise NotFound(f"no churn identification stored for {as_of}", field="as_of")
    return as_of


@router.get("/pool", response_model=PoolPage)
def pool(
    as_of: BusinessDate | None = Query(None, description="default: the latest churn date"),
    rule: Rule | None = None,
    degree: Degree | None = None,
    grade: int | None = Query(None, ge=1, le=3),
    reason: Reason | Literal["none"] | None = Query(None, description="'none': no reason yet"),
    branch: str | None = Query(None, min_length=1, max_length=32, pattern=NO_NUL),
    worth_pursuing: bool | None = None,
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(ChurnAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> PoolPage:
    """The churned-customer pool (流失客户信息库) on a date, in the caller's scope, worst grade
    first, with filters."""
    day = _day(conn, as_of)
    if day is None:
        return PoolPage(as_of=None, items=[], total=0, page=page, page_size=page_size)
    wanted = read.PoolFilter(rule, degree, grade, reason, branch, worth_pursuing, customer_id)
    scope = customer_scope_clause(user, ChurnAction.VIEW)
    total, rows = read.pool_page(conn, day, scope, wanted, page, page_size)
    return PoolPage(as_of=day.isoformat(), items=[_item(r, user) for r in rows], total=total,
                    page=page, page_size=page_size)  # fmt: skip


class CustomerBrief(BaseModel):
    customer_id: str
    name: str | None
    phone: str | None = Field(description="masked")
    branch_id: str | None
    consent_marketing: bool | None


class ChurnCard(BaseModel):
    customer: CustomerBrief
    as_of: str | None = Field(description="the latest churn date")
    in_pool: bool
    current: dict[str, Any] | None = Field(
        description="on as_of: rules, first_identified, degree, grade, reason (+ source), "
        "worth_pursuing, amounts, evidence per rule and the signals grading read"
    )
    history: list[PoolItem] = Field(description="identification rows, newest first")
    episodes: list[dict[str, Any]] = Field(description="pool episodes, newest first")
    reasons: list[dict[str, Any]] = Field(description="officers' confirmations, newest first")


def _brief(row: Any, user: User) -> CustomerBrief:
    # The phone only, masked for the role: the card needs no other personal field.
    masked = mask_customer({"phone": row.phone, "extra": None}, user.role)
    return CustomerBrief(
        customer_id=row.customer_id, name=row.name, phone=masked["phone"],
        branch_id=row.branch_id, consent_marketing=row.consent_marketing,
    )  # fmt: skip


def _visible(conn: Connection, user: User, customer_id: str, action: str) -> Any:
    row = visible_customer(conn, user, customer_id, action)
    if row is None:  # unknown and out of scope look the same
        raise NotFound(f"no customer {customer_id!r}", field="customer_id")
    return row


@router.get("/customers/{customer_id}", response_model=ChurnCard)
def churn_card(
    customer_id: str = CustomerId,
    user: User = Depends(require(ChurnAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> ChurnCard:
    """A customer's churn card: in the pool or not on the latest churn date, with evidence per
    rule, degree, grade and reason; the history of identification, episodes and reasons."""
    customer = _visible(conn, user, customer_id, ChurnAction.VIEW)
    latest = read.latest_churn_date(conn)
    rows = read.customer_rows(conn, customer_id, HISTORY_SHOWN)
    current = None
    if rows and latest is not None and iso(rows[0].as_of) == latest.isoformat():
        current = current_row(rows[0])
        if not _shows_accounts(user):
            current.update(balance=None, overdue_amount=None, max_dpd=None, evidence=None,
                           signals=None)  # fmt: skip
    return ChurnCard(
        customer=_brief(customer, user),
        as_of=None if latest is None else latest.isoformat(),
        in_pool=current is not None,
        current=current,
        history=[_item(r, user) for r in rows],
        episodes=[episode(e) for e in read.customer_episodes(conn, customer_id)],
        reasons=[confirmation(r) for r in read.customer_reasons(conn, customer_id)],
    )


class ReasonIn(BaseModel):
    reason: Reason
    note: str = Field(
        min_length=1, max_length=MAX_NOTE, pattern=NO_NUL,
        description="why: what the customer said, what the officer found",
    )  # fmt: skip
    as_of: BusinessDate | None = Field(
        default=None, description="a churn date of the episode (default: the latest)"
    )


class ReasonOut(BaseModel):
    reason_id: int
    customer_id: str
    as_of: str
    reason: str
    previous: str | None = Field(description="the reason shown before")
    suggested: str | None
    note: str
    confirmed_by: str
    confirmed_at: str


@router.post("/customers/{customer_id}/reason", response_model=ReasonOut)
def confirm(
    body: ReasonIn,
    customer_id: str = CustomerId,
    user: User = Depends(require(ChurnAction.REASON)),
    conn: Connection = Depends(get_conn),
) -> ReasonOut:
    """Confirm or change the customer's churn reason (CH-3) for its current episode: who,
    when and why are recorded and audited. 409 when the customer is not in the pool."""
    _visible(conn, user, customer_id, ChurnAction.REASON)
    if body.as_of is not None and not read.is_churn_date(conn, body.as_of):
        raise NotFound(f"no churn identification stored for {body.as_of}", field="as_of")
    done = confirm_reason(conn, customer_id, body.reason, body.note, user.username, now(),
                          body.as_of)  # fmt: skip
    conn.commit()
    return ReasonOut(
        reason_id=done.reason_id, customer_id=customer_id, as_of=done.as_of.isoformat(),
        reason=done.reason, previous=done.previous, suggested=done.suggested, note=done.note,
        confirmed_by=done.confirmed_by, confirmed_at=done.confirmed_at.isoformat(),
    )  # fmt: skip


class Kpis(BaseModel):
    date_from: str
    date_to: str
    rates: list[dict[str, Any]] = Field(description="per month (last churn date) and branch")
    flows: list[dict[str, Any]] = Field(description="pool size, entries, exits by reason")
    win_back_rate: float | None = Field(
        description="share of exits that were a win-back "
        "(re-applied, new account, resumed); null: no exit"
    )
    win_back: dict[str, Any] | None = Field(
        description="the win-back rate by arm: treated episodes and the random holdout"
    )
    notes: dict[str, str]


DEFAULT_PERIOD_DAYS = 365


@router.get("/kpis", response_model=Kpis)
def kpis(
    request: Request,
    date_from: BusinessDate | None = Query(None, description="default: a year before date_to"),
    date_to: BusinessDate | None = Query(None, description="default: the latest churn date"),
    user: User = Depends(require(ChurnAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> Kpis:
    """Churn KPIs over the customers in the caller's scope: churn rate per rule by customers
    and by balance, per branch and month; pool size and flows (entries, exits by reason)."""
    end = date_to or read.latest_churn_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or max(end - timedelta(days=DEFAULT_PERIOD_DAYS), date(1900, 1, 1))
    found = churn_report(conn, start, end, customer_scope_clause(user, ChurnAction.REPORT))
    data = as_json(
        found,
        win_back_rates(
            conn,
            start,
            end,
            effective_policy(request)[0],
            customer_scope_clause(user, ChurnAction.REPORT),
        ),
    )
    if not _shows_accounts(user):  # balances are account data
        for row in data["rates"]:
            for key in list(row):
                if key == "outstanding" or key.endswith(("_balance", "_rate_balance")):
                    row[key] = None
    return Kpis(**data)
