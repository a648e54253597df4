"""Casework: the case list (with collector, strategy and rating), manual reassignment, the
reassignment log, and risk alerts with their acknowledgement.

Every row is filtered through the caller's data scope (`customer_scope_clause`) for the route's
action; a customer or alert outside it answers 404, like one that does not exist. Cases are
addressed by customer (a customer has at most one open case; case ids change when the daily
run rebuilds cases).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from postloan.access import audit
from postloan.access.roles import Role
from postloan.access.scope import customer_scope_clause
from postloan.access.tables import assignments, users
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, ApiError, Conflict, Invalid, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.allocation import ReassignRefused, reassign
from postloan.collections.casework_tables import alerts, case_ratings, reassignments
from postloan.collections.strategies import current_strategy, strategy_results
from postloan.collections.tables import cases
from postloan.inputs import BusinessDate, RowId
from postloan.store.dates import latest_stored_date
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


def _holders() -> Any:
    """customer_id, collector (username) of every customer held by an active collector."""
    return (
        select(assignments.c.customer_id, func.min(users.c.username).label("collector"))
        .join(users, users.c.user_id == assignments.c.user_id)
        .where(users.c.role == Role.COLLECTOR.value, users.c.active.is_(True))
        .group_by(assignments.c.customer_id)
        .subquery()
    )


def _latest_rating() -> Any:
    latest = (
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on,
               func.max(case_ratings.c.rated_on).label("rated_on"))
        .group_by(case_ratings.c.customer_id, case_ratings.c.case_opened_on)
        .subquery()
    )  # fmt: skip
    return (
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on, case_ratings.c.score,
               case_ratings.c.grade, case_ratings.c.rated_on)
        .join(latest, and_(latest.c.customer_id == case_ratings.c.customer_id,
                           latest.c.case_opened_on == case_ratings.c.case_opened_on,
                           latest.c.rated_on == case_ratings.c.rated_on))
        .subquery()
    )  # fmt: skip


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
    holder, plan, rated = _holders(), current_strategy(), _latest_rating()
    episode = and_(plan.c.customer_id == cases.c.customer_id,
                   plan.c.case_opened_on == cases.c.opened_on)  # fmt: skip
    rating = and_(rated.c.customer_id == cases.c.customer_id,
                  rated.c.case_opened_on == cases.c.opened_on)  # fmt: skip
    joined = (
        cases.join(customers, customers.c.customer_id == cases.c.customer_id)
        .outerjoin(holder, holder.c.customer_id == cases.c.customer_id)
        .outerjoin(plan, episode)
        .outerjoin(rated, rating)
    )
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
    source, target = aliased(users), aliased(users)
    joined = (
        reassignments.join(customers, customers.c.customer_id == reassignments.c.customer_id)
        .outerjoin(source, source.c.user_id == reassignments.c.from_user_id)
        .outerjoin(target, target.c.user_id == reassignments.c.to_user_id)
    )
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    if customer_id is not None:
        where.append(reassignments.c.customer_id == customer_id)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(joined).where(clause)).scalar_one()
    rows = conn.execute(
        select(reassignments, source.c.username.label("source"),
               target.c.username.label("target"))
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


class Alert(BaseModel):
    alert_id: int
    kind: str = Field(description="asset_transfer")
    customer_id: str
    event_id: str
    event_date: str
    raised_on: str
    detail: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None


class AlertPage(Page):
    items: list[Alert]


def _alert(row: Any) -> Alert:
    return Alert(
        alert_id=row.alert_id, kind=row.kind, customer_id=row.customer_id,
        event_id=row.event_id, event_date=iso(row.event_date) or "",
        raised_on=iso(row.raised_on) or "", detail=row.detail,
        acknowledged_by=row.acknowledged_by, acknowledged_at=iso(row.acknowledged_at),
    )  # fmt: skip


_IN_SCOPE = alerts.join(customers, customers.c.customer_id == alerts.c.customer_id)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    acknowledged: bool | None = Query(False, description="omit for both"),
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    raised_from: BusinessDate | None = None,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.ALERT_VIEW)),
    conn: Connection = Depends(get_conn),
) -> AlertPage:
    """Risk alerts of customers in the caller's scope, newest first (default: not yet
    acknowledged)."""
    where = [customer_scope_clause(user, CollectionsAction.ALERT_VIEW)]
    if acknowledged is not None:
        done = alerts.c.acknowledged_at.is_not(None)
        where.append(done if acknowledged else ~done)
    if customer_id is not None:
        where.append(alerts.c.customer_id == customer_id)
    if raised_from is not None:
        where.append(alerts.c.raised_on >= raised_from)
    clause = and_(*where)
    total = conn.execute(select(func.count()).select_from(_IN_SCOPE).where(clause)).scalar_one()
    rows = conn.execute(
        select(alerts)
        .select_from(_IN_SCOPE)
        .where(clause)
        .order_by(alerts.c.raised_on.desc(), alerts.c.alert_id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return AlertPage(items=[_alert(r) for r in rows], total=total, page=page,
                     page_size=page_size)  # fmt: skip


@router.post("/alerts/{alert_id}/acknowledge", response_model=Alert)
def acknowledge_alert(
    alert_id: RowId,
    user: User = Depends(require(CollectionsAction.ALERT_VIEW)),
    conn: Connection = Depends(get_conn),
) -> Alert:
    """The caller has seen the alert and taken it on (audited)."""
    row = conn.execute(
        select(alerts)
        .select_from(_IN_SCOPE)
        .where(
            alerts.c.alert_id == alert_id, customer_scope_clause(user, CollectionsAction.ALERT_VIEW)
        )
    ).first()
    if row is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    if row.acknowledged_at is not None:
        raise Conflict(
            f"alert {alert_id} was acknowledged by {row.acknowledged_by}", field="alert_id"
        )
    at = now()
    taken = conn.execute(
        alerts.update()
        .where(alerts.c.alert_id == alert_id, alerts.c.acknowledged_at.is_(None))
        .values(acknowledged_by=user.username, acknowledged_at=at)
    ).rowcount
    if taken != 1:  # someone else acknowledged it meanwhile
        raise Conflict(f"alert {alert_id} was acknowledged meanwhile", field="alert_id")
    audit.record(
        conn, actor=user.username, action="alert.acknowledge", target_type="customer",
        target_id=row.customer_id, detail={"alert_id": alert_id, "kind": row.kind,
                                           "event_id": row.event_id}, now=at,
    )  # fmt: skip
    conn.commit()
    done = conn.execute(select(alerts).where(alerts.c.alert_id == alert_id)).one()
    return _alert(done)


class StrategyResult(BaseModel):
    stage: str
    strategy: str
    arm: str = Field(description="champion | challenger")
    spells: int = Field(description="stage entries in the period on this strategy")
    cured: int = Field(description="...that ended with the case cured")
    cure_rate: float
    overdue_at_entry: str = Field(description="overdue amount when they entered the stage")
    recovered: str = Field(description="paid during the spells, at most the overdue at entry")
    recovery_rate: float | None


class StrategyResults(BaseModel):
    date_from: str
    date_to: str
    items: list[StrategyResult]


DEFAULT_PERIOD_DAYS = 90  # a quarter: long enough for early-stage spells to end


@router.get("/strategies/results", response_model=StrategyResults)
def compare_strategies(
    date_from: BusinessDate | None = Query(None, description="default: 90 days before date_to"),
    date_to: BusinessDate | None = Query(
        None, description="default: the latest stored status date"
    ),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> StrategyResults:
    """Champion vs challenger (OD-9): stage spells entered in the period by strategy — cure
    rate and recovery rate, over the customers in the caller's scope."""
    end = date_to or latest_stored_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or end - timedelta(days=DEFAULT_PERIOD_DAYS)  # BusinessDate: no overflow
    if start > end:
        raise Invalid("date_from: must be on or before date_to", field="date_from")
    scope = customer_scope_clause(user, CollectionsAction.REPORT_COLLECTIONS)
    frame = strategy_results(conn, start, end, scope)
    items = [
        StrategyResult(
            stage=r["stage"], strategy=r["strategy"], arm=r["arm"], spells=r["spells"],
            cured=r["cured"], cure_rate=r["cure_rate"],
            overdue_at_entry=amount(r["overdue_at_entry"]) or "0.00",
            recovered=amount(r["recovered"]) or "0.00", recovery_rate=r["recovery_rate"],
        )
        for r in frame.iter_rows(named=True)
    ]  # fmt: skip
    return StrategyResults(date_from=start.isoformat(), date_to=end.isoformat(), items=items)
