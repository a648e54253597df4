"""Collections work: a collector's task queue, the contact form's policy check, recording
contacts, completing reminders, and the weekly contact-compliance report.

Every customer row is filtered through the caller's data scope (`customer_scope_clause`); a
task or customer outside it answers 404, like one that does not exist.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Select, desc, func, select

from postloan.access.permissions import Action
from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Conflict, Invalid, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, amount, iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.compliance import compliance_report
from postloan.collections.contacts import (
    CHANNELS,
    OUTCOMES,
    Contact,
    ContactRefused,
    check_contact,
    opted_out_channels,
    recent_contacts,
    record_contact,
)
from postloan.collections.kpis import KpiError, kpis_for
from postloan.collections.reminders import Reminder, complete, message
from postloan.collections.tables import cases, tasks
from postloan.inputs import Amount, BusinessDate, Instant, RowId
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status, customers

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)

Channel = Literal["phone", "sms", "letter", "visit", "email"]
Outcome = Literal[
    "connected", "promise_to_pay", "refused_to_pay", "dispute", "no_answer", "busy",
    "wrong_number", "left_message", "sent", "delivery_failed", "met", "not_home",
]  # fmt: skip
assert set(Channel.__args__) == set(CHANNELS) and set(Outcome.__args__) == set(OUTCOMES)  # type: ignore[attr-defined]


class Task(BaseModel):
    task_id: int
    kind: str = Field(description="reminder | contact")
    customer_id: str
    account_id: str
    created_on: str
    window_start: str
    due_by: str
    pay_by: str | None
    overdue_amount: str
    dpd: int
    status: str
    done_at: str | None
    done_by: str | None
    channel: str | None
    case_stage: str | None = Field(description="the customer's open case's stage")
    priority: int = Field(description="the open case's priority (higher first)")
    message: str | None = Field(description="reminders: the text to send (zh-CN or en)")


class TaskPage(BaseModel):
    total: int
    items: list[Task]


@router.get("/tasks", response_model=TaskPage)
def task_queue(
    request: Request,
    status: Literal["open", "done"] = "open",
    kind: Literal["reminder", "contact"] | None = None,
    due_by: BusinessDate | None = Query(None, description="only tasks due on or before this date"),
    lang: Literal["zh-CN", "en"] = "zh-CN",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10_000_000),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> TaskPage:
    """The caller's work queue: tasks of the customers in their scope, the highest case
    priority first, then the earliest due."""
    policy, _ = effective_policy(request)
    where: list[Any] = [
        tasks.c.status == status,
        tasks.c.customer_id.in_(
            select(customers.c.customer_id).where(
                customer_scope_clause(user, CollectionsAction.CASE_VIEW)
            )
        ),
    ]
    if kind:
        where.append(tasks.c.kind == kind)
    if due_by:
        where.append(tasks.c.due_by <= due_by)
    total = conn.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one()
    rows = conn.execute(_with_case(where).limit(limit).offset(offset)).all()
    return TaskPage(total=total, items=[_task(r, policy, lang) for r in rows])


def _with_case(where: list[Any]) -> Select[Any]:
    """Tasks with their customer's open case (stage, priority), in queue order."""
    open_case = (
        select(cases.c.customer_id, cases.c.stage, cases.c.priority)
        .where(cases.c.status == "open")
        .subquery()
    )
    return (
        select(tasks, open_case.c.stage, open_case.c.priority)
        .outerjoin(open_case, open_case.c.customer_id == tasks.c.customer_id)
        .where(*where)
        .order_by(desc(func.coalesce(open_case.c.priority, 0)), tasks.c.due_by, tasks.c.task_id)
    )


def _day(value: Any) -> str | None:
    return None if value is None else str(iso(value))[:10]


def _task(r: Any, policy: Policy, lang: str) -> Task:
    text = None
    if r.kind == "reminder" and r.pay_by is not None:
        pay_by = date.fromisoformat(str(_day(r.pay_by)))
        text = message(Reminder(r.account_id, r.dpd, r.overdue_amount, pay_by), policy, lang)
    return Task(
        task_id=r.task_id, kind=r.kind, customer_id=r.customer_id, account_id=r.account_id,
        created_on=str(_day(r.created_on)), window_start=str(_day(r.window_start)),
        due_by=str(_day(r.due_by)), pay_by=_day(r.pay_by),
        overdue_amount=amount(r.overdue_amount) or "0.00", dpd=r.dpd, status=r.status,
        done_at=iso(r.done_at), done_by=r.done_by, channel=r.channel, case_stage=r.stage,
        priority=r.priority or 0, message=text,
    )  # fmt: skip


def _customer_in_scope(
    conn: Connection, user: User, customer_id: str, action: Action | str
) -> None:
    found = conn.execute(
        select(customers.c.customer_id).where(
            customers.c.customer_id == customer_id, customer_scope_clause(user, action)
        )
    ).first()
    if found is None:
        raise NotFound(f"no customer {customer_id!r}", field="customer_id")


class ReminderDone(BaseModel):
    channel: Literal["phone", "sms"]


@router.post("/tasks/{task_id}/complete", response_model=Task)
def complete_reminder(
    request: Request,
    body: ReminderDone,
    task_id: RowId,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> Task:
    """Mark a reminder sent (by phone or SMS). Contact tasks are completed by recording the
    contact (`POST /api/collections/contacts`)."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None:
        raise NotFound(f"no task {task_id}", field="task_id")
    _customer_in_scope(conn, user, row.customer_id, CollectionsAction.CONTACT_RECORD)
    if row.kind != "reminder":
        raise Conflict(
            f"task {task_id} is a {row.kind} task: record the contact instead", field="task_id"
        )
    if row.status != "open":
        raise Conflict(f"task {task_id} is already {row.status}", field="task_id")
    complete(conn, task_id, user.username, body.channel, now())
    conn.commit()
    done = conn.execute(_with_case([tasks.c.task_id == task_id])).one()
    return _task(done, effective_policy(request)[0], "zh-CN")


class ContactIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    account_id: str | None = Field(None, min_length=1, max_length=64, pattern=NO_NUL)
    at: Instant | None = Field(None, description="when (with its zone); default now")
    channel: Channel
    staff: list[str] = Field(
        default_factory=list, max_length=10, description="others present (visits: ≥ 2 staff)"
    )
    outcome: Outcome
    content: str | None = Field(None, max_length=4000, pattern=NO_NUL)
    response: str | None = Field(None, max_length=4000, pattern=NO_NUL)
    promise_amount: Amount | None = None
    promise_date: BusinessDate | None = None


class Violation(BaseModel):
    rule: str
    message: str


class ContactCheck(BaseModel):
    allowed: bool
    violations: list[Violation]


def _contact(body: ContactIn, user: User) -> Contact:
    at = body.at or now()  # Instant: aware, in the business range
    staff = tuple(sorted({user.username, *(s.strip() for s in body.staff if s.strip())}))
    return Contact(body.customer_id, at, body.channel, staff, body.outcome)


@router.post("/contacts/check", response_model=ContactCheck)
def check_planned_contact(
    request: Request,
    body: ContactIn,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> ContactCheck:
    """What the contact policy says about a contact before it is saved (nothing is stored)."""
    _customer_in_scope(conn, user, body.customer_id, CollectionsAction.CONTACT_RECORD)
    policy, _ = effective_policy(request)
    planned = _contact(body, user)
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    broken = check_contact(
        planned, recent_contacts(conn, planned.customer_id, planned.at),
        opted_out_channels(conn, planned.customer_id), rules, policy.contact.min_staff_per_visit,
    )  # fmt: skip
    return ContactCheck(
        allowed=not broken, violations=[Violation(rule=v.rule, message=v.message) for v in broken]
    )


class ContactSaved(BaseModel):
    contact_id: int


@router.post("/contacts", response_model=ContactSaved, status_code=201)
def save_contact(
    request: Request,
    body: ContactIn,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> ContactSaved:
    """Record a contact. One the policy refuses answers 409 naming every rule it breaks (the
    refusal is kept for the compliance report); a `promise_to_pay` carries amount and date."""
    _customer_in_scope(conn, user, body.customer_id, CollectionsAction.CONTACT_RECORD)
    policy, _ = effective_policy(request)
    promise = None
    if body.outcome == "promise_to_pay":
        if body.promise_amount is None or body.promise_date is None:
            raise Invalid("a promise to pay needs promise_amount and promise_date",
                          field="promise_amount" if body.promise_amount is None
                          else "promise_date")  # fmt: skip
        promise = (body.promise_amount, body.promise_date)  # Amount: minor units, checked
    elif body.promise_amount is not None or body.promise_date is not None:
        raise Invalid("only a promise_to_pay outcome carries a promise", field="outcome")
    if body.account_id is not None:
        owned = conn.execute(
            select(account_status.c.account_id)
            .where(account_status.c.account_id == body.account_id,
                   account_status.c.customer_id == body.customer_id)
            .limit(1)
        ).first()  # fmt: skip
        if owned is None:
            raise Invalid(
                f"account {body.account_id!r} is not one of the customer's", field="account_id"
            )
    try:
        contact_id = record_contact(
            conn, _contact(body, user), policy, recorded_by=user.username,
            account_id=body.account_id, content=body.content, response=body.response,
            promise=promise,
        )  # fmt: skip
    except ContactRefused as refused:
        conn.commit()  # the refusal is kept
        raise Conflict(
            f"refused by the contact policy: {refused}",
            code="contact_refused",
            field="at" if any(v.rule == "quiet_hours" for v in refused.violations) else None,
            problems=[{"rule": v.rule, "message": v.message} for v in refused.violations],
        ) from refused
    except ValueError as exc:
        conn.rollback()
        field = str(exc).split(":", 1)[0]
        raise Invalid(str(exc), field=field if field.isidentifier() else None) from exc
    conn.commit()
    return ContactSaved(contact_id=contact_id)


class BelowFloor(BaseModel):
    case_id: int
    customer_id: str
    bucket: str
    floor: int
    contacts: int


class Refused(BaseModel):
    customer_id: str
    at: str
    channel: str
    recorded_by: str
    rules: list[str]
    detail: str


class AboveCap(BaseModel):
    contact_id: int
    customer_id: str
    at: str
    rules: list[str]


class Compliance(BaseModel):
    week_ending: str
    below_floor: list[BelowFloor]
    refused: list[Refused]
    above_cap: list[AboveCap]


@router.get("/compliance", response_model=Compliance)
def compliance(
    request: Request,
    as_of: BusinessDate | None = Query(
        None, description="the week's last day; default the latest run"
    ),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> Compliance:
    """The contact-compliance report for the 7 days up to `as_of`, over the caller's scope."""
    policy, _ = effective_policy(request)
    day = as_of or latest_stored_date(conn)
    if day is None:
        raise NotFound("no stored status yet: run a date first", field="as_of")
    report = compliance_report(conn, day, policy)
    visible = set(
        conn.execute(
            select(customers.c.customer_id).where(
                customer_scope_clause(user, CollectionsAction.REPORT_COLLECTIONS)
            )
        ).scalars()
    )
    return Compliance(
        week_ending=day.isoformat(),
        below_floor=[BelowFloor(**r) for r in report.below_floor if r["customer_id"] in visible],
        refused=[
            Refused(**{**r, "at": iso(r["at"])})
            for r in report.refused
            if r["customer_id"] in visible
        ],
        above_cap=[
            AboveCap(**{**r, "at": iso(r["at"])})
            for r in report.above_cap
            if r["customer_id"] in visible
        ],
    )


class Kpis(BaseModel):
    from_: str = Field(alias="from")
    to: str
    opening: str
    closing: str
    rows: list[dict[str, Any]] = Field(
        description="level (portfolio | team | collector), key, and the KPI columns "
        "(amounts in minor units, rates as fractions; null when undefined)"
    )
    cure_by_bucket: list[dict[str, Any]]
    strategies: list[dict[str, Any]]


@router.get("/kpis", response_model=Kpis, response_model_by_alias=True)
def kpis(
    request: Request,
    from_: BusinessDate | None = Query(
        None, alias="from", description="default: 29 days before `to`"
    ),
    to: BusinessDate | None = Query(None, description="default: the latest stored date"),
    user: User = Depends(require(CollectionsAction.REPORT_COLLECTIONS)),
    conn: Connection = Depends(get_conn),
) -> Kpis:
    """Collection KPIs for the period (as `postloan report collections`). Head-office roles
    see every line; a branch role the teams and collectors of its branch; a collector their
    own line."""
    policy, _ = effective_policy(request)
    end = to or latest_stored_date(conn)
    if end is None:
        raise NotFound("no stored status yet: run a date first", field="to")
    start = from_ or end - timedelta(days=29)
    try:
        result, rows = kpis_for(conn, user, start, end, policy)
    except KpiError as exc:
        raise Invalid(str(exc), field="to" if "before" in str(exc) else "from") from exc
    return Kpis.model_validate(
        {"from": start.isoformat(), "to": end.isoformat(),
         "opening": result.opening.isoformat(), "closing": result.closing.isoformat(),
         "rows": rows.to_dicts(), "cure_by_bucket": result.cure_by_bucket.to_dicts(),
         "strategies": result.strategies.to_dicts()}
    )  # fmt: skip
