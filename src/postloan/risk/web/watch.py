"""The watch list and signal queue page (`/risk/watch`), a task's outcome form (`POST
/risk/tasks/{id}/outcome`, CSRF-checked, through the API's service) and the back-test table
(`/risk/backtest`). Scope as in the API: rows of customers outside it are not listed, a task
outside it is not found."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.risk import read
from postloan.risk.actions import RiskAction
from postloan.risk.messages import response_text
from postloan.risk.service import OUTCOMES, record_outcome
from postloan.risk.tables import risk_tasks
from postloan.web.pages import (
    engine,
    lang_of,
    not_found,
    now,
    page_gate,
    policy_of,
    post_gate,
    render_page,
)

router = APIRouter(include_in_schema=False)
SHOWN = 200


@router.get("/risk/watch", response_class=HTMLResponse)
def watch_page(request: Request) -> Response:
    user, gated = page_gate(request, RiskAction.VIEW)
    if gated:
        return gated
    assert user is not None
    scope = customer_scope_clause(user, RiskAction.VIEW)
    error = request.query_params.get("error")
    with engine(request).connect() as conn:
        day = read.latest_date(conn)
        total, rows = (0, []) if day is None else read.watch_page(conn, scope, day, 1, SHOWN)
        open_total, tasks = read.tasks_page(conn, scope, "open", None, None, 1, SHOWN)
        # This month's exits: left on a stored date from the 1st to `day` (the bound is open).
        month = None if day is None else day.replace(day=1) - timedelta(days=1)
        exits = [] if day is None or month is None else read.watch_exits(conn, scope, month, day)
    lang = lang_of(request)
    tasks = [{**task._mapping, "response": response_text(lang, task.signal_id, task.response)}
             for task in tasks]  # fmt: skip
    context = {"day": day, "watch": rows, "watch_total": total, "tasks": tasks,
               "tasks_total": open_total, "exits": exits, "outcomes": OUTCOMES,
               "done": request.query_params.get("done") == "1",
               "error": error if error in ("conflict", "invalid") else None}  # fmt: skip
    return render_page(request, "risk/watch.html", context, user=user)


@router.post("/risk/tasks/{task_id}/outcome", response_class=HTMLResponse)
async def task_outcome(request: Request, task_id: int) -> Response:
    user, gated = await post_gate(request, RiskAction.ACT)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    outcome = str(form.get("outcome") or "")
    note = str(form.get("note") or "").replace("\x00", "").strip()
    with engine(request).connect() as conn:
        try:
            row_in_scope(conn, user, risk_tasks, "task_id", task_id, RiskAction.ACT)
        except DomainError:
            return not_found(request, user)
        try:
            record_outcome(conn, task_id, outcome, note, user.username, now())
            conn.commit()
        except DomainError as exc:
            conn.rollback()
            kind = "conflict" if exc.__class__.__name__ == "ConflictError" else "invalid"
            return RedirectResponse(f"/risk/watch?error={kind}", status_code=303)
    return RedirectResponse("/risk/watch?done=1", status_code=303)


@router.get("/risk/backtest", response_class=HTMLResponse)
def backtest_page(request: Request) -> Response:
    user, gated = page_gate(request, RiskAction.BACKTEST)
    if gated:
        return gated
    try:
        since = _date(request, "date_from")
        until = _date(request, "date_to")
    except InputError as exc:
        return render_page(request, "risk/backtest.html", {"error": str(exc), "results": [],
                           "overlap": []}, user=user, status_code=422)  # fmt: skip
    with engine(request).connect() as conn:
        results, overlap = read.backtest_report(conn, policy_of(request), since, until)
    context = {"results": results.to_dicts(), "overlap": overlap.to_dicts(), "error": None,
               "date_from": since, "date_to": until}  # fmt: skip
    return render_page(request, "risk/backtest.html", context, user=user)


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name) or ""
    return parse_business_date(value, name) if value else None
