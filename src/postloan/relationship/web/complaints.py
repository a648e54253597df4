"""The complaints page (`/complaints`): the complaints in the user's scope with their clocks,
and the intake form for `complaint.handle` holders (`POST /complaints`, CSRF-checked by
`post_gate`), through the service the API uses (validated, routed, audited)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.calendar import PRC_TZ
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.relationship import complaints as svc
from postloan.relationship.actions import RelAction
from postloan.relationship.tables import complaints
from postloan.store.schema import customers
from postloan.web.pages import engine, now, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
FIELDS = (
    "customer_id",
    "received_on",
    "channel",
    "business_type",
    "reason",
    "summary",
    "complained_about",
)


def _context(conn: Connection, request: Request, user: User) -> dict[str, Any]:
    policy = policy_of(request)
    day = now().astimezone(PRC_TZ).date()
    c = complaints.c
    rows = conn.execute(
        select(complaints)
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(customer_scope_clause(user, RelAction.VIEW))
        .order_by(c.complaint_id.desc())
        .limit(200)
    ).all()
    codes = policy.relationship.complaints
    return {
        "rows": [(r, svc.clock_of(r, policy, day)) for r in rows],
        "codes": codes,
        "may_take_in": can(user.role, RelAction.COMPLAINT),
        "today": day.isoformat(),
    }


@router.get("/complaints", response_class=HTMLResponse)
def complaints_page(request: Request) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        context = _context(conn, request, user)
    return render_page(request, "relationship/complaints.html", context, user=user)


@router.post("/complaints", response_class=HTMLResponse)
async def take_in(request: Request) -> Response:
    user, gated = await post_gate(request, RelAction.COMPLAINT)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    typed = {k: str(form.get(k) or "").replace("\x00", "").strip()[:2000] for k in FIELDS}
    at = now()
    with engine(request).connect() as conn:
        try:
            if visible_customer(conn, user, typed["customer_id"], RelAction.COMPLAINT) is None:
                raise InputError("customer_id", "no such customer in your scope")
            svc.receive(
                conn,
                policy_of(request),
                customer_id=typed["customer_id"],
                received_on=parse_business_date(typed["received_on"], "received_on"),
                channel=typed["channel"],
                business_type=typed["business_type"],
                reason=typed["reason"],
                summary=typed["summary"],
                complained_about=typed["complained_about"].split(","),
                account_id=None,
                actor=user.username,
                today=at.astimezone(PRC_TZ).date(),
                now=at,
            )
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            context = _context(conn, request, user) | {"error": str(exc), "form": typed}
            return render_page(
                request, "relationship/complaints.html", context, user=user, status_code=422
            )
    return RedirectResponse("/complaints", status_code=303)
