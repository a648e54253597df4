"""Risk's API routes (`/api/risk/...`): a customer's risk card (score, parts, history,
signals, tasks, watch list, assessments), officers' assessments proposed and decided
(maker-checker), the warning-task queue and outcomes, the watch list on a date and the
back-test of every signal.

Every customer and row is filtered through the caller's data scope for the route's action; out
of scope answers 404 like missing. Roles without account access (auditors) get the card without
the account figures (DPD, overdue amount). Writes are audited and, with the session cookie,
need the CSRF token (`api.deps`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access.permissions import Action, can
from postloan.access.scope import customer_in_scope, customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.errors import InvalidError
from postloan.inputs import BusinessDate, RowId
from postloan.risk import read
from postloan.risk.actions import RiskAction
from postloan.risk.service import (
    MAX_NOTE,
    Outcome,
    decide_override,
    propose_override,
    record_outcome,
)
from postloan.risk.tables import risk_overrides, risk_tasks

router = APIRouter(prefix="/api/risk", tags=["risk"], responses=ERROR_RESPONSES)

CustomerId = Path(min_length=1, max_length=64, pattern=NO_NUL, description="the customer id")
PARTS = ("credit", "capacity", "industry", "churn")


def shows_accounts(user: User) -> bool:
    return can(user.role, Action.ACCOUNT_VIEW)


def score_json(row: Any, accounts: bool) -> dict[str, Any]:
    return {
        "as_of": iso(row.as_of), "score": int(row.score), "grade": row.grade,
        "parts": {p: int(row._mapping[f"{p}_points"]) for p in PARTS},
        "inputs": {
            "worst_dpd": int(row.worst_dpd) if accounts else None,
            "times_late": int(row.times_late) if accounts else None,
            "overdue_amount": amount(row.overdue_amount) if accounts else None,
            "debt_ratio_pct": row.debt_ratio, "income_drop_pct": int(row.income_drop_pct),
            "income_reported_on": iso(row.income_reported_on),
            "industry_listed": bool(row.industry_listed), "churn_grade": row.churn_grade,
        },
    }  # fmt: skip


def task_json(row: Any) -> dict[str, Any]:
    return {
        "task_id": int(row.task_id), "customer_id": row.customer_id, "signal_id": row.signal_id,
        "opened_on": iso(row.opened_on), "due_on": iso(row.due_on), "severity": row.severity,
        "owner_role": row.owner_role, "response": row.response, "branch_id": row.branch_id,
        "status": row.status, "outcome": row.outcome, "note": row.note,
        "done_by": row.done_by, "done_at": iso(row.done_at),
    }  # fmt: skip


def override_json(row: Any) -> dict[str, Any]:
    return {
        "override_id": int(row.override_id), "customer_id": row.customer_id,
        "as_of": iso(row.as_of), "model_grade": row.model_grade, "grade": row.grade,
        "reason_code": row.reason_code, "note": row.note, "proposed_by": row.proposed_by,
        "proposed_at": iso(row.proposed_at), "status": row.status,
        "decided_by": row.decided_by, "decided_at": iso(row.decided_at),
    }  # fmt: skip


def watch_json(row: Any) -> dict[str, Any]:
    return {"customer_id": row.customer_id, "entered_on": iso(row.entered_on),
            "left_on": iso(row.left_on), "entry_signals": row.entry_signals.split(","),
            "exit_reason": row.exit_reason}  # fmt: skip


def card_json(conn: Connection, user: User, customer_id: str) -> dict[str, Any]:
    found = read.card(conn, customer_id)
    accounts = shows_accounts(user)
    override = found.override
    return {
        "customer_id": customer_id,
        "latest": None if found.latest is None else score_json(found.latest, accounts),
        "effective_grade": override.grade if override is not None
        else (found.latest.grade if found.latest is not None else None),
        "signals": [{"signal_id": h.signal_id, "value": int(h.value)} for h in found.hits],
        "history": [score_json(r, accounts) for r in found.history],
        "tasks": [task_json(t) for t in found.tasks],
        "watch": [watch_json(w) for w in found.watch],
        "overrides": [override_json(o) for o in found.overrides],
    }  # fmt: skip


class RiskCard(BaseModel):
    customer_id: str
    latest: dict[str, Any] | None = Field(description="score, grade, parts and inputs")
    effective_grade: str | None = Field(description="the approved assessment's, else the model's")
    signals: list[dict[str, Any]] = Field(description="signals hit on the latest score date")
    history: list[dict[str, Any]] = Field(description="scores, newest first")
    tasks: list[dict[str, Any]]
    watch: list[dict[str, Any]] = Field(description="watch-list episodes, newest first")
    overrides: list[dict[str, Any]] = Field(description="assessments, newest first")


@router.get("/customers/{customer_id}", response_model=RiskCard)
def risk_card(
    customer_id: str = CustomerId,
    user: User = Depends(require(RiskAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> RiskCard:
    """A customer's risk card (RK-1, EW-1)."""
    customer_in_scope(conn, user, customer_id, RiskAction.VIEW)
    return RiskCard(**card_json(conn, user, customer_id))


class OverrideIn(BaseModel):
    grade: str = Field(min_length=1, max_length=8, pattern=NO_NUL)
    reason_code: str = Field(min_length=1, max_length=32, pattern=NO_NUL)
    note: str = Field(min_length=1, max_length=MAX_NOTE, pattern=NO_NUL)


@router.post("/customers/{customer_id}/overrides", response_model=dict[str, Any])
def propose(
    request: Request,
    body: OverrideIn,
    customer_id: str = CustomerId,
    user: User = Depends(require(RiskAction.OVERRIDE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Propose a qualitative assessment (定性评估) of the customer's latest grade, with a reason
    code from the policy; another user holding `risk.approve` decides it. 409: no score yet,
    or one already waits."""
    customer_in_scope(conn, user, customer_id, RiskAction.OVERRIDE)
    policy = effective_policy(request)[0]
    done = propose_override(conn, policy, customer_id, body.grade, body.reason_code, body.note,
                            user.username, now())  # fmt: skip
    conn.commit()
    return {"override_id": done.override_id, "status": "proposed", "as_of": done.as_of,
            "model_grade": done.model_grade, "grade": done.grade}  # fmt: skip


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field(min_length=1, max_length=MAX_NOTE, pattern=NO_NUL)


@router.post("/overrides/{override_id}/decision", response_model=dict[str, Any])
def decide(
    body: DecisionIn,
    override_id: RowId,
    user: User = Depends(require(RiskAction.APPROVE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Approve or reject an assessment (maker-checker: 403 for its own proposer; 409 when
    already decided)."""
    row_in_scope(conn, user, risk_overrides, "override_id", override_id, RiskAction.APPROVE,
                 missing=f"assessment {override_id}: not found")  # fmt: skip
    status = decide_override(conn, override_id, body.approve, body.note, user.username, now())
    conn.commit()
    return {"override_id": override_id, "status": status}


class TaskPage(Page):
    items: list[dict[str, Any]]


@router.get("/tasks", response_model=TaskPage)
def tasks(
    status: Literal["open", "done"] | None = Query("open"),
    signal_id: str | None = Query(None, min_length=1, max_length=32, pattern=NO_NUL),
    owner_role: str | None = Query(None, min_length=1, max_length=32, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(RiskAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> TaskPage:
    """The warning-task queue (signal hits to act on) in the caller's scope, earliest due first."""
    scope = customer_scope_clause(user, RiskAction.VIEW)
    total, rows = read.tasks_page(conn, scope, status, signal_id, owner_role, page, page_size)
    return TaskPage(items=[{**task_json(r), "name": r.name} for r in rows], total=total,
                    page=page, page_size=page_size)  # fmt: skip


class OutcomeIn(BaseModel):
    outcome: Outcome
    note: str = Field(min_length=1, max_length=MAX_NOTE, pattern=NO_NUL)


@router.post("/tasks/{task_id}/outcome", response_model=dict[str, Any])
def outcome(
    body: OutcomeIn,
    task_id: RowId,
    user: User = Depends(require(RiskAction.ACT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Record a warning task's outcome (audited); 409 when it is already done."""
    row_in_scope(conn, user, risk_tasks, "task_id", task_id, RiskAction.ACT)
    record_outcome(conn, task_id, body.outcome, body.note, user.username, now())
    conn.commit()
    return {"task_id": task_id, "status": "done", "outcome": body.outcome}


class WatchPage(Page):
    as_of: str | None
    items: list[dict[str, Any]]


@router.get("/watch", response_model=WatchPage)
def watch(
    as_of: BusinessDate | None = Query(None, description="default: the latest score date"),
    page: int = Query(1, ge=1, le=100_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(RiskAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> WatchPage:
    """The watch list on a date: customers a watch signal put on it and who have not met the
    exit criteria yet, in the caller's scope."""
    day = as_of or read.latest_date(conn)
    if day is None:
        return WatchPage(as_of=None, items=[], total=0, page=page, page_size=page_size)
    scope = customer_scope_clause(user, RiskAction.VIEW)
    total, rows = read.watch_page(conn, scope, day, page, page_size)
    return WatchPage(as_of=day.isoformat(),
                     items=[{**watch_json(r), "name": r.name, "branch_id": r.branch_id}
                            for r in rows],
                     total=total, page=page, page_size=page_size)  # fmt: skip


class Backtest(BaseModel):
    date_from: str | None
    date_to: str | None
    results: list[dict[str, Any]] = Field(description="per signal and horizon (months)")
    overlap: list[dict[str, Any]] = Field(description="Jaccard index of alerted customers")


@router.get("/backtest", response_model=Backtest)
def backtest(
    request: Request,
    date_from: BusinessDate | None = Query(None),
    date_to: BusinessDate | None = Query(None),
    user: User = Depends(require(RiskAction.BACKTEST)),
    conn: Connection = Depends(get_conn),
) -> Backtest:
    """Precision and recall of every signal for a 90+ DPD onset within each horizon, median
    lead time, alerts per officer per month and overlap between signals, on stored history
    (portfolio-wide: figures, no customer)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidError("date_from is after date_to", field="date_from")
    results, overlap = read.backtest_report(conn, effective_policy(request)[0], date_from, date_to)
    return Backtest(date_from=_iso(date_from), date_to=_iso(date_to),
                    results=results.to_dicts(), overlap=overlap.to_dicts())  # fmt: skip


class OverridePerformance(BaseModel):
    horizon_months: int
    rows: list[dict[str, Any]] = Field(
        description="per model grade and direction (riskier/safer): the overridden customers' "
        "bad rate against customers of the same model grade on the same date not overridden"
    )


@router.get("/overrides/performance", response_model=OverridePerformance)
def override_performance(
    request: Request,
    horizon_months: int = Query(12, ge=1, le=60),
    user: User = Depends(require(RiskAction.BACKTEST)),
    conn: Connection = Depends(get_conn),
) -> OverridePerformance:
    """Later bad rates of officers' approved assessments against the model's (figures only)."""
    rows = read.override_report(conn, effective_policy(request)[0], horizon_months)
    return OverridePerformance(horizon_months=horizon_months, rows=rows.to_dicts())


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
