"""Write-off and asset disposal over the API (OD-10), under `/api/legal/disposals` (tag
"legal", where they were first served): the list over the caller's scope, proposing one
(`legal.manage`), approving or rejecting it (`writeoff.approve`, and never the proposer:
maker-checker). An account, matter or disposal of a customer outside the caller's scope answers
404, like one that does not exist. Every change is audited (`collections.disposals`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_, select

from postloan.access.scope import customer_in_scope, customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.util import NO_NUL, Page, amount, count_of, iso, page_of
from postloan.collections import disposals as disposal_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.api.legal import CustomerFilter, matter_in_scope
from postloan.collections.legal_tables import account_disposals
from postloan.inputs import Amount, BusinessDate, RowId
from postloan.store.schema import cards, customers, loans

router = APIRouter(prefix="/api/legal", tags=["legal"], responses=ERROR_RESPONSES)


class DisposalOut(BaseModel):
    disposal_id: int
    account_id: str
    customer_id: str
    kind: str = Field(description="write_off | asset_disposal")
    effective_on: str
    principal: str
    interest: str
    fee: str
    proceeds: str | None
    counterparty: str | None
    reason: str
    matter_id: int | None
    status: str = Field(description="proposed | approved | rejected")
    proposed_by: str
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None


class DisposalPage(Page):
    items: list[DisposalOut]


def _disposal_out(r: Any) -> DisposalOut:
    return DisposalOut(
        disposal_id=r.disposal_id, account_id=r.account_id, customer_id=r.customer_id,
        kind=r.kind, effective_on=iso(r.effective_on) or "",
        principal=amount(r.principal) or "0.00", interest=amount(r.interest) or "0.00",
        fee=amount(r.fee) or "0.00", proceeds=amount(r.proceeds), counterparty=r.counterparty,
        reason=r.reason, matter_id=r.matter_id, status=r.status, proposed_by=r.proposed_by,
        proposed_at=iso(r.proposed_at) or "", decided_by=r.decided_by,
        decided_at=iso(r.decided_at), decision_note=r.decision_note,
    )  # fmt: skip


@router.get("/disposals", response_model=DisposalPage)
def list_disposals(
    status: Literal["proposed", "approved", "rejected"] | None = Query(
        None, description="omit for all"
    ),
    kind: Literal["write_off", "asset_disposal"] | None = None,
    customer_id: str | None = CustomerFilter,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> DisposalPage:
    """Write-offs and asset disposals of customers in the caller's scope, newest first."""
    d = account_disposals
    joined = d.join(customers, customers.c.customer_id == d.c.customer_id)
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    for column, wanted in ((d.c.status, status), (d.c.kind, kind),
                           (d.c.customer_id, customer_id)):  # fmt: skip
        if wanted is not None:
            where.append(column == wanted)
    clause = and_(*where)
    rows = page_of(conn, joined, clause, [d], [d.c.disposal_id.desc()], page, page_size)
    return DisposalPage(items=[_disposal_out(r) for r in rows],
                        total=count_of(conn, joined, clause), page=page,
                        page_size=page_size)  # fmt: skip


class DisposalIn(BaseModel):
    account_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    kind: Literal["write_off", "asset_disposal"]
    effective_on: BusinessDate = Field(description="after the latest business date already run")
    reason: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    principal: Amount | None = Field(None, description="default: the outstanding principal")
    interest: Amount | None = Field(None, description="default: the overdue interest")
    fee: Amount = 0
    proceeds: Amount | None = Field(None, description="asset disposal: price")
    counterparty: str | None = Field(None, min_length=1, max_length=200, pattern=NO_NUL)
    matter_id: RowId | None = None


@router.post("/disposals", response_model=DisposalOut, status_code=201)
def propose_disposal(
    body: DisposalIn,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> DisposalOut:
    """Propose writing off or disposing of one account (another user approves)."""
    owner = conn.execute(
        select(loans.c.customer_id).where(loans.c.loan_id == body.account_id)
        .union_all(select(cards.c.customer_id).where(cards.c.card_id == body.account_id))
    ).scalar()  # fmt: skip
    missing = f"account {body.account_id}: not found"
    customer_in_scope(
        conn, user, owner, CollectionsAction.LEGAL_MANAGE, missing=missing, field="account_id"
    )
    if body.matter_id is not None:
        matter_in_scope(conn, user, body.matter_id)
    disposal_id = disposal_service.propose_disposal(
        conn, account_id=body.account_id, kind=body.kind, effective_on=body.effective_on,
        reason=body.reason, user=user.username, now=now(), principal=body.principal,
        interest=body.interest, fee=body.fee,
        proceeds=body.proceeds, counterparty=body.counterparty,
        matter_id=body.matter_id,
    )  # fmt: skip
    conn.commit()
    row = conn.execute(
        select(account_disposals).where(account_disposals.c.disposal_id == disposal_id)
    ).one()
    return _disposal_out(row)


class DecisionIn(BaseModel):
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


class RejectIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, pattern=NO_NUL, description="why not")


def _decide(conn: Connection, user: User, disposal_id: int, approve: bool,
            note: str | None) -> DisposalOut:  # fmt: skip
    row_in_scope(conn, user, account_disposals, "disposal_id", disposal_id,
                 CollectionsAction.WRITEOFF_APPROVE)  # fmt: skip
    disposal_service.decide_disposal(conn, disposal_id, approve=approve,
                                     user=user.username, now=now(), note=note)  # fmt: skip
    conn.commit()
    row = conn.execute(
        select(account_disposals).where(account_disposals.c.disposal_id == disposal_id)
    ).one()
    return _disposal_out(row)


@router.post("/disposals/{disposal_id}/approve", response_model=DisposalOut)
def approve_disposal(
    body: DecisionIn,
    disposal_id: RowId,
    user: User = Depends(require(CollectionsAction.WRITEOFF_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> DisposalOut:
    """Approve (never one's own proposal): from its effective date the account is out of the
    performing pool and its case closes."""
    return _decide(conn, user, disposal_id, True, body.note)


@router.post("/disposals/{disposal_id}/reject", response_model=DisposalOut)
def reject_disposal(
    body: RejectIn,
    disposal_id: RowId,
    user: User = Depends(require(CollectionsAction.WRITEOFF_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> DisposalOut:
    """Reject, with the reason (never one's own proposal)."""
    return _decide(conn, user, disposal_id, False, body.note)
