"""Work other areas hand over to collections (`collections.handover`: churn's level-1
customers — special recovery team, legal proposal, asset preservation, negotiated plan):
`GET /api/collections/handovers` lists those of customers in the caller's scope (`case.view`);
`POST /api/collections/handovers/{id}/accept|decline` is the recovery side's decision
(`case.assign`: the collection supervisor who allocates the branch's work), audited by
`decide_handover`; a decline needs a reason. A hand-over of a customer outside the caller's
scope answers 404, like one that does not exist. Overdue amounts are account data: withheld
from roles without `account.view` (auditors).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access import Action, can
from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.util import NO_NUL, Page, amount, iso
from postloan.collections.actions import CollectionsAction
from postloan.collections.handover import decide_handover
from postloan.collections.handover_tables import handovers
from postloan.collections.queries import handover_page
from postloan.inputs import RowId

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)
Status = Literal["open", "accepted", "declined"]


class HandoverItem(BaseModel):
    handover_id: int
    source: str = Field(description="the handing area, e.g. churn")
    customer_id: str
    handed_on: str
    actions: list[str] = Field(description="asked for: special_recovery_team, legal_proposal, …")
    overdue_amount: str | None = Field(description="on handed_on (null without account access)")
    max_dpd: int | None
    basis: dict[str, Any] = Field(description="why, from the handing area")
    status: str = Field(description="open | accepted | declined")
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None


class HandoverPage(Page):
    items: list[HandoverItem]


def handover_item(row: Any, user: User) -> HandoverItem:
    accounts = can(user.role, Action.ACCOUNT_VIEW)
    return HandoverItem(
        handover_id=row.handover_id, source=row.source, customer_id=row.customer_id,
        handed_on=iso(row.handed_on) or "", actions=[a for a in row.actions.split(",") if a],
        overdue_amount=amount(row.overdue_amount) if accounts else None,
        max_dpd=int(row.max_dpd) if accounts else None, basis=json.loads(row.basis or "{}"),
        status=row.status, decided_by=row.decided_by, decided_at=iso(row.decided_at),
        decision_note=row.decision_note,
    )  # fmt: skip


@router.get("/handovers", response_model=HandoverPage)
def list_handovers(
    status: Status | None = Query(None, description="omit for all"),
    source: str | None = Query(None, min_length=1, max_length=32, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> HandoverPage:
    """Hand-overs of customers in the caller's scope, open first, then oldest."""
    scope = customer_scope_clause(user, CollectionsAction.CASE_VIEW)
    total, rows = handover_page(conn, scope, status, source, page, page_size)
    return HandoverPage(items=[handover_item(r, user) for r in rows], total=total, page=page,
                        page_size=page_size)  # fmt: skip


class AcceptIn(BaseModel):
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


class DeclineIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, pattern=NO_NUL, description="why not")


def _decide(conn: Connection, user: User, handover_id: int, accept: bool,
            note: str | None) -> HandoverItem:  # fmt: skip
    missing = f"hand-over {handover_id}: not found"
    row_in_scope(conn, user, handovers, "handover_id", handover_id,
                 CollectionsAction.CASE_ASSIGN, missing=missing)  # fmt: skip
    decide_handover(conn, handover_id, accept=accept, user=user.username, note=note, now=now())
    conn.commit()
    row = row_in_scope(conn, user, handovers, "handover_id", handover_id,
                       CollectionsAction.CASE_ASSIGN)  # fmt: skip
    return handover_item(row, user)


@router.post("/handovers/{handover_id}/accept", response_model=HandoverItem)
def accept_handover(
    body: AcceptIn,
    handover_id: RowId,
    user: User = Depends(require(CollectionsAction.CASE_ASSIGN)),
    conn: Connection = Depends(get_conn),
) -> HandoverItem:
    """Take the hand-over on: the recovery team works it (audited)."""
    return _decide(conn, user, handover_id, True, body.note)


@router.post("/handovers/{handover_id}/decline", response_model=HandoverItem)
def decline_handover(
    body: DeclineIn,
    handover_id: RowId,
    user: User = Depends(require(CollectionsAction.CASE_ASSIGN)),
    conn: Connection = Depends(get_conn),
) -> HandoverItem:
    """Decline the hand-over, with the reason (audited)."""
    return _decide(conn, user, handover_id, False, body.note)
