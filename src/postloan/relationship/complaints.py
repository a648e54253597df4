"""Complaints (CR-3): intake, routing, the handler (回避), the clock's steps, the decision and
the root cause and fix (溯源整改). Flushes, never commits; every change is a complaint event
and an audit entry. The caller has checked the customer lies in its scope.

What feeds other areas later: a complaint's `reason` "service" is churn's "service" reason,
and every complaint is a non-financial signal for early warning — `signals(conn, since)`
hands them as rows for those areas' interfaces (docs/relationship.md).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)

from postloan.access import audit
from postloan.access.permissions import can
from postloan.access.tables import users
from postloan.calendar import WorkingCalendar
from postloan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from postloan.policy import Policy
from postloan.relationship.actions import RelAction
from postloan.relationship.rules.clock import (
    ClockFacts,
    ClockState,
    Refusal,
    complex_refusals,
    extension_refusals,
    recusal,
    state,
)
from postloan.relationship.tables import complaint_events, complaints
from postloan.store.schema import cards, loans
from postloan.store.values import stored_date

MAX_TEXT = 2000
MAX_NAMED = 10
OUTCOMES = ("upheld", "partly_upheld", "not_upheld")


def _text(value: str | None, field: str, *, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidError(f"{field}: required", field=field)
        return None
    if len(text) > MAX_TEXT or "\x00" in text:
        raise InvalidError(f"{field}: at most {MAX_TEXT} characters", field=field)
    return text


def _refuse(refusals: list[Refusal], field: str) -> None:
    if refusals:
        first = refusals[0]
        raise RefusedError("; ".join(r.message for r in refusals), field=field, code=first.code)


def _event(
    conn: Connection,
    cid: int,
    kind: str,
    day: date,
    actor: str,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    conn.execute(
        insert(complaint_events).values(
            complaint_id=cid,
            kind=kind,
            on_day=day,
            actor=actor,
            at=now,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
        )
    )
    audit.record(
        conn,
        actor=actor,
        action=f"complaint.{kind}",
        target_type="complaint",
        target_id=str(cid),
        detail={"on": day.isoformat(), **detail},
        now=now,
    )


def _check_day(day: date, today: date, field: str, not_before: date | None = None) -> None:
    if day > today:
        raise InvalidError(f"{field}: {day} is in the future", field=field)
    if not_before is not None and day < not_before:
        raise InvalidError(f"{field}: {day} is before {not_before}", field=field)


def _owns_account(conn: Connection, customer_id: str, account_id: str) -> bool:
    for table, key in ((loans, loans.c.loan_id), (cards, cards.c.card_id)):
        row = conn.execute(select(table.c.customer_id).where(key == account_id)).first()
        if row is not None:
            return bool(row.customer_id == customer_id)
    return False


def receive(
    conn: Connection,
    policy: Policy,
    *,
    customer_id: str,
    received_on: date,
    channel: str,
    business_type: str,
    reason: str,
    summary: str,
    complained_about: list[str],
    account_id: str | None,
    actor: str,
    today: date,
    now: datetime,
) -> int:
    """Take a complaint in, coded and routed to its business type's department."""
    codes = policy.relationship.complaints
    for field, value, known in (
        ("channel", channel, codes.channels),
        ("business_type", business_type, codes.business_types),
        ("reason", reason, codes.reasons),
    ):
        if value not in known:
            raise InvalidError(f"{field}: one of {', '.join(known)}", field=field)
    _check_day(received_on, today, "received_on")
    text = _text(summary, "summary")
    named = sorted({n.strip() for n in complained_about if n.strip()})
    if len(named) > MAX_NAMED or any(len(n) > 64 or "," in n for n in named):
        raise InvalidError(f"complained_about: at most {MAX_NAMED} usernames", "complained_about")
    if account_id is not None and not _owns_account(conn, customer_id, account_id):
        raise InvalidError("account_id: not an account of this customer", field="account_id")
    department = codes.routing[business_type]
    key = conn.execute(
        insert(complaints).values(
            customer_id=customer_id,
            account_id=account_id,
            received_on=received_on,
            channel=channel,
            business_type=business_type,
            reason=reason,
            department=department,
            summary=text,
            complained_about=",".join(named),
            complex=False,
            created_by=actor,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    cid = int(key[0])
    _event(
        conn,
        cid,
        "received",
        received_on,
        actor,
        now,
        {
            "customer_id": customer_id,
            "channel": channel,
            "business_type": business_type,
            "reason": reason,
            "department": department,
        },
    )
    return cid


def get(conn: Connection, complaint_id: int) -> Any:
    row = conn.execute(select(complaints).where(complaints.c.complaint_id == complaint_id)).first()
    if row is None:
        raise NotFoundError(f"complaint {complaint_id}: not found", field="complaint_id")
    return row


def facts(row: Any) -> ClockFacts:
    def day(v: Any) -> date | None:
        return None if v is None else stored_date(v)

    return ClockFacts(
        received_on=stored_date(row.received_on),
        complex=bool(row.complex),
        extension_approved_by=row.extension_approved_by,
        extension_notice_on=day(row.extension_notice_on),
        decided_on=day(row.decided_on),
    )


def _calendar(policy: Policy) -> WorkingCalendar | None:
    clock = policy.relationship.complaints.clock
    return WorkingCalendar.from_policy(policy) if clock.day_count == "working" else None


def clock_of(row: Any, policy: Policy, as_of: date) -> ClockState:
    return state(facts(row), as_of, policy.relationship.complaints.clock, _calendar(policy))


def _days(conn: Connection, later: Any, earlier: Any) -> ColumnElement[int]:
    """Whole calendar days from `earlier` to `later` (dates), in the backend's own SQL."""
    if conn.dialect.name == "sqlite":
        return type_coerce(func.julianday(later) - func.julianday(earlier), Integer)
    return type_coerce(later - earlier, Integer)


def status_clause(
    conn: Connection, policy: Policy, status: str, as_of: date
) -> tuple[ColumnElement[bool], bool]:
    """A WHERE clause for complaints whose clock on `as_of` is in `status` (`rules.clock.state`
    in SQL: each row's limit from its complex and extension facts, compared as a number of
    days). Returns (clause, exact): with a working-day clock the deadline needs the calendar,
    so the clause only splits decided from undecided (exact False) and the caller filters the
    rows it gets with `clock_of`."""
    if status not in ("open", "breached", "decided", "decided_late"):
        raise InvalidError("status: open, breached, decided or decided_late", field="status")
    c = complaints.c
    decided = c.decided_on.is_not(None) if status.startswith("decided") else c.decided_on.is_(None)
    clock = policy.relationship.complaints.clock
    if clock.day_count != "calendar":
        return decided, False
    extended = c.complex & c.extension_approved_by.is_not(None) & c.extension_notice_on.is_not(None)
    limit = case(
        (extended, clock.complex_days + clock.extension_days),
        (c.complex, clock.complex_days),
        else_=clock.decide_days,
    )
    until = c.decided_on if status.startswith("decided") else literal(as_of, Date)
    taken = _days(conn, until, c.received_on)
    within = taken <= limit
    return and_(decided, within if status in ("open", "decided") else ~within), True


def named(row: Any) -> frozenset[str]:
    return frozenset(n for n in (row.complained_about or "").split(",") if n)


def assign(
    conn: Connection, complaint_id: int, handler: str, *, actor: str, today: date, now: datetime
) -> None:
    """Give the complaint a handler: an active user who may handle complaints and is not
    named in it (回避 — refused, naming the person)."""
    row = get(conn, complaint_id)
    if row.decided_on is not None:
        raise ConflictError(f"complaint {complaint_id}: already decided", field="status")
    _refuse([r for r in [recusal(handler, named(row))] if r], "handler")
    who = conn.execute(select(users.c.role, users.c.active).where(users.c.username == handler))
    found = who.first()
    if found is None or not found.active or not can(found.role, RelAction.COMPLAINT):
        raise InvalidError(f"handler: {handler} is not an active complaint handler", "handler")
    conn.execute(
        update(complaints).where(complaints.c.complaint_id == complaint_id).values(handler=handler)
    )
    _event(
        conn,
        complaint_id,
        "assigned",
        today,
        actor,
        now,
        {"handler": handler, "previous": row.handler},
    )


def _not_named(row: Any, actor: str) -> None:
    """Nobody named in a complaint acts on it (回避), whoever the handler is."""
    _refuse([r for r in [recusal(actor, named(row))] if r], "actor")


def declare_complex(
    conn: Connection,
    policy: Policy,
    complaint_id: int,
    reason: str,
    *,
    actor: str,
    today: date,
    now: datetime,
) -> None:
    row = get(conn, complaint_id)
    _not_named(row, actor)
    text = _text(reason, "reason")
    clock = policy.relationship.complaints.clock
    _refuse(complex_refusals(facts(row), today, clock, _calendar(policy)), "complex")
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == complaint_id)
        .values(complex=True, complex_reason=text)
    )
    _event(conn, complaint_id, "complex", today, actor, now, {"reason": text})


def extend(
    conn: Connection,
    policy: Policy,
    complaint_id: int,
    *,
    notice_on: date | None,
    approver: str,
    approver_role: str,
    today: date,
    now: datetime,
) -> None:
    """A senior's approval of the +30 days, with the day the complainant was told."""
    row = get(conn, complaint_id)
    _not_named(row, approver)
    clock = policy.relationship.complaints.clock
    refusals = extension_refusals(
        facts(row),
        approver,
        row.handler,
        can(approver_role, RelAction.COMPLAINT_APPROVE),
        notice_on,
        today,
        clock,
        _calendar(policy),
    )
    _refuse(refusals, "extension")
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == complaint_id)
        .values(extension_approved_by=approver, extension_notice_on=notice_on)
    )
    assert notice_on is not None
    _event(
        conn,
        complaint_id,
        "extended",
        today,
        approver,
        now,
        {"notice_on": notice_on.isoformat(), "days": clock.extension_days},
    )


def decide(
    conn: Connection,
    complaint_id: int,
    *,
    decided_on: date,
    outcome: str,
    decision: str,
    actor: str,
    today: date,
    now: datetime,
) -> None:
    """The decision, told to the complainant on `decided_on` (what stops the clock)."""
    row = get(conn, complaint_id)
    _not_named(row, actor)
    if row.decided_on is not None:
        raise ConflictError(f"complaint {complaint_id}: already decided", field="status")
    if outcome not in OUTCOMES:
        raise InvalidError(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
    _check_day(decided_on, today, "decided_on", stored_date(row.received_on))
    text = _text(decision, "decision")
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == complaint_id)
        .values(decided_on=decided_on, outcome=outcome, decision=text)
    )
    _event(conn, complaint_id, "decided", decided_on, actor, now, {"outcome": outcome})


def trace(
    conn: Connection,
    complaint_id: int,
    *,
    root_cause: str,
    fix: str,
    actor: str,
    today: date,
    now: datetime,
) -> None:
    """溯源整改: the root cause and the fix, once the complaint is decided (may be revised;
    every version is in the events)."""
    row = get(conn, complaint_id)
    if row.decided_on is None:
        raise ConflictError(f"complaint {complaint_id}: decide it first", field="status")
    cause, remedy = _text(root_cause, "root_cause"), _text(fix, "fix")
    conn.execute(
        update(complaints)
        .where(complaints.c.complaint_id == complaint_id)
        .values(root_cause=cause, fix=remedy)
    )
    _event(conn, complaint_id, "traced", today, actor, now, {"root_cause": cause, "fix": remedy})


def events(conn: Connection, complaint_id: int) -> list[Any]:
    e = complaint_events.c
    return list(
        conn.execute(
            select(complaint_events).where(e.complaint_id == complaint_id).order_by(e.event_id)
        )
    )


def signals(conn: Connection, since: date) -> list[tuple[str, int, date, str, str]]:
    """(customer_id, complaint_id, received_on, business_type, reason) of complaints received
    from `since`: what churn (reason "service") and early warning (a non-financial signal)
    will read through their interfaces."""
    c = complaints.c
    rows = conn.execute(
        select(c.customer_id, c.complaint_id, c.received_on, c.business_type, c.reason)
        .where(c.received_on >= since)
        .order_by(c.complaint_id)
    )
    return [(r[0], int(r[1]), stored_date(r[2]), r[3], r[4]) for r in rows]
