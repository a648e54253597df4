"""The loyalty page (`/loyalty?customer_id=…`): a customer's points balance and ledger (newest
first) and their offers, with the redemption for a preferential-rate offer for `loyalty.offer`
holders (`POST /loyalty/{customer_id}/redeem`, CSRF-checked by `post_gate`, through the service
the API uses), and a goodwill remedy tied to one of the customer's complaints
(`POST /loyalty/{customer_id}/goodwill`: points up to the policy's cap, once per complaint). A
customer outside the scope is not found, like an unknown one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.scope import visible_customer
from postloan.calendar import PRC_TZ
from postloan.errors import DomainError
from postloan.inputs import InputError
from postloan.relationship import loyalty
from postloan.relationship.actions import RelAction
from postloan.relationship.tables import complaints, loyalty_offers
from postloan.web.pages import engine, not_found, now, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "relationship/loyalty.html"


def _context(conn: Connection, request: Request, user: User, customer_id: str) -> dict[str, Any]:
    o = loyalty_offers.c
    offers = conn.execute(
        select(loyalty_offers)
        .where(o.customer_id == customer_id)
        .order_by(o.offer_id.desc())
        .limit(50)
    ).all()
    cfg = policy_of(request).relationship.loyalty
    theirs = conn.execute(
        select(complaints.c.complaint_id, complaints.c.received_on, complaints.c.reason)
        .where(complaints.c.customer_id == customer_id)
        .order_by(complaints.c.complaint_id.desc())
        .limit(50)
    ).all()
    return {
        "complaints": theirs,
        "goodwill_max": cfg.goodwill_max_points,
        "customer_id": customer_id,
        "balance": loyalty.balance(conn, customer_id),
        "entries": loyalty.entries(conn, customer_id),
        "offers": offers,
        "cost": cfg.rate_offer_points,
        "may_redeem": can(user.role, RelAction.LOYALTY),
    }


@router.get("/loyalty", response_class=HTMLResponse)
def loyalty_page(request: Request) -> Response:
    user, gated = page_gate(request, RelAction.VIEW)
    if gated:
        return gated
    assert user is not None
    customer_id = (request.query_params.get("customer_id") or "").strip()[:64]
    with engine(request).connect() as conn:
        if not customer_id:
            return render_page(request, PAGE, {"customer_id": None}, user=user)
        if visible_customer(conn, user, customer_id, RelAction.VIEW) is None:
            return not_found(request, user)
        context = _context(conn, request, user, customer_id)
    return render_page(request, PAGE, context, user=user)


@router.post("/loyalty/{customer_id}/redeem", response_class=HTMLResponse)
async def redeem(request: Request, customer_id: str) -> Response:
    user, gated = await post_gate(request, RelAction.LOYALTY)
    if gated:
        return gated
    assert user is not None
    at = now()
    with engine(request).connect() as conn:
        if visible_customer(conn, user, customer_id, RelAction.LOYALTY) is None:
            return not_found(request, user)
        try:
            loyalty.redeem(
                conn,
                policy_of(request),
                customer_id,
                actor=user.username,
                today=at.astimezone(PRC_TZ).date(),
                now=at,
            )
            conn.commit()
        except DomainError as exc:
            conn.rollback()
            context = _context(conn, request, user, customer_id) | {"error": str(exc)}
            return render_page(request, PAGE, context, user=user, status_code=409)
    return RedirectResponse(f"/loyalty?customer_id={customer_id}", status_code=303)


@router.post("/loyalty/{customer_id}/goodwill", response_class=HTMLResponse)
async def goodwill(request: Request, customer_id: str) -> Response:
    user, gated = await post_gate(request, RelAction.LOYALTY)
    if gated:
        return gated
    assert user is not None
    form = {k: str(v).replace("\x00", "").strip()[:1000] for k, v in (await request.form()).items()
            if isinstance(v, str)}  # fmt: skip
    at = now()
    with engine(request).connect() as conn:
        if visible_customer(conn, user, customer_id, RelAction.LOYALTY) is None:
            return not_found(request, user)
        try:
            cid, points = form.get("complaint_id", ""), form.get("points", "")
            if not cid.isdigit() or not points.isdigit() or len(cid) > 10 or len(points) > 6:
                raise InputError("points", "a complaint of the customer and whole points")
            owner = conn.execute(
                select(complaints.c.customer_id).where(complaints.c.complaint_id == int(cid))
            ).first()
            if owner is None or owner.customer_id != customer_id:
                raise InputError("complaint_id", "not a complaint of this customer")
            loyalty.goodwill(
                conn,
                policy_of(request),
                int(cid),
                int(points),
                form.get("note", ""),
                actor=user.username,
                today=at.astimezone(PRC_TZ).date(),
                now=at,
            )
            conn.commit()
        except (InputError, DomainError) as exc:
            conn.rollback()
            context = _context(conn, request, user, customer_id) | {"error": str(exc)}
            return render_page(request, PAGE, context, user=user, status_code=422)
    return RedirectResponse(f"/loyalty?customer_id={customer_id}", status_code=303)
