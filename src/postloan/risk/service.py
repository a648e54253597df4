"""Risk's work on one customer or task, for the API, the workbench and tests: an officer's
qualitative assessment (定性评估) proposed and decided by another user (maker-checker), and a
warning task's outcome. Each is validated, recorded and audited; flushes, never commits (the
caller's transaction does); raises `postloan.errors` kinds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from postloan.access import audit
from postloan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from postloan.policy import Policy
from postloan.risk.tables import risk_overrides, risk_scores, risk_tasks
from postloan.store.values import stored_date

MAX_NOTE = 1000
Outcome = Literal["risk_confirmed", "no_risk", "measures_taken", "escalated", "unreachable"]
OUTCOMES: tuple[Outcome, ...] = ("risk_confirmed", "no_risk", "measures_taken", "escalated",
                                 "unreachable")  # fmt: skip


def _note(note: str) -> str:
    text = note.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
    return text


def latest_score(conn: Connection, customer_id: str) -> Any:
    r = risk_scores
    return conn.execute(
        select(r).where(r.c.customer_id == customer_id).order_by(r.c.as_of.desc()).limit(1)
    ).first()


@dataclass(frozen=True)
class Proposed:
    override_id: int
    customer_id: str
    as_of: str
    model_grade: str
    grade: str
    reason_code: str


def propose_override(
    conn: Connection, policy: Policy, customer_id: str, grade: str, reason_code: str, note: str,
    actor: str, now: datetime,
) -> Proposed:  # fmt: skip
    """Propose `grade` for the customer's latest score (the caller checked the scope). One
    proposal waits at a time per customer: a second is a conflict until the first is decided."""
    cfg = policy.risk.score
    if grade not in [g.name for g in cfg.grades]:
        raise InvalidError(f"grade: one of {', '.join(g.name for g in cfg.grades)}", field="grade")
    if reason_code not in cfg.override_reasons:
        raise InvalidError(f"reason_code: one of {', '.join(cfg.override_reasons)}",
                           field="reason_code")  # fmt: skip
    text = _note(note)
    scored = latest_score(conn, customer_id)
    if scored is None:
        raise ConflictError(f"customer {customer_id} has no risk score yet", field="customer_id")
    o = risk_overrides
    waiting = conn.execute(
        select(o.c.override_id).where(o.c.customer_id == customer_id, o.c.status == "proposed")
    ).first()
    if waiting is not None:
        raise ConflictError(f"assessment {waiting[0]} of this customer awaits a decision",
                            field="customer_id")  # fmt: skip
    day = stored_date(scored.as_of)
    key = conn.execute(
        insert(o).values(customer_id=customer_id, as_of=day, model_grade=scored.grade,
                         grade=grade, reason_code=reason_code, note=text, proposed_by=actor,
                         proposed_at=now, status="proposed")
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    audit.record(conn, actor=actor, action="risk.override", target_type="customer",
                 target_id=customer_id, now=now,
                 detail={"override_id": int(key[0]), "as_of": day.isoformat(),
                         "model_grade": scored.grade, "grade": grade,
                         "reason_code": reason_code, "note": text})  # fmt: skip
    return Proposed(int(key[0]), customer_id, day.isoformat(), scored.grade, grade, reason_code)


def override_row(conn: Connection, override_id: int) -> Any:
    return conn.execute(
        select(risk_overrides).where(risk_overrides.c.override_id == override_id)
    ).first()


def decide_override(
    conn: Connection, override_id: int, approve: bool, note: str, actor: str, now: datetime
) -> str:
    """Approve or reject a proposed assessment; the decider must not be its proposer (the
    caller checked `risk.approve` and the scope). Returns the new status."""
    row = override_row(conn, override_id)
    if row is None:
        raise NotFoundError(f"assessment {override_id}: not found", field="override_id")
    if row.status != "proposed":
        raise ConflictError(f"assessment {override_id} is already {row.status}")
    if row.proposed_by == actor:
        raise RefusedError("maker-checker: another user must decide your own assessment")
    text = _note(note)
    status = "approved" if approve else "rejected"
    done = conn.execute(
        update(risk_overrides)
        .where(risk_overrides.c.override_id == override_id, risk_overrides.c.status == "proposed")
        .values(status=status, decided_by=actor, decided_at=now)
    )
    if done.rowcount != 1:  # decided meanwhile by someone else
        raise ConflictError(f"assessment {override_id} was decided meanwhile")
    audit.record(conn, actor=actor, action=f"risk.override.{status}", target_type="customer",
                 target_id=row.customer_id, now=now,
                 detail={"override_id": override_id, "grade": row.grade,
                         "model_grade": row.model_grade, "proposed_by": row.proposed_by,
                         "note": text})  # fmt: skip
    return status


def task_row(conn: Connection, task_id: int) -> Any:
    return conn.execute(select(risk_tasks).where(risk_tasks.c.task_id == task_id)).first()


def record_outcome(
    conn: Connection, task_id: int, outcome: str, note: str, actor: str, now: datetime
) -> None:
    """Close an open warning task with its outcome (the caller checked `risk.act` and scope)."""
    if outcome not in OUTCOMES:
        raise InvalidError(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
    text = _note(note)
    row = task_row(conn, task_id)
    if row is None:
        raise NotFoundError(f"task {task_id}: not found", field="task_id")
    t = risk_tasks
    done = conn.execute(
        update(t).where(t.c.task_id == task_id, t.c.status == "open")
        .values(status="done", outcome=outcome, note=text, done_by=actor, done_at=now)
    )  # fmt: skip
    if done.rowcount != 1:
        raise ConflictError(f"task {task_id} is already done")
    audit.record(conn, actor=actor, action="risk.task", target_type="customer",
                 target_id=row.customer_id, now=now,
                 detail={"task_id": task_id, "signal_id": row.signal_id,
                         "opened_on": stored_date(row.opened_on).isoformat(),
                         "outcome": outcome, "note": text})  # fmt: skip
