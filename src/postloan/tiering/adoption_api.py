"""Tiering's what-if and tree adoption routes (`/api/tiering/whatif`, `/api/tiering/tree/
proposals…`): candidate cut-offs replayed on the stored history (a read: nothing stored
changes), and a fitted decision tree proposed for the policy and decided by a second person
(maker-checker). The approval writes the new policy version the way `PUT /api/policy` does —
file replaced, version recorded, audited — in the decision's transaction."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy, policy_path
from postloan.inputs import BusinessDate, RowId
from postloan.policy import policy_from_dict
from postloan.tiering import adoption, read, report
from postloan.tiering.actions import TieringAction
from postloan.tiering.card import amounts_for

router = APIRouter(prefix="/api/tiering", tags=["tiering"], responses=ERROR_RESPONSES)
DEFAULT_DAYS = 365


def _window(conn: Connection, start: date | None, end: date | None) -> tuple[date, date]:
    last = end or read.latest_date(conn) or start or date(1970, 1, 1)
    return start or max(last - timedelta(days=DEFAULT_DAYS), date(1900, 1, 1)), last


class WhatIfIn(BaseModel):
    date_from: BusinessDate | None = Field(None, alias="from")
    date_to: BusinessDate | None = Field(None, alias="to")
    tiering: dict[str, Any] = Field(
        description="the candidate `[tiering]` section, whole (as GET /api/policy shows it)"
    )


class WhatIf(BaseModel):
    from_: str = Field(alias="from")
    to: str
    version: str = Field(description="the candidate policy's version")
    moved: list[dict[str, Any]] = Field(description="per tiered date: customers, moved")
    transitions: list[dict[str, Any]] = Field(description="stored → candidate tier on `to`")
    current: list[dict[str, Any]] = Field(description="the review of the stored tiers")
    candidate: list[dict[str, Any]] = Field(description="the review of the candidate's tiers")


def _masked(user: User, found: dict[str, Any]) -> dict[str, Any]:
    return {**found, "current": amounts_for(user, found["current"]),
            "candidate": amounts_for(user, found["candidate"])}  # fmt: skip


@router.post("/whatif", response_model=WhatIf, response_model_by_alias=True)
def what_if(
    request: Request,
    body: WhatIfIn,
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> WhatIf:
    """Candidate tiering cut-offs replayed on the stored history of the caller's scope beside
    the stored tiers: who would move, and the NPL and churn review under both. Reads only."""
    current, _ = effective_policy(request)
    data = current.model_dump(mode="json")
    data["tiering"] = body.tiering
    candidate = policy_from_dict(data, "request body")  # PolicyError → 422 naming the setting
    start, end = _window(conn, body.date_from, body.date_to)
    found = report.what_if(conn, start, end, customer_scope_clause(user, TieringAction.REVIEW),
                           candidate)  # fmt: skip
    return WhatIf.model_validate(_masked(user, found))


class ProposeIn(BaseModel):
    date_from: BusinessDate | None = Field(None, alias="from")
    date_to: BusinessDate | None = Field(None, alias="to")
    max_depth: int = Field(3, ge=1, le=6)
    note: str = Field(min_length=1, max_length=1000, description="why this tree")


class DecideIn(BaseModel):
    approve: bool
    note: str = Field(min_length=1, max_length=1000, description="why")


class ProposalOut(BaseModel):
    proposal: dict[str, Any]
    what_if: dict[str, Any] | None = Field(
        None, description="the proposal's rules replayed on its window (while it is proposed)"
    )


@router.get("/tree/proposals")
def list_proposals(
    user: User = Depends(require(TieringAction.REVIEW)), conn: Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    """Trees proposed for the policy, newest first, with their decisions."""
    return adoption.proposals(conn)


@router.get("/tree/proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(
    request: Request,
    proposal_id: RowId,
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> ProposalOut:
    """One proposal; while it waits, its what-if: the policy in force with the tree's rules,
    replayed on the window it was fitted on (what the approver decides on)."""
    found = adoption.as_dict(adoption.proposal_row(conn, proposal_id))
    if found["status"] != "proposed":
        return ProposalOut(proposal=found, what_if=None)
    current, _ = effective_policy(request)
    candidate = adoption.with_rules(current, found["rules"])
    scope = customer_scope_clause(user, TieringAction.REVIEW)
    replayed = report.what_if(conn, date.fromisoformat(found["fitted_from"]),
                              date.fromisoformat(found["fitted_to"]), scope, candidate)  # fmt: skip
    return ProposalOut(proposal=found, what_if=_masked(user, replayed))


@router.post("/tree/proposals", status_code=201)
def propose(
    request: Request,
    body: ProposeIn,
    user: User = Depends(require(TieringAction.ADOPT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Fit a tree on the whole stored history of the window and propose its rules for the
    policy; another holder of `tiering.adopt` decides."""
    current, _ = effective_policy(request)
    start, end = _window(conn, body.date_from, body.date_to)
    found = adoption.propose_tree(conn, current, start, end, body.max_depth, body.note,
                                  user.username, now())  # fmt: skip
    conn.commit()
    return {"proposal_id": found.proposal_id, "rules": found.rules, "samples": found.samples,
            "accuracy": found.accuracy, "base_version": current.version}  # fmt: skip


@router.post("/tree/proposals/{proposal_id}/decision")
def decide(
    request: Request,
    proposal_id: RowId,
    body: DecideIn,
    user: User = Depends(require(TieringAction.ADOPT)),
    engine: Engine = Depends(get_engine),
) -> dict[str, Any]:
    """Approve (the policy in force with the tree's rules becomes the new policy version) or
    reject; never the proposer's own."""
    current, _ = effective_policy(request)
    with engine.connect() as conn:
        status, adopted = adoption.decide_and_write(
            conn, proposal_id, body.approve, body.note, current, policy_path(request),
            user.username, now(),
        )  # fmt: skip
        conn.commit()
    return {"proposal_id": proposal_id, "status": status,
            "version": None if adopted is None else adopted.version}  # fmt: skip
