"""Legal (`/legal`): open legal proposals and the matters of the customers in the user's
`case.view` scope, each matter with its stages, evidence checklist, documents and costs; and
the legal officer's forms (`legal.manage`) — accept or decline a proposal, advance a matter,
add evidence or a cost. A record outside the user's scope is the 404 page; a refusal is shown
on the page naming the record and field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, and_, func, select

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.collections import legal_matters as matter_service
from postloan.collections import legal_proposals as proposal_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.legal_tables import legal_matters, legal_proposals
from postloan.collections.tables import cases
from postloan.collections.web.forms import attempt, back, form_amount, form_date, row_key, text
from postloan.collections.web.forms import today as local_today
from postloan.errors import NotFoundError
from postloan.policy import Policy
from postloan.store.schema import customers
from postloan.web.pages import (
    current_user,
    engine,
    not_found,
    now,
    page_gate,
    policy_of,
    post_gate,
    render_page,
    to_login,
)

router = APIRouter(include_in_schema=False)

MATTERS_PAGE = 20


@dataclass
class LegalPage:
    proposals: list[dict[str, Any]]
    matters: list[matter_service.MatterDetail]
    matters_total: int
    status: str


def legal_view(conn: Connection, user: User, policy: Policy, status: str) -> LegalPage:
    """Open legal proposals and the matters (`status`: open | closed | all) of the customers in
    the user's `case.view` scope; each matter with its stages, checklist, documents and costs."""
    scope = customer_scope_clause(user, CollectionsAction.CASE_VIEW)
    p = legal_proposals
    proposals = conn.execute(
        select(p, cases.c.status.label("case_status"))
        .join(customers, customers.c.customer_id == p.c.customer_id)
        .outerjoin(cases, and_(cases.c.customer_id == p.c.customer_id,
                               cases.c.opened_on == p.c.case_opened_on))
        .where(scope, p.c.status == "proposed")
        .order_by(p.c.proposed_on, p.c.proposal_id)
    ).all()  # fmt: skip
    m = legal_matters
    where = [scope]
    if status in ("open", "closed"):
        where.append(m.c.status == status)
    joined = m.join(customers, customers.c.customer_id == m.c.customer_id)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    ids = conn.execute(
        select(m.c.matter_id).select_from(joined).where(*where)
        .order_by(m.c.opened_on, m.c.matter_id).limit(MATTERS_PAGE)
    ).scalars()  # fmt: skip
    matters = [matter_service.matter_detail(conn, int(i), policy) for i in ids]
    return LegalPage([dict(r._mapping) for r in proposals], matters, int(total), status)


@router.get("/legal", response_class=HTMLResponse)
def legal_page(request: Request, status: str = "open") -> Response:
    user, gated = page_gate(request, CollectionsAction.CASE_VIEW)
    if gated:
        return gated
    assert user is not None
    return _legal(request, user, status if status in ("open", "closed", "all") else "open")


def _legal(request: Request, user: User, status: str, *, code: int = 200,
           error: str | None = None) -> Response:  # fmt: skip
    policy = policy_of(request)
    with engine(request).connect() as conn:
        view = legal_view(conn, user, policy, status)
    return render_page(
        request, "collections/legal.html",
        {"l": view, "error": error, "done": request.query_params.get("done"),
         "may_manage": can(user.role, CollectionsAction.LEGAL_MANAGE),
         "today": local_today(policy, now()),
         "transitions": matter_service.TRANSITIONS,
         "early_reasons": matter_service.EARLY_CLOSE_REASONS,
         "close_reasons": matter_service.CLOSE_REASONS,
         "categories": policy.legal.cost_categories,
         "items": policy.legal.all_items},
        status_code=code, user=user,
    )  # fmt: skip


def _legal_errors(run: Callable[[], Any]) -> tuple[bool, int, str | None]:
    """Whether the service call went through; else its status and message (a refusal names
    the record and field — missing evidence its items; a bad form date or amount its field)."""
    try:
        _, status, message = attempt(run)
    except ValueError as err:  # a form date or amount (InputError)
        return False, 422, str(err)
    return status == 200, status, message


LEGAL_ACTIONS = {
    ("proposals", "accept"), ("proposals", "decline"), ("matters", "advance"),
    ("matters", "evidence"), ("matters", "costs"),
}  # fmt: skip


@router.post("/legal/{what}/{record_id}/{verb}", response_class=HTMLResponse)
async def legal_action(request: Request, what: str, record_id: str, verb: str) -> Response:
    """Accept or decline a proposal; advance a matter, add evidence or a cost — each with
    `legal.manage` over the record's customer."""
    if (what, verb) not in LEGAL_ACTIONS:
        user = current_user(request)
        return not_found(request, user) if user else to_login(request)
    user, gated = await post_gate(request, CollectionsAction.LEGAL_MANAGE)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    key = row_key(record_id)

    def work() -> Response:
        if key is None:
            return not_found(request, user)
        policy = policy_of(request)
        day = local_today(policy, now())
        table, column = ((legal_proposals, "proposal_id") if what == "proposals"
                         else (legal_matters, "matter_id"))  # fmt: skip
        note = text(form, "note")[:2000] or None
        with engine(request).begin() as conn:
            try:
                row_in_scope(conn, user, table, column, key, CollectionsAction.LEGAL_MANAGE)
            except NotFoundError:
                return not_found(request, user)
            calls: dict[str, Callable[[], Any]] = {
                "accept": lambda: proposal_service.accept_proposal(
                    conn, key, policy, user=user.username, on=form_date(form, "on", day), now=now(),
                    note=note),
                "decline": lambda: proposal_service.decline_proposal(
                    conn, key, user=user.username, note=note or "", now=now()),
                "advance": lambda: matter_service.advance_matter(
                    conn, key, text(form, "to"), policy, user=user.username,
                    on=form_date(form, "on", day), now=now(),
                    reference=text(form, "reference")[:128] or None, note=note,
                    close_reason=text(form, "close_reason") or None),
                "evidence": lambda: matter_service.add_evidence(
                    conn, key, text(form, "item"), policy, name=text(form, "name"),
                    reference=text(form, "reference"), user=user.username, now=now()),
                "costs": lambda: matter_service.add_cost(
                    conn, key, policy, category=text(form, "category"),
                    amount=form_amount(form), incurred_on=form_date(form, "incurred_on", day),
                    user=user.username, now=now(), note=note),
            }  # fmt: skip
            message: str | None
            if verb == "advance" and text(form, "to") not in matter_service.STAGES:
                ok, code, message = False, 422, f"legal matter {key}: to: one of the stages"
            else:
                ok, code, message = _legal_errors(calls[verb])
            if not ok:
                conn.rollback()
        if not ok:
            return _legal(request, user, "open", code=code, error=message)
        return back("/legal", verb)

    return await run_in_threadpool(work)
