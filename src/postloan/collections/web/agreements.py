"""Repayment agreements on the case page (maker-checker): proposing one for a loan of the
customer (`agreement.propose`), approving or rejecting it (`agreement.approve`, never the
proposer) and withdrawing it (the proposer). A refusal is shown on the case page naming the
field; an agreement or customer outside the user's scope is the 404 page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from postloan.access.scope import customer_in_scope, row_in_scope
from postloan.collections import agreements as agreement_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreements
from postloan.collections.web.case_page import show_case
from postloan.collections.web.forms import attempt, back, refused, row_key, text
from postloan.errors import NotFoundError
from postloan.inputs import InputError, parse_business_date
from postloan.store.schema import loans
from postloan.web.pages import current_user, engine, not_found, now, policy_of, post_gate, to_login

router = APIRouter(include_in_schema=False)

PROPOSAL_FIELDS = ("account_id", "kind", "instalments", "first_due_date", "extension_months",
                   "reason")  # fmt: skip


@router.post("/cases/{customer_id}/agreements", response_class=HTMLResponse)
async def propose_agreement(request: Request, customer_id: str) -> Response:
    user, gated = await post_gate(request, CollectionsAction.AGREEMENT_PROPOSE)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    typed = {k: text(form, k) for k in PROPOSAL_FIELDS}

    def work() -> Response:
        policy = policy_of(request)

        def number(name: str) -> int | None:
            value = typed[name]
            if not value:
                return None
            if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 1200:
                raise agreement_service.AgreementInvalid(f"{name}: a whole number 1 to 1200",
                                                         name)  # fmt: skip
            return int(value)

        def first_due() -> date | None:
            value = typed["first_due_date"]
            try:
                return parse_business_date(value, "first_due_date") if value else None
            except InputError as exc:
                raise agreement_service.AgreementInvalid(str(exc), "first_due_date") from None

        with engine(request).begin() as conn:
            try:
                customer_in_scope(conn, user, customer_id, CollectionsAction.AGREEMENT_PROPOSE)
            except NotFoundError:
                return not_found(request, user)
            owner = conn.execute(
                select(loans.c.customer_id).where(loans.c.loan_id == typed["account_id"])
            ).scalar()
            if owner != customer_id:
                return show_case(request, user, customer_id, status=422, proposal=typed,
                                 error=f"account_id: {typed['account_id']!r} is not one of the "
                                 "customer's loans")  # fmt: skip
            kind = typed["kind"]
            reason = typed["reason"][:4000] or None
            made, status, message = attempt(
                lambda: agreement_service.propose(
                    conn, policy, account_id=typed["account_id"], kind=kind,
                    proposed_by=user.username, now=now(),
                    instalments=number("instalments") if kind == "instalments" else None,
                    first_due_date=first_due() if kind == "instalments" else None,
                    extension_months=number("extension_months") if kind == "extension" else None,
                    reason=reason,
                )
            )  # fmt: skip
            if made is None:
                conn.rollback()
        if made is None:
            return show_case(request, user, customer_id, status=status, proposal=typed,
                             error=message)  # fmt: skip
        return back(f"/cases/{customer_id}", "proposed")

    return await run_in_threadpool(work)


@router.post("/cases/{customer_id}/agreements/{agreement_id}/{decision}",
             response_class=HTMLResponse)  # fmt: skip
async def decide_agreement(
    request: Request, customer_id: str, agreement_id: str, decision: str
) -> Response:
    """approve | reject (a checker: `agreement.approve`, never the proposer) or withdraw (the
    proposer)."""
    if decision not in ("approve", "reject", "withdraw"):
        user = current_user(request)
        return not_found(request, user) if user else to_login(request)
    action = (
        CollectionsAction.AGREEMENT_PROPOSE
        if decision == "withdraw"
        else CollectionsAction.AGREEMENT_APPROVE
    )
    user, gated = await post_gate(request, action)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    note = text(form, "note")[:2000] or None
    key = row_key(agreement_id)

    def work() -> Response:
        if key is None:
            return not_found(request, user)
        policy = policy_of(request)
        with engine(request).begin() as conn:
            try:
                row = row_in_scope(conn, user, agreements, "agreement_id", key, action)
            except NotFoundError:
                return not_found(request, user)
            if row.customer_id != customer_id:  # another customer's: not on this page
                return not_found(request, user)
            calls: dict[str, Callable[[], Any]] = {
                "approve": lambda: agreement_service.approve(conn, policy, key, user, now(), note),
                "reject": lambda: agreement_service.reject(conn, key, user, now(), note),
                "withdraw": lambda: agreement_service.withdraw(conn, key, user, now(), note),
            }
            done, status, message = attempt(calls[decision])
            if done is None:
                conn.rollback()
        if done is None:
            assert message is not None
            if status == 403:
                return refused(request, user, 403, message)
            return show_case(request, user, customer_id, status=status, error=message)
        return back(f"/cases/{customer_id}", decision)

    return await run_in_threadpool(work)
