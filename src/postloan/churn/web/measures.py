"""Measure tasks (`/churn/measures`, `churn.measures`): the measures per grade (CH-6) of the
customers in the user's scope — hand-overs to collections, account-manager follow-ups with
their offers, callbacks/SMS — with filters (status, kind, grade, branch) and pages; customer
names and phones as the role's mask shows them.

Forms (CSRF-checked by `post_gate`, then the action, then the scope — a measure or offer
outside the scope is not found, like a missing one):
- `POST /churn/measures/{id}/complete` (`churn.followup` for a follow-up, `churn.callback` for
  a callback): the outcome, through the service the API uses (`churn.measures.complete_measure`:
  the contact checked again as of now; a refusal names the rules and is audited; done audited);
- `POST /churn/offers/{id}/decide` (`churn.followup`): accept or decline with a reason
  (`decide_offer`, audited).
A saved form goes back to the list (303, the filters kept); a refusal or bad input shows the
list again with the message, at its status (404 / 409 / 422) — never a 500.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.masking import mask_customer, sees_personal_data
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.measures import OUTCOMES, ContactPolicyRefused, complete_measure, decide_offer
from postloan.churn.rules.measures import CALLBACK, FOLLOWUP, KINDS
from postloan.churn.tables import churn_measures
from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError
from postloan.store.values import stored_date
from postloan.web.pages import engine, not_found, now, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "churn/measures.html"
PAGE_SIZE = 50
MAX_PAGE = 100_000
MAX_NOTE = 2000
STATUSES = ("open", "refused", "done")
FILTERS = ("status", "kind", "grade", "branch")
# Which action works which kind of task (hand-overs are worked in collections).
TASK_ACTION = {FOLLOWUP: ChurnAction.FOLLOWUP, CALLBACK: ChurnAction.CALLBACK}
_STATUS = ((NotFoundError, 404), (ConflictError, 409), (InvalidError, 422))


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


def _choice(params: Any, name: str, allowed: tuple[str, ...]) -> str | None:
    value = str(params.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise _Bad(name, f"one of {', '.join(allowed)}")
    return value


def _wanted(params: Any) -> tuple[read.MeasureFilter, int, dict[str, str]]:
    status = _choice(params, "status", STATUSES)
    kind = _choice(params, "kind", KINDS)
    grade = _choice(params, "grade", ("1", "2", "3"))
    branch = str(params.get("branch") or "").strip() or None
    if branch is not None and (len(branch) > 32 or "\x00" in branch):
        raise _Bad("branch", "at most 32 characters")
    typed_page = str(params.get("page") or "1").strip()
    if not typed_page.isdigit() or not 1 <= int(typed_page) <= MAX_PAGE:
        raise _Bad("page", f"a whole number from 1 to {MAX_PAGE}")
    chosen = {k: v for k, v in (("status", status), ("kind", kind), ("grade", grade),
                                ("branch", branch)) if v is not None}  # fmt: skip
    number = None if grade is None else int(grade)
    wanted = read.MeasureFilter(status=status, kind=kind, grade=number, branch=branch)
    return wanted, int(typed_page), chosen


def _offer(row: Any, may_decide: bool) -> dict[str, Any]:
    return {
        "offer_id": int(row.offer_id),
        "kind": row.kind,
        "terms": json.loads(row.terms),
        "basis": json.loads(row.basis),
        "status": row.status,
        "decided_by": row.decided_by,
        "note": row.note,
        "may_decide": may_decide and row.status == "proposed",
    }


def _row(row: Any, user: User, offers: list[Any]) -> dict[str, Any]:
    """A measure as the page shows it: the customer masked for the role; the outcome form
    only for an open task the user's role works."""
    person = mask_customer({"name": row.name, "phone": row.phone, "extra": None}, user.role)
    if not sees_personal_data(user.role):  # the name too: no personal data at all
        person["name"] = None
    action = TASK_ACTION.get(row.kind)
    works = action is not None and can(user.role, action)
    return {
        "measure_id": int(row.measure_id),
        "customer_id": row.customer_id,
        "name": person["name"],
        "phone": person["phone"],
        "branch_id": row.customer_branch,
        "grade": int(row.grade),
        "kind": row.kind,
        "channel": row.channel,
        "created_on": stored_date(row.created_on).isoformat(),
        "status": row.status,
        "refused_rules": [r for r in (row.refused_rules or "").split(",") if r],
        "outcome": row.outcome,
        "done_by": row.done_by,
        "may_complete": works and row.status == "open",
        "offers": [_offer(o, can(user.role, ChurnAction.FOLLOWUP)) for o in offers],
    }


def _context(
    conn: Connection, request: Request, user: User, *, error: str | None = None,
    refused: list[str] | None = None, failed: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The page's data for the request's filters (a bad filter is the page's error)."""
    params = request.query_params
    context: dict[str, Any] = {
        "statuses": STATUSES, "kinds": KINDS, "outcomes": OUTCOMES, "rows": [], "total": 0,
        "page": 1, "pages": 1, "chosen": {k: str(params.get(k) or "") for k in FILTERS},
        "error": error, "refused": refused or [], "failed": failed, "max_note": MAX_NOTE,
        "done": params.get("done") == "1", "back": "",
    }  # fmt: skip
    try:
        wanted, page, chosen = _wanted(params)
    except _Bad as exc:
        context.update(error=str(exc), bad_filter=True)
        return context
    scope = customer_scope_clause(user, ChurnAction.MEASURES)
    total, rows = read.measure_page(conn, scope, wanted, page, PAGE_SIZE)
    offers = read.offers_of(conn, [int(r.measure_id) for r in rows if r.kind == FOLLOWUP])
    pages = max(1, -(-total // PAGE_SIZE))
    context.update(
        rows=[_row(r, user, offers.get(int(r.measure_id), [])) for r in rows], total=total,
        page=page, pages=pages, back=urlencode({**chosen, "page": page}),
        prev_url=f"/churn/measures?{urlencode({**chosen, 'page': page - 1})}" if page > 1
        else None,
        next_url=f"/churn/measures?{urlencode({**chosen, 'page': page + 1})}" if page < pages
        else None,
    )  # fmt: skip
    return context


@router.get("/churn/measures", response_class=HTMLResponse)
def measures_page(request: Request) -> Response:
    user, gated = page_gate(request, ChurnAction.MEASURES)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        context = _context(conn, request, user)
    return render_page(request, PAGE, context, user=user,
                       status_code=422 if context.get("bad_filter") else 200)  # fmt: skip


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return (value if isinstance(value, str) else "").replace("\x00", "").strip()


def _back(form: Any) -> str:
    """The list's query string the form came from (only the filters it knows survive)."""
    try:
        _, page, chosen = _wanted(dict(parse_qsl(_form_text(form, "back"))))
    except _Bad:
        page, chosen = 1, {}
    return urlencode({**chosen, "page": page, "done": "1"})


def _answer(request: Request, conn: Connection, user: User, exc: DomainError,
            failed: int) -> Response:  # fmt: skip
    """The list again with the refusal, at its status (a missing or out-of-scope record: the
    404 page)."""
    status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 422)
    if status == 404:
        return not_found(request, user)
    refused = [v.rule for v in exc.violations] if isinstance(exc, ContactPolicyRefused) else []
    context = _context(conn, request, user, error=str(exc), refused=refused, failed=failed)
    return render_page(request, PAGE, context, user=user, status_code=status)


@router.post("/churn/measures/{measure_id}/complete", response_class=HTMLResponse)
async def complete(request: Request, measure_id: str) -> Response:
    user, gated = await post_gate(request, ChurnAction.MEASURES)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    outcome, note = _form_text(form, "outcome"), _form_text(form, "note")
    with engine(request).connect() as conn:
        row = _measure(conn, _row_id(measure_id))
        if row is None or visible_customer(conn, user, row.customer_id,
                                           ChurnAction.MEASURES) is None:  # fmt: skip
            return not_found(request, user)
        action = TASK_ACTION.get(row.kind)
        if action is not None:
            _, refused = page_gate(request, action)  # the role works this kind of task?
            if refused:
                return refused
            if visible_customer(conn, user, row.customer_id, action) is None:
                return not_found(request, user)
        try:
            if action is None:
                raise ConflictError(f"measure {row.measure_id}: worked in collections",
                                    field="measure_id")  # fmt: skip
            if outcome not in OUTCOMES:
                raise InvalidError(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
            if len(note) > MAX_NOTE:
                raise InvalidError(f"note: at most {MAX_NOTE} characters", field="note")
            complete_measure(conn, int(row.measure_id), outcome, note or None,
                             user=user.username, now=now(), policy=policy_of(request))  # fmt: skip
        except ContactPolicyRefused as exc:
            conn.commit()  # the refusal's audit entry stays; the measure stays open
            return _answer(request, conn, user, exc, int(row.measure_id))
        except DomainError as exc:
            conn.rollback()
            return _answer(request, conn, user, exc, int(row.measure_id))
        conn.commit()
    return RedirectResponse(f"/churn/measures?{_back(form)}", status_code=303)


def _row_id(typed: str) -> int | None:
    """A row id from the URL (a typed path that is no id is not found, like a missing row)."""
    if not typed.isdigit() or len(typed) > 10 or not 1 <= int(typed) <= 2**31 - 1:
        return None
    return int(typed)


def _measure(conn: Connection, measure_id: int | None) -> Any:
    if measure_id is None:
        return None
    query = churn_measures.select().where(churn_measures.c.measure_id == measure_id)
    return conn.execute(query).first()


@router.post("/churn/offers/{offer_id}/decide", response_class=HTMLResponse)
async def decide(request: Request, offer_id: str) -> Response:
    user, gated = await post_gate(request, ChurnAction.FOLLOWUP)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    decision, note = _form_text(form, "decision"), _form_text(form, "note")
    with engine(request).connect() as conn:
        oid = _row_id(offer_id)
        row = None if oid is None else read.measure_of_offer(conn, oid)
        seen = row is not None and visible_customer(conn, user, row.customer_id,
                                                    ChurnAction.FOLLOWUP) is not None  # fmt: skip
        if oid is None or row is None or not seen:
            return not_found(request, user)
        try:
            if decision not in ("accept", "decline"):
                raise InvalidError("decision: accept or decline", field="decision")
            if not note or len(note) > MAX_NOTE:
                raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
            decide_offer(conn, oid, decision == "accept", note, user=user.username,
                         now=now())  # fmt: skip
        except DomainError as exc:
            conn.rollback()
            return _answer(request, conn, user, exc, int(row.measure_id))
        conn.commit()
    return RedirectResponse(f"/churn/measures?{_back(form)}", status_code=303)
