"""The contact plans page (`/contact-plans`): the plans (segment: branch and tier; channel,
purpose, cadence), a form to add one for `contact.plan` holders (branch roles plan for their
own branch only, as in the API), and the planned contacts due on a day in the caller's scope —
refused ones naming the rules — with the outcome form of each open one
(`POST /contact-plans/contacts/{id}/complete`). Writes are CSRF-checked by `post_gate` and go
through the services the API uses."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.permissions import Scope, scope_for
from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.calendar import PRC_TZ
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.relationship import contact_plans
from postloan.relationship.actions import RelAction
from postloan.relationship.rules.contact import CHANNELS, PURPOSES
from postloan.relationship.tables import contact_plans as plans_table
from postloan.relationship.tables import planned_contacts
from postloan.relationship.tiers import TIERS
from postloan.store.schema import customers
from postloan.web.pages import engine, not_found, now, page_gate, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "relationship/contacts.html"


def _today() -> date:
    return now().astimezone(PRC_TZ).date()


def _context(conn: Connection, user: User, day: date) -> dict[str, Any]:
    c = planned_contacts.c
    due = conn.execute(
        select(planned_contacts, plans_table.c.name)
        .join(plans_table, plans_table.c.plan_id == c.plan_id)
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(c.due_on == day, customer_scope_clause(user, RelAction.VIEW))
        .order_by(c.status, c.contact_id)
        .limit(500)
    ).all()
    return {
        "plans": conn.execute(
            select(plans_table).order_by(plans_table.c.plan_id.desc()).limit(200)
        ).all(),
        "due": due,
        "day": day.isoformat(),
        "may_plan": can(user.role, RelAction.CONTACT),
        "own_branch": scope_for(user.role, RelAction.CONTACT) == Scope.BRANCH,
        "branch": user.branch_id,
        "channels": CHANNELS,
        "purposes": PURPOSES,
        "tiers": TIERS,
        "outcomes": contact_plans.OUTCOMES,
    }


@router.get("/contact-plans", response_class=HTMLResponse)
def contacts_page(request: Request) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    error = None
    try:
        raw = request.query_params.get("day")
        day = parse_business_date(raw, "day") if raw else _today()
    except InputError as exc:
        day, error = _today(), str(exc)
    with engine(request).connect() as conn:
        context = _context(conn, user, day) | {"error": error}
    return render_page(request, PAGE, context, user=user, status_code=422 if error else 200)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: str(v).replace("\x00", "").strip()[:200] for k, v in raw.items()
            if isinstance(v, str)}  # fmt: skip


@router.post("/contact-plans", response_class=HTMLResponse)
async def add_plan(request: Request) -> Response:
    user, gated = await post_gate(request, RelAction.CONTACT)
    if gated:
        return gated
    assert user is not None
    form = await _form(request)
    with engine(request).connect() as conn:
        try:
            branch = form.get("branch_id") or None
            if scope_for(user.role, RelAction.CONTACT) == Scope.BRANCH:
                if branch not in (None, user.branch_id):
                    raise InputError("branch_id", "your own branch only")
                branch = user.branch_id
            cadence = form.get("cadence_days", "")
            if not cadence.isdigit() or len(cadence) > 4:
                raise InputError("cadence_days", f"1 to {contact_plans.MAX_CADENCE}")
            contact_plans.create_plan(
                conn,
                name=form.get("name", ""),
                branch_id=branch,
                channel=form.get("channel", ""),
                purpose=form.get("purpose", ""),
                cadence_days=int(cadence),
                starts_on=parse_business_date(form.get("starts_on", ""), "starts_on"),
                actor=user.username,
                now=now(),
                tier=form.get("tier") or None,
            )
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            context = _context(conn, user, _today()) | {"error": str(exc)}
            return render_page(request, PAGE, context, user=user, status_code=422)
    return RedirectResponse("/contact-plans", status_code=303)


@router.post("/contact-plans/contacts/{contact_id}/complete", response_class=HTMLResponse)
async def complete(request: Request, contact_id: str) -> Response:
    user, gated = await post_gate(request, RelAction.CONTACT)
    if gated:
        return gated
    assert user is not None
    form = await _form(request)
    with engine(request).connect() as conn:
        if not contact_id.isdigit() or len(contact_id) > 10:
            return not_found(request, user)
        try:
            row = row_in_scope(
                conn, user, planned_contacts, "contact_id", int(contact_id), RelAction.CONTACT
            )
        except DomainError:
            return not_found(request, user)
        try:
            contact_plans.complete(
                conn, int(contact_id), form.get("outcome", ""), actor=user.username, now=now()
            )
            conn.commit()
        except DomainError as exc:
            conn.rollback()
            context = _context(conn, user, _today()) | {"error": str(exc)}
            return render_page(request, PAGE, context, user=user, status_code=409)
    return RedirectResponse(f"/contact-plans?day={str(row.due_on)[:10]}", status_code=303)
