"""The hardship plans page (`/hardship`): the plans in the user's scope, the proposal form
(`hardship.propose`) and each plan's decision (`hardship.approve`, never one's own) and end
(broken or completed) — `POST /hardship/...` (CSRF-checked by `post_gate`) through the service
the API uses; approval pauses collections' work, the end resumes it. Refusals are shown on the
page with their named code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause, row_in_scope, visible_customer
from postloan.calendar import PRC_TZ
from postloan.errors import DomainError, NotFoundError, RefusedError
from postloan.inputs import InputError
from postloan.relationship import hardship
from postloan.relationship.actions import RelAction
from postloan.relationship.tables import hardship_plans
from postloan.store.schema import customers
from postloan.web.pages import engine, not_found, now, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "relationship/hardship.html"


def _context(conn: Connection, user: User) -> dict[str, Any]:
    h = hardship_plans.c
    rows = conn.execute(
        select(hardship_plans)
        .join(customers, customers.c.customer_id == h.customer_id)
        .where(customer_scope_clause(user, RelAction.VIEW))
        .order_by(h.plan_id.desc())
        .limit(200)
    ).all()
    return {
        "plans": rows,
        "may_propose": can(user.role, RelAction.HARDSHIP),
        "may_approve": can(user.role, RelAction.HARDSHIP_APPROVE),
        "me": user.username,
    }


@router.get("/hardship", response_class=HTMLResponse)
def hardship_page(request: Request) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        context = _context(conn, user)
    return render_page(request, PAGE, context, user=user)


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {
        k: str(v).replace("\x00", "").strip()[:1000] for k, v in raw.items() if isinstance(v, str)
    }


def _refused(request: Request, conn: Connection, user: User, exc: Exception) -> Response:
    conn.rollback()
    status = (
        403
        if isinstance(exc, RefusedError)
        else 409
        if isinstance(exc, DomainError) and (exc.code == "conflict")
        else 422
    )
    context = _context(conn, user) | {"error": str(exc), "code": getattr(exc, "code", "invalid")}
    return render_page(request, PAGE, context, user=user, status_code=status)


@router.post("/hardship", response_class=HTMLResponse)
async def propose(request: Request) -> Response:
    user, gated = await post_gate(request, RelAction.HARDSHIP)
    if gated:
        return gated
    assert user is not None
    f = await _form(request)
    at = now()
    with engine(request).connect() as conn:
        try:
            if visible_customer(conn, user, f.get("customer_id", ""), RelAction.HARDSHIP) is None:
                raise InputError("customer_id", "no such customer in your scope")
            months = f.get("months", "")
            if not months.isdigit() or not 1 <= int(months) <= 600:
                raise InputError("months", "a whole number of months, 1 to 600")
            hardship.propose(
                conn,
                policy_of(request),
                customer_id=f["customer_id"],
                account_id=f.get("account_id", ""),
                kind=f.get("kind", ""),
                months=int(months),
                form=f.get("form", ""),
                oral_record=f.get("oral_record") or None,
                reason=f.get("reason", ""),
                actor=user.username,
                today=at.astimezone(PRC_TZ).date(),
                now=at,
            )
            conn.commit()
        except (InputError, DomainError) as exc:
            return _refused(request, conn, user, exc)
    return RedirectResponse("/hardship", status_code=303)


@router.post("/hardship/{plan_id}/{what}", response_class=HTMLResponse)
async def decide_or_end(request: Request, plan_id: int, what: str) -> Response:
    action = RelAction.HARDSHIP_APPROVE if what in ("approve", "reject") else RelAction.HARDSHIP
    if what not in ("approve", "reject", "broken", "completed"):
        user, gated = page_gate(request, RelAction.VIEW)
        return gated or not_found(request, user)
    user, gated = await post_gate(request, action)
    if gated:
        return gated
    assert user is not None
    f = await _form(request)
    at = now()
    day = at.astimezone(PRC_TZ).date()
    with engine(request).connect() as conn:
        try:
            row_in_scope(conn, user, hardship_plans, "plan_id", plan_id, action)
        except NotFoundError:
            return not_found(request, user)
        try:
            if what in ("approve", "reject"):
                hardship.decide(
                    conn,
                    plan_id,
                    approve=what == "approve",
                    approver=user.username,
                    approver_role=user.role,
                    note=f.get("note") or None,
                    today=day,
                    now=at,
                )
            else:
                hardship.end(
                    conn,
                    plan_id,
                    broken=what == "broken",
                    note=f.get("note", ""),
                    actor=user.username,
                    today=day,
                    now=at,
                )
            conn.commit()
        except (InputError, DomainError) as exc:
            return _refused(request, conn, user, exc)
    return RedirectResponse("/hardship", status_code=303)
