"""Repayment agreements (OD-4): list, propose (maker), approve / reject (checker), withdraw.

The list needs `case.view` and shows only customers in the caller's scope; proposing needs
`agreement.propose`, deciding `agreement.approve` — and never by the user who proposed it,
whatever their role (403 `maker_checker`); withdrawing is the proposer's (with
`agreement.propose`). An agreement or loan of a customer outside the caller's scope for the
action answers 404, like one that does not exist. Amounts are strings with 2 decimals.
The rules and how an approved agreement reaches the ledger: `postloan.collections.agreements`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, func, select, union_all

from postloan.access.scope import customer_in_scope, customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.collections import agreements as service
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreements
from postloan.inputs import BusinessDate, RowId
from postloan.policy import Policy
from postloan.store.schema import cards, customers, loans

router = APIRouter(prefix="/api/agreements", tags=["agreements"], responses=ERROR_RESPONSES)

Status = Literal["proposed", "approved", "rejected", "withdrawn"]


class ScheduleRow(BaseModel):
    period: int
    due_date: date
    principal_due: str
    interest_due: str
    agreed: bool = Field(description="new or moved by the agreement (the rest were paid)")


class Agreement(BaseModel):
    agreement_id: int
    account_id: str
    customer_id: str
    kind: str = Field(description="instalments | extension")
    status: str = Field(description="proposed | approved | rejected | withdrawn")
    instalments: int | None = None
    first_due_date: date | None = None
    extension_months: int | None = None
    reason: str | None = None
    proposed_by: str
    proposed_at: str
    proposed_as_of: date = Field(description="the stored status date the proposal relied on")
    dpd_at_proposal: int
    amount: str = Field(description="what the agreed instalments owe in all")
    decided_by: str | None = None
    decided_at: str | None = None
    decision_note: str | None = None
    effective_date: date | None = Field(None, description="first business date it applies to")
    first_agreed_due: date | None = Field(None, description="the observation period's start")
    class_at_restructuring: str | None = None
    repeat: bool | None = Field(None, description="restructured again under observation")
    schedule: list[ScheduleRow] | None = Field(
        None,
        description="approved: the schedule fixed at approval; proposed: what approving now "
        "would fix (empty when it no longer could)",
    )


class AgreementPage(Page):
    items: list[Agreement]


def _out(conn: Connection, policy: Policy | None, row: Any) -> Agreement:
    schedule = None
    if policy is not None:
        schedule = [
            ScheduleRow(period=i.period, due_date=i.due_date, agreed=i.agreed,
                        principal_due=amount(i.principal_due) or "0.00",
                        interest_due=amount(i.interest_due) or "0.00")
            for i in service.schedule_of(conn, policy, row)
        ]  # fmt: skip
    values = dict(row._mapping)
    values.pop("live_account_id", None)
    return Agreement(
        **{**values, "amount": amount(row.amount) or "0.00", "proposed_at": iso(row.proposed_at),
           "decided_at": iso(row.decided_at),
           "repeat": None if row.repeat is None else bool(row.repeat), "schedule": schedule}
    )  # fmt: skip


@router.get("", response_model=AgreementPage)
def list_agreements(
    request: Request,
    status: Status | None = Query(None, description="omit for all"),
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    account_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    with_schedule: bool = Query(False, description="include each agreement's schedule"),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> AgreementPage:
    """Agreements of customers in the caller's scope, newest first."""
    a = agreements
    joined = a.join(customers, customers.c.customer_id == a.c.customer_id)
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    for column, wanted in ((a.c.status, status), (a.c.customer_id, customer_id),
                           (a.c.account_id, account_id)):  # fmt: skip
        if wanted is not None:
            where.append(column == wanted)
    clause = and_(*where)
    rows = conn.execute(
        select(a).select_from(joined).where(clause)
        .order_by(a.c.agreement_id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()  # fmt: skip
    total = conn.execute(select(func.count()).select_from(joined).where(clause)).scalar_one()
    policy = effective_policy(request)[0] if with_schedule else None
    return AgreementPage(items=[_out(conn, policy, r) for r in rows], total=int(total),
                         page=page, page_size=page_size)  # fmt: skip


class ProposeIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL, description="a loan")
    kind: Literal["instalments", "extension"]
    instalments: int | None = Field(None, ge=1, le=1200, description="kind instalments: N")
    first_due_date: BusinessDate | None = Field(
        None, description="kind instalments: the first new due"
    )
    extension_months: int | None = Field(None, ge=1, le=1200, description="kind extension: M")
    reason: str | None = Field(
        None, max_length=4000, pattern=NO_NUL, description="why behind; what was agreed"
    )


class DecisionIn(BaseModel):
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


@router.post("", response_model=Agreement, status_code=201)
def propose(
    request: Request,
    body: ProposeIn,
    user: User = Depends(require(CollectionsAction.AGREEMENT_PROPOSE)),
    conn: Connection = Depends(get_conn),
) -> Agreement:
    """Propose an agreement for a loan at or past `collections.agreement_min_dpd` DPD."""
    policy = effective_policy(request)[0]
    owners = union_all(  # a card is refused by the service, naming the field
        select(loans.c.customer_id).where(loans.c.loan_id == body.account_id),
        select(cards.c.customer_id).where(cards.c.card_id == body.account_id),
    )
    owner, missing = conn.execute(owners).scalar(), f"no loan {body.account_id!r}"
    customer_in_scope(
        conn, user, owner, CollectionsAction.AGREEMENT_PROPOSE, missing=missing, field="account_id"
    )
    agreement_id = service.propose(
        conn, policy, account_id=body.account_id, kind=body.kind, proposed_by=user.username,
        now=now(), instalments=body.instalments, first_due_date=body.first_due_date,
        extension_months=body.extension_months, reason=body.reason,
    )  # fmt: skip
    row = service.get(conn, agreement_id)
    conn.commit()
    return _out(conn, policy, row)


@router.post("/{agreement_id}/approve", response_model=Agreement)
def approve(
    request: Request,
    agreement_id: RowId,
    body: DecisionIn | None = None,
    user: User = Depends(require(CollectionsAction.AGREEMENT_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> Agreement:
    """Approve (checker): the new schedule applies from the day after the latest stored
    status date; the loan is restructured from then on."""
    policy = effective_policy(request)[0]
    row_in_scope(
        conn, user, agreements, "agreement_id", agreement_id, CollectionsAction.AGREEMENT_APPROVE
    )
    row = service.approve(conn, policy, agreement_id, user, now(), body.note if body else None)
    conn.commit()
    return _out(conn, policy, row)


@router.post("/{agreement_id}/reject", response_model=Agreement)
def reject(
    agreement_id: RowId,
    body: DecisionIn | None = None,
    user: User = Depends(require(CollectionsAction.AGREEMENT_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> Agreement:
    """Reject (checker)."""
    row_in_scope(
        conn, user, agreements, "agreement_id", agreement_id, CollectionsAction.AGREEMENT_APPROVE
    )
    row = service.reject(conn, agreement_id, user, now(), body.note if body else None)
    conn.commit()
    return _out(conn, None, row)


@router.post("/{agreement_id}/withdraw", response_model=Agreement)
def withdraw(
    agreement_id: RowId,
    body: DecisionIn | None = None,
    user: User = Depends(require(CollectionsAction.AGREEMENT_PROPOSE)),
    conn: Connection = Depends(get_conn),
) -> Agreement:
    """Withdraw (the proposer, while it awaits a decision)."""
    row_in_scope(
        conn, user, agreements, "agreement_id", agreement_id, CollectionsAction.AGREEMENT_PROPOSE
    )
    row = service.withdraw(conn, agreement_id, user, now(), body.note if body else None)
    conn.commit()
    return _out(conn, None, row)
