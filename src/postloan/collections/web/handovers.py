"""Hand-overs (`/handovers`): work other areas handed to collections (churn's level-1
customers: special recovery team, legal proposal, asset preservation, negotiated plan) for the
customers in the user's `case.view` scope, open first; the collection supervisor's forms
(`case.assign`, CSRF-checked) accept one or decline it with a reason — through
`collections.handover.decide_handover`, the API's service (audited). A hand-over outside the
user's scope is the 404 page, like a missing one; a refusal (no reason, already decided) is
shown on the page at its status. Amounts only for roles with account access.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postloan.access import Action, User, can
from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.collections.actions import CollectionsAction
from postloan.collections.handover import decide_handover
from postloan.collections.handover_tables import handovers
from postloan.collections.queries import handover_page
from postloan.collections.web.forms import attempt, back, row_key, text
from postloan.errors import NotFoundError
from postloan.web.pages import engine, not_found, now, page_gate, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
STATUSES = ("open", "accepted", "declined", "all")
MAX_NOTE = 2000


def _item(row: Any, user: User) -> dict[str, Any]:
    accounts = can(user.role, Action.ACCOUNT_VIEW)
    return {
        "handover_id": int(row.handover_id), "source": row.source,
        "customer_id": row.customer_id, "name": row.name, "branch_id": row.customer_branch,
        "handed_on": row.handed_on, "actions": [a for a in row.actions.split(",") if a],
        "overdue_amount": int(row.overdue_amount) if accounts else None,
        "max_dpd": int(row.max_dpd) if accounts else None,
        "basis": json.loads(row.basis or "{}"), "status": row.status,
        "decided_by": row.decided_by, "decision_note": row.decision_note,
    }  # fmt: skip


def _page(request: Request, user: User, *, code: int = 200, error: str | None = None) -> Response:
    status = request.query_params.get("status") or "open"
    typed_page = request.query_params.get("page") or "1"
    if status not in STATUSES or not typed_page.isdigit() or not 1 <= int(typed_page) <= 100_000:
        status, typed_page = "open", "1"
        code, error = 422, error or f"status: one of {', '.join(STATUSES)}; page: 1 to 100000"
    page = int(typed_page)
    scope = customer_scope_clause(user, CollectionsAction.CASE_VIEW)
    with engine(request).connect() as conn:
        total, rows = handover_page(conn, scope, None if status == "all" else status, None,
                                    page, PAGE_SIZE)  # fmt: skip
    context = {
        "rows": [_item(r, user) for r in rows], "total": total, "status": status,
        "statuses": STATUSES, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "may_decide": can(user.role, CollectionsAction.CASE_ASSIGN), "error": error,
        "done": request.query_params.get("done"), "max_note": MAX_NOTE,
        "shows_accounts": can(user.role, Action.ACCOUNT_VIEW),
    }  # fmt: skip
    return render_page(request, "collections/handovers.html", context, status_code=code,
                       user=user)  # fmt: skip


@router.get("/handovers", response_class=HTMLResponse)
def handovers_page(request: Request) -> Response:
    user, gated = page_gate(request, CollectionsAction.CASE_VIEW)
    if gated:
        return gated
    assert user is not None
    return _page(request, user)


@router.post("/handovers/{handover_id}/{verb}", response_class=HTMLResponse)
async def decide(request: Request, handover_id: str, verb: str) -> Response:
    user, gated = await post_gate(request, CollectionsAction.CASE_ASSIGN)
    if gated:
        return gated
    assert user is not None
    key = row_key(handover_id)
    if key is None or verb not in ("accept", "decline"):
        return not_found(request, user)
    form = await request.form()
    note = text(form, "note") or None
    if note is not None and len(note) > MAX_NOTE:
        return _page(request, user, code=422, error=f"note: at most {MAX_NOTE} characters")
    with engine(request).begin() as conn:
        try:
            row_in_scope(conn, user, handovers, "handover_id", key, CollectionsAction.CASE_ASSIGN)
        except NotFoundError:
            return not_found(request, user)
        accept = verb == "accept"
        _, code, message = attempt(lambda: decide_handover(
            conn, key, accept=accept, user=user.username, note=note, now=now()))  # fmt: skip
    if message is not None:
        return _page(request, user, code=code, error=message)
    return back("/handovers", verb)
