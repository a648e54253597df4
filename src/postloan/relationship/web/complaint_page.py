"""A complaint's page (`/complaints/{id}`): its codes, clock and timeline, and the forms of its
steps — assign a handler, declare complex, a senior's extension (with the notice), the
decision, root cause and fix — each `POST /complaints/{id}/{step}` (CSRF-checked by
`post_gate`) through the service the API uses. Out of scope answers the not-found page;
a refused step is shown on the page with its named reason (403/409/422)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import row_in_scope
from postloan.calendar import PRC_TZ
from postloan.errors import ConflictError, DomainError, NotFoundError, RefusedError
from postloan.inputs import InputError, parse_business_date
from postloan.policy import Policy
from postloan.relationship import complaints as svc
from postloan.relationship.actions import RelAction
from postloan.relationship.tables import complaints
from postloan.web.pages import engine, not_found, now, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "relationship/complaint.html"
_STATUS = ((NotFoundError, 404), (RefusedError, 403), (ConflictError, 409))


def _context(conn: Connection, request: Request, user: User, row: Any) -> dict[str, Any]:
    day = now().astimezone(PRC_TZ).date()
    return {"c": row, "clock": svc.clock_of(row, policy_of(request), day),
            "events": svc.events(conn, row.complaint_id), "today": day.isoformat(),
            "may_handle": can(user.role, RelAction.COMPLAINT),
            "may_approve": can(user.role, RelAction.COMPLAINT_APPROVE)}  # fmt: skip


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint_page(request: Request, complaint_id: int) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        try:
            row = row_in_scope(conn, user, complaints, "complaint_id", complaint_id,
                               RelAction.VIEW)  # fmt: skip
        except NotFoundError:
            return not_found(request, user)
        context = _context(conn, request, user, row)
    return render_page(request, PAGE, context, user=user)


def _day(form: dict[str, str], name: str) -> date | None:
    return parse_business_date(form[name], name) if form.get(name) else None


Step = Callable[[Connection, Policy, User, int, dict[str, str], date, datetime], None]

STEPS: dict[str, tuple[RelAction, Step]] = {
    "assign": (RelAction.COMPLAINT, lambda conn, p, u, cid, f, d, at: svc.assign(
        conn, cid, f.get("handler", ""), actor=u.username, today=d, now=at)),
    "complex": (RelAction.COMPLAINT, lambda conn, p, u, cid, f, d, at: svc.declare_complex(
        conn, p, cid, f.get("reason", ""), actor=u.username, today=d, now=at)),
    "extend": (RelAction.COMPLAINT_APPROVE, lambda conn, p, u, cid, f, d, at: svc.extend(
        conn, p, cid, notice_on=_day(f, "notice_on"), approver=u.username,
        approver_role=u.role, today=d, now=at)),
    "decide": (RelAction.COMPLAINT, lambda conn, p, u, cid, f, d, at: svc.decide(
        conn, cid, decided_on=_day(f, "decided_on") or d, outcome=f.get("outcome", ""),
        decision=f.get("decision", ""), actor=u.username, today=d, now=at)),
    "trace": (RelAction.COMPLAINT, lambda conn, p, u, cid, f, d, at: svc.trace(
        conn, cid, root_cause=f.get("root_cause", ""), fix=f.get("fix", ""),
        actor=u.username, today=d, now=at)),
}  # fmt: skip


@router.post("/complaints/{complaint_id}/{step}", response_class=HTMLResponse)
async def complaint_step(request: Request, complaint_id: int, step: str) -> Response:
    if step not in STEPS:
        user, gated = page_gate(request, RelAction.VIEW)
        return gated or not_found(request, user)
    action, do = STEPS[step]
    user, gated = await post_gate(request, action)
    if gated:
        return gated
    assert user is not None
    raw = await request.form()
    form = {k: str(v).replace("\x00", "").strip()[:2000] for k, v in raw.items()
            if isinstance(v, str)}  # fmt: skip
    at = now()
    with engine(request).connect() as conn:
        try:
            row_in_scope(conn, user, complaints, "complaint_id", complaint_id, action)
        except NotFoundError:
            return not_found(request, user)
        try:
            do(conn, policy_of(request), user, complaint_id, form,
               at.astimezone(PRC_TZ).date(), at)  # fmt: skip
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            code = getattr(exc, "code", "invalid")
            status = next((s for kind, s in _STATUS if isinstance(exc, kind)), 422)
            row = svc.get(conn, complaint_id)
            context = _context(conn, request, user, row) | {"error": str(exc), "code": code}
            return render_page(request, PAGE, context, user=user, status_code=status)
    return RedirectResponse(f"/complaints/{complaint_id}", status_code=303)
