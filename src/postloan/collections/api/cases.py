"""Cases over the API: the case list (with each case's collector, strategy and latest
rating), giving a customer's open case to another collector, and the reassignment log.

Every row is filtered through the caller's data scope (`customer_scope_clause`) for the route's
action; a customer outside it answers 404, like one that does not exist. Cases are addressed by
customer (a customer has at most one open case; case ids change when the daily run rebuilds
cases). The routes keep the OpenAPI tag "casework" (with `alerts` and `strategies`): the work
on a case beyond its rules — who works it, how, and how risky it is (docs/glossary.md).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, func, select

from postloan.access.scope import customer_scope_clause
from postloan.access.tables import users
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, ApiError, Conflict, Invalid, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.allocation import ReassignRefused, reassign
from postloan.collections.casework_tables import reassignments
from postloan.collections.queries import cases_handled, reassignment_moves
from postloan.collections.tables import cases
from postloan.store.schema import customers

router = APIRouter(prefix="/api", tags=["casework"], responses=ERROR_RESPONSES)

CustomerId = Path(min_length=1, max_length=64, pattern=NO_NUL, description="the customer id")
Stage = Literal["none", "reminder", "negotiation", "intensified", "legal_review"]


class CaseItem(BaseModel):
    case_id: int = Field(description="changes when the daily run rebuilds cases")
    customer_id: str
    branch_id: str | None
    status: str = Field(description="open | closed")
    stage: str
    priority: int
    opened_on: str
    closed_on: str | None
    opened_max_dpd: int
    opened_overdue_amount: str
    collector: str | None = Field(description="username of the customer's collector")
    strategy: str | None = Field(description="the strategy of the case's current stage")
    arm: str | None = Field(description="champion | challenger")
    score: int | None = Field(description="latest risk score, 0-100 (higher = riskier)")
    grade: str | None
    rated_on: str | None


class CasePage(Page):
    items: list[CaseItem]


@router.get("/cases", response_model=CasePage)
def list_cases(
    status: Literal["open", "closed"] | None = Query("open", description="omit for both"),
    stage: Stage | None = None,
    collector: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    strategy: str | None = Query(None, min_length=1, max_length=32, pattern=NO_NUL),
    grade: str | None = Query(None, min_length=1, max_length=8, pattern=NO_NUL),
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> CasePage:
    """Cases of the customers in the caller's scope, highest priority first."""
    handled = cases_handled()
    joined, holder, plan, rated = handled.source, handled.holder, handled.plan, handled.rated
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    for column, wanted in ((cases.c.status, status), (cases.c.stage, stage),
                           (holder.c.collector, collector), (plan.c.strategy, strategy),
                           (rated.c.grade, grade), (cases.c.customer_id, customer_id)):  # fmt: skip
        if wanted is not None:
            where.append(column == wanted)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(joined).where(clause)).scalar_one()
    rows = conn.execute(
        select(cases, customers.c.branch_id, holder.c.collector, plan.c.strategy, plan.c.arm,
               rated.c.score, rated.c.grade, rated.c.rated_on)
        .select_from(joined)
        .where(clause)
        .order_by(cases.c.priority.desc(), cases.c.opened_on, cases.c.case_id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()  # fmt: skip
    items = [
        CaseItem(
            case_id=r.case_id, customer_id=r.customer_id, branch_id=r.branch_id,
            status=r.status, stage=r.stage, priority=r.priority, opened_on=iso(r.opened_on) or "",
            closed_on=iso(r.closed_on), opened_max_dpd=r.opened_max_dpd,
            opened_overdue_amount=amount(r.opened_overdue_amount) or "0.00",
            collector=r.collector, strategy=r.strategy, arm=r.arm, score=r.score,
            grade=r.grade, rated_on=iso(r.rated_on),
        )
        for r in rows
    ]  # fmt: skip
    return CasePage(items=items, total=total, page=page, page_size=page_size)


class ReassignIn(BaseModel):
    to: str = Field(min_length=1, max_length=64, pattern=NO_NUL, description="a collector")
    reason: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


class Reassigned(BaseModel):
    customer_id: str
    from_collector: str | None
    to_collector: str
    reason: str


_REFUSALS: dict[str, type[ApiError]] = {"not_found": NotFound, "conflict": Conflict,
                                        "invalid": Invalid}  # fmt: skip


@router.post("/cases/{customer_id}/reassign", response_model=Reassigned)
def reassign_case(
    request: Request,
    body: ReassignIn,
    customer_id: str = CustomerId,
    user: User = Depends(require(CollectionsAction.CASE_ASSIGN)),
    conn: Connection = Depends(get_conn),
) -> Reassigned:
    """Give the customer's open case to another collector of the same branch, with a reason
    (logged in the reassignment log and audited)."""
    try:
        entry = reassign(conn, customer_id, body.to, body.reason, user, now(),
                         effective_policy(request)[0])  # fmt: skip
    except ReassignRefused as refused:
        raise _REFUSALS[refused.kind](refused.message, field=refused.field) from None
    conn.commit()
    names = {r.user_id: r.username for r in conn.execute(
        select(users.c.user_id, users.c.username).where(
            users.c.user_id.in_([u for u in (entry["from_user_id"], entry["to_user_id"]) if u])
        ))}  # fmt: skip
    return Reassigned(customer_id=customer_id, from_collector=names.get(entry["from_user_id"]),
                      to_collector=names[entry["to_user_id"]], reason=entry["reason"])  # fmt: skip


class LogEntry(BaseModel):
    log_id: int
    customer_id: str
    kind: str = Field(description="allocate | reallocate | reassign | release")
    from_collector: str | None
    to_collector: str | None
    reason: str
    by: str = Field(description="who: a username, or 'system' (the daily run)")
    at: str
    business_date: str | None


class LogPage(Page):
    items: list[LogEntry]


@router.get("/reassignments", response_model=LogPage)
def reassignment_log(
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> LogPage:
    """Every allocation, release and reassignment of customers in the caller's scope, newest
    first."""
    joined, columns = reassignment_moves()
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    if customer_id is not None:
        where.append(reassignments.c.customer_id == customer_id)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(joined).where(clause)).scalar_one()
    rows = conn.execute(
        select(*columns)
        .select_from(joined)
        .where(clause)
        .order_by(reassignments.c.log_id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()  # fmt: skip
    items = [
        LogEntry(log_id=r.log_id, customer_id=r.customer_id, kind=r.kind,
                 from_collector=r.source, to_collector=r.target, reason=r.reason, by=r.by,
                 at=iso(r.at) or "", business_date=iso(r.business_date))
        for r in rows
    ]  # fmt: skip
    return LogPage(items=items, total=total, page=page, page_size=page_size)
