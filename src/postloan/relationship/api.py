"""The relationship area's complaint routes (`/api/relationship/complaints...`) and the
complaint report. Every complaint is reached through its customer's data scope for the route's
action: outside it answers 404 like a complaint that does not exist. Writes are audited (the
services) and, with the session cookie, need the CSRF token (`api.deps`). The customer's name
is masked as everywhere (`access.masking`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select

from postloan.access.masking import mask_customer
from postloan.access.scope import customer_in_scope, customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page
from postloan.calendar import PRC_TZ
from postloan.errors import InvalidError
from postloan.inputs import BusinessDate
from postloan.relationship import complaints as svc
from postloan.relationship.actions import RelAction
from postloan.relationship.report import MAX_DAYS, complaint_report
from postloan.relationship.tables import complaints
from postloan.store.schema import customers

router = APIRouter(prefix="/api/relationship", tags=["relationship"], responses=ERROR_RESPONSES)

ComplaintId = Path(ge=1, le=2**31 - 1, description="the complaint id")
Id64 = Field(min_length=1, max_length=64, pattern=NO_NUL)
Text = Field(min_length=1, max_length=svc.MAX_TEXT, pattern=NO_NUL)


def today(at: datetime | None = None) -> date:
    """The business date of a user's action: the day in China (the clock's days are PRC)."""
    return (at or now()).astimezone(PRC_TZ).date()


class ComplaintIn(BaseModel):
    customer_id: str = Id64
    account_id: str | None = Field(None, min_length=1, max_length=64, pattern=NO_NUL)
    received_on: BusinessDate
    channel: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    business_type: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    reason: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    summary: str = Text
    complained_about: list[str] = Field(default_factory=list, max_length=svc.MAX_NAMED)


class Clock(BaseModel):
    limit_days: int
    deadline: str
    status: str = Field(description="open | breached | decided | decided_late")
    days_left: int


class ComplaintOut(BaseModel):
    complaint_id: int
    customer_id: str
    customer_name: str | None = Field(description="masked for the caller's role")
    account_id: str | None
    received_on: str
    channel: str
    business_type: str
    reason: str
    department: str
    summary: str
    complained_about: list[str]
    handler: str | None
    complex: bool
    complex_reason: str | None
    extension_approved_by: str | None
    extension_notice_on: str | None
    decided_on: str | None
    outcome: str | None
    decision: str | None
    root_cause: str | None
    fix: str | None
    clock: Clock
    events: list[dict[str, Any]] | None = None


def _iso(v: Any) -> str | None:
    return None if v is None else str(v)[:10]


def _out(conn: Connection, row: Any, user: User, request: Request, events: bool) -> ComplaintOut:
    policy = effective_policy(request)[0]
    clock = svc.clock_of(row, policy, today())
    cust = conn.execute(
        select(customers.c.name).where(customers.c.customer_id == row.customer_id)
    ).first()
    name = mask_customer({"name": cust.name}, user.role)["name"] if cust else None
    return ComplaintOut(
        complaint_id=row.complaint_id,
        customer_id=row.customer_id,
        customer_name=name,
        account_id=row.account_id,
        received_on=_iso(row.received_on) or "",
        channel=row.channel,
        business_type=row.business_type,
        reason=row.reason,
        department=row.department,
        summary=row.summary,
        complained_about=sorted(svc.named(row)),
        handler=row.handler,
        complex=bool(row.complex),
        complex_reason=row.complex_reason,
        extension_approved_by=row.extension_approved_by,
        extension_notice_on=_iso(row.extension_notice_on),
        decided_on=_iso(row.decided_on),
        outcome=row.outcome,
        decision=row.decision,
        root_cause=row.root_cause,
        fix=row.fix,
        clock=Clock(
            limit_days=clock.limit_days,
            deadline=clock.deadline.isoformat(),
            status=clock.status,
            days_left=clock.days_left,
        ),
        events=[
            {"kind": e.kind, "on": _iso(e.on_day), "actor": e.actor}
            for e in svc.events(conn, row.complaint_id)
        ]
        if events
        else None,
    )


def _complaint(conn: Connection, user: User, complaint_id: int, action: RelAction) -> Any:
    return row_in_scope(conn, user, complaints, "complaint_id", complaint_id, action)


class ComplaintPage(Page):
    items: list[ComplaintOut]


@router.get("/complaints", response_model=ComplaintPage)
def list_complaints(
    request: Request,
    status: Literal["open", "breached", "decided", "decided_late"] | None = None,
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> ComplaintPage:
    """Complaints in the caller's scope, newest first, each with its clock as of today; the
    status filter and the paging in SQL (`complaints.status_clause`)."""
    c = complaints.c
    q = (
        select(complaints)
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(customer_scope_clause(user, RelAction.VIEW))
    )
    if customer_id is not None:
        q = q.where(c.customer_id == customer_id)
    exact = True
    if status is not None:
        clause, exact = svc.status_clause(conn, effective_policy(request)[0], status, today())
        q = q.where(clause)
    start = (page - 1) * page_size
    if exact:
        total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
        page_rows = conn.execute(
            q.order_by(c.complaint_id.desc()).offset(start).limit(page_size)
        ).all()
        items = [_out(conn, r, user, request, False) for r in page_rows]
        return ComplaintPage(items=items, total=total, page=page, page_size=page_size)
    # a working-day clock: the deadline needs the calendar — the rows the clause leaves
    # (decided or not, the newest 5000) filtered by their clocks here
    rows = [
        _out(conn, r, user, request, False)
        for r in conn.execute(q.order_by(c.complaint_id.desc()).limit(5000))
    ]
    rows = [r for r in rows if r.clock.status == status]
    return ComplaintPage(
        items=rows[start : start + page_size], total=len(rows), page=page, page_size=page_size
    )


@router.post("/complaints", response_model=ComplaintOut, status_code=201)
def take_in(
    request: Request,
    body: ComplaintIn,
    user: User = Depends(require(RelAction.COMPLAINT)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """Take a complaint in: coded (policy codes), routed to its department, the clock starts
    on `received_on`."""
    customer_in_scope(conn, user, body.customer_id, RelAction.COMPLAINT)
    at = now()
    cid = svc.receive(
        conn,
        effective_policy(request)[0],
        customer_id=body.customer_id,
        received_on=body.received_on,
        channel=body.channel,
        business_type=body.business_type,
        reason=body.reason,
        summary=body.summary,
        complained_about=body.complained_about,
        account_id=body.account_id,
        actor=user.username,
        today=today(at),
        now=at,
    )
    conn.commit()
    return _out(conn, svc.get(conn, cid), user, request, True)


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
def one(
    request: Request,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    return _out(conn, _complaint(conn, user, complaint_id, RelAction.VIEW), user, request, True)


class AssignIn(BaseModel):
    handler: str = Id64


class ComplexIn(BaseModel):
    reason: str = Text


class ExtendIn(BaseModel):
    notice_on: BusinessDate | None = Field(None, description="the day the complainant was told")


class DecideIn(BaseModel):
    decided_on: BusinessDate
    outcome: Literal["upheld", "partly_upheld", "not_upheld"]
    decision: str = Text


class TraceIn(BaseModel):
    root_cause: str = Text
    fix: str = Text


def _step(
    request: Request, conn: Connection, user: User, complaint_id: int, action: RelAction, do: Any
) -> ComplaintOut:
    _complaint(conn, user, complaint_id, action)
    at = now()
    do(effective_policy(request)[0], today(at), at)
    conn.commit()
    return _out(conn, svc.get(conn, complaint_id), user, request, True)


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintOut)
def assign(
    request: Request,
    body: AssignIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.COMPLAINT)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """Give the complaint a handler who is not named in it (回避: 403 `recusal`)."""
    return _step(
        request,
        conn,
        user,
        complaint_id,
        RelAction.COMPLAINT,
        lambda p, d, at: svc.assign(
            conn, complaint_id, body.handler, actor=user.username, today=d, now=at
        ),
    )


@router.post("/complaints/{complaint_id}/complex", response_model=ComplaintOut)
def declare_complex(
    request: Request,
    body: ComplexIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.COMPLAINT)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """Declare the case complex (its limit becomes 30 days) before the 15 days run out."""
    return _step(
        request,
        conn,
        user,
        complaint_id,
        RelAction.COMPLAINT,
        lambda p, d, at: svc.declare_complex(
            conn, p, complaint_id, body.reason, actor=user.username, today=d, now=at
        ),
    )


@router.post("/complaints/{complaint_id}/extend", response_model=ComplaintOut)
def extend(
    request: Request,
    body: ExtendIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.COMPLAINT_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """A senior's approval of the +30 days, with the notice to the complainant (403 naming
    what is missing: `no_notice`, `own_case`, `not_complex`, `too_late` ...)."""
    return _step(
        request,
        conn,
        user,
        complaint_id,
        RelAction.COMPLAINT_APPROVE,
        lambda p, d, at: svc.extend(
            conn,
            p,
            complaint_id,
            notice_on=body.notice_on,
            approver=user.username,
            approver_role=user.role,
            today=d,
            now=at,
        ),
    )


@router.post("/complaints/{complaint_id}/decide", response_model=ComplaintOut)
def decide(
    request: Request,
    body: DecideIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.COMPLAINT)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """The decision told to the complainant on `decided_on` (stops the clock)."""
    return _step(
        request,
        conn,
        user,
        complaint_id,
        RelAction.COMPLAINT,
        lambda p, d, at: svc.decide(
            conn,
            complaint_id,
            decided_on=body.decided_on,
            outcome=body.outcome,
            decision=body.decision,
            actor=user.username,
            today=d,
            now=at,
        ),
    )


@router.post("/complaints/{complaint_id}/trace", response_model=ComplaintOut)
def trace(
    request: Request,
    body: TraceIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.COMPLAINT)),
    conn: Connection = Depends(get_conn),
) -> ComplaintOut:
    """溯源整改: the root cause and its fix, once decided."""
    return _step(
        request,
        conn,
        user,
        complaint_id,
        RelAction.COMPLAINT,
        lambda p, d, at: svc.trace(
            conn,
            complaint_id,
            root_cause=body.root_cause,
            fix=body.fix,
            actor=user.username,
            today=d,
            now=at,
        ),
    )


def period(start: date | None, end: date | None) -> tuple[date, date]:
    last = end or today()
    first = start or last - timedelta(days=365)
    if first > last or (last - first).days > MAX_DAYS:
        raise InvalidError(
            f"date_from..date_to: in order and at most {MAX_DAYS} days", field="date_from"
        )
    return first, last


@router.get("/reports/complaints")
def complaints_report(
    request: Request,
    date_from: BusinessDate | None = None,
    date_to: BusinessDate | None = None,
    user: User = Depends(require(RelAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Complaints received in the period with their clocks as of today: counts and every
    breach (the breach report)."""
    first, last = period(date_from, date_to)
    return complaint_report(
        conn,
        effective_policy(request)[0],
        first,
        last,
        today(),
        customer_scope_clause(user, RelAction.REPORT),
    )
