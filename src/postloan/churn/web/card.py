"""A customer's churn card: on the workbench's 360° page (`customer_panel`, the area's
`Area.customer_panel` hook) and on its own page (`/churn/customers/{id}`, where the reason form
answers without htmx), with the officer's reason confirmation (CH-3:
`POST /churn/customers/{id}/reason`).

The card is for `churn.view` in its scope; the form for `churn.reason` in its scope, through the
service the API uses (`churn.reasons.confirm_reason`: validated, recorded, audited). A customer
outside the scope is not found, like an unknown one. With htmx the form's answer is the card
again (saved, or the refusal in the form); without, a saved reason goes back to the card's page
and a refusal shows there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import visible_customer
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.reasons import MAX_NOTE, confirm_reason
from postloan.churn.web.common import card_context
from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError
from postloan.inputs import InputError, parse_business_date
from postloan.policy.churn import REASON_CLASSES
from postloan.web.pages import (
    engine,
    is_htmx,
    not_found,
    now,
    page_gate,
    post_gate,
    render_page,
)

router = APIRouter(include_in_schema=False)
CARD = "churn/card.html"


def customer_panel(
    conn: Connection, user: User, customer_id: str, lang: str
) -> tuple[str, dict[str, Any]] | None:
    """The churn card on the 360° page, for `churn.view` holders whose scope holds the
    customer (none otherwise)."""
    if not can(user.role, ChurnAction.VIEW):
        return None
    customer = visible_customer(conn, user, customer_id, ChurnAction.VIEW)
    if customer is None:
        return None
    return CARD, card_context(conn, user, customer)


@router.get("/churn/customers/{customer_id}", response_class=HTMLResponse)
def card_page(request: Request, customer_id: str) -> Response:
    user, gated = page_gate(request, ChurnAction.VIEW)
    if gated:
        return gated
    assert user is not None
    with engine(request).connect() as conn:
        customer = visible_customer(conn, user, customer_id, ChurnAction.VIEW)
        if customer is None:
            return not_found(request, user)
        panel = card_context(conn, user, customer, done=request.query_params.get("done") == "1")
    return render_page(request, "churn/card_page.html", {"panel": panel}, user=user)


_STATUS = ((NotFoundError, 404), (ConflictError, 409), (InvalidError, 422))


def _status(exc: DomainError) -> int:
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 422)


@router.post("/churn/customers/{customer_id}/reason", response_class=HTMLResponse)
async def confirm(request: Request, customer_id: str) -> Response:
    user, gated = await post_gate(request, ChurnAction.REASON)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    typed = {k: str(form.get(k) or "").replace("\x00", "").strip()
             for k in ("reason", "note", "as_of")}  # fmt: skip
    error: str | None = None
    status = 200
    with engine(request).connect() as conn:
        customer = visible_customer(conn, user, customer_id, ChurnAction.REASON)
        if customer is None or not can(user.role, ChurnAction.VIEW):
            return not_found(request, user)
        try:
            if typed["reason"] not in REASON_CLASSES:
                raise InvalidError(f"reason: one of {', '.join(REASON_CLASSES)}", field="reason")
            if not typed["note"] or len(typed["note"]) > MAX_NOTE:
                raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
            as_of = parse_business_date(typed["as_of"], "as_of") if typed["as_of"] else None
            if as_of is not None and not read.is_churn_date(conn, as_of):
                raise NotFoundError(f"no churn identification stored for {as_of}", field="as_of")
            confirm_reason(conn, customer_id, typed["reason"], typed["note"], user.username,
                           now(), as_of)  # fmt: skip
            conn.commit()
        except InputError as exc:
            conn.rollback()
            error, status = str(exc), 422
        except DomainError as exc:
            conn.rollback()
            error, status = str(exc), _status(exc)
        if error is None and not is_htmx(request):
            return RedirectResponse(f"/churn/customers/{customer_id}?done=1", status_code=303)
        panel = card_context(conn, user, customer, error=error, form=typed if error else None,
                             done=error is None)  # fmt: skip
    if is_htmx(request):
        return render_page(request, CARD, {"panel": panel}, user=user, status_code=status)
    return render_page(request, "churn/card_page.html", {"panel": panel}, user=user,
                       status_code=status)  # fmt: skip
