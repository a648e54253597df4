"""Legal action over the API (OD-8): proposals the daily run made (accept: open a matter;
decline), and legal matters through their stages with documents, evidence and costs.

Lists need `case.view` and show only customers in the caller's scope; acting needs
`legal.manage`. A record of a customer outside the caller's scope answers 404, like one that
does not exist. Amounts are strings with 2 decimals; dates default to today in the default
jurisdiction's zone. Every change is audited (`collections.legal_proposals`,
`collections.legal_matters`). Write-offs and disposals (under `/api/legal/disposals`):
`collections.api.disposals`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, and_

from postloan.access.scope import customer_scope_clause, row_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, Page, amount, count_of, iso, page_of
from postloan.collections import legal_matters as matter_service
from postloan.collections import legal_proposals as proposal_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.legal_tables import legal_matters, legal_proposals
from postloan.inputs import Amount, BusinessDate, RowId
from postloan.policy import Policy
from postloan.store.schema import customers

router = APIRouter(prefix="/api/legal", tags=["legal"], responses=ERROR_RESPONSES)

CustomerFilter = Query(None, min_length=1, max_length=64, pattern=NO_NUL)
StageName = Literal["lawyer_letter", "lawsuit", "property_preservation", "enforcement", "closed"]
CloseReason = Literal["repaid", "settled", "withdrawn", "enforced", "uncollectable"]
assert (
    get_args(StageName) == matter_service.STAGES
    and get_args(CloseReason) == matter_service.CLOSE_REASONS
)


def today(policy: Policy) -> date:
    return now().astimezone(ZoneInfo(policy.contact.rules_for(None).timezone)).date()


# --- proposals ---------------------------------------------------------------------------------


class ProposalItem(BaseModel):
    proposal_id: int
    customer_id: str
    case_opened_on: str = Field(description="the case episode the proposal belongs to")
    case_status: str | None = Field(description="open | closed (null: case no longer exists)")
    proposed_on: str
    max_dpd: int
    failed_contacts: int
    overdue_amount: str
    status: str = Field(description="proposed | accepted | declined")
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    matter_id: int | None


class ProposalPage(Page):
    items: list[ProposalItem]


@router.get("/proposals", response_model=ProposalPage)
def list_proposals(
    status: Literal["proposed", "accepted", "declined"] | None = Query(
        "proposed", description="omit for all"
    ),
    customer_id: str | None = CustomerFilter,
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(50, ge=1, le=200),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> ProposalPage:
    """Legal proposals of customers in the caller's scope, oldest first."""
    from postloan.collections.tables import cases

    p = legal_proposals
    episode = and_(cases.c.customer_id == p.c.customer_id, cases.c.opened_on == p.c.case_opened_on)
    joined = (
        p.join(customers, customers.c.customer_id == p.c.customer_id)
        .outerjoin(cases, episode)
        .outerjoin(legal_matters, legal_matters.c.proposal_id == p.c.proposal_id)
    )
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    for column, wanted in ((p.c.status, status), (p.c.customer_id, customer_id)):
        if wanted is not None:
            where.append(column == wanted)
    clause = and_(*where)
    rows = page_of(conn, joined, clause,
                    [p, cases.c.status.label("case_status"), legal_matters.c.matter_id],
                    [p.c.proposed_on, p.c.proposal_id], page, page_size)  # fmt: skip
    items = [
        ProposalItem(
            proposal_id=r.proposal_id, customer_id=r.customer_id,
            case_opened_on=iso(r.case_opened_on) or "", case_status=r.case_status,
            proposed_on=iso(r.proposed_on) or "", max_dpd=r.max_dpd,
            failed_contacts=r.failed_contacts, overdue_amount=amount(r.overdue_amount) or "0.00",
            status=r.status, decided_by=r.decided_by, decided_at=iso(r.decided_at),
            decision_note=r.decision_note, matter_id=r.matter_id,
        )
        for r in rows
    ]  # fmt: skip
    return ProposalPage(items=items, total=count_of(conn, joined, clause), page=page,
                        page_size=page_size)  # fmt: skip


class AcceptIn(BaseModel):
    on: BusinessDate | None = Field(
        None, description="the matter opens on this date (default today)"
    )
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


class DeclineIn(BaseModel):
    note: str = Field(min_length=1, max_length=2000, pattern=NO_NUL, description="why not")


class Decided(BaseModel):
    proposal_id: int
    status: str
    matter_id: int | None = None


@router.post("/proposals/{proposal_id}/accept", response_model=Decided)
def accept(
    request: Request,
    body: AcceptIn,
    proposal_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> Decided:
    """Open a legal matter (at `lawyer_letter`) from the proposal."""
    policy = effective_policy(request)[0]
    row_in_scope(
        conn, user, legal_proposals, "proposal_id", proposal_id, CollectionsAction.LEGAL_MANAGE
    )
    matter_id = proposal_service.accept_proposal(
        conn, proposal_id, policy, user=user.username, on=body.on or today(policy),
        now=now(), note=body.note,
    )  # fmt: skip
    conn.commit()
    return Decided(proposal_id=proposal_id, status="accepted", matter_id=matter_id)


@router.post("/proposals/{proposal_id}/decline", response_model=Decided)
def decline(
    body: DeclineIn,
    proposal_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> Decided:
    """Decline the proposal, with the reason (the daily run does not propose it again)."""
    row_in_scope(
        conn, user, legal_proposals, "proposal_id", proposal_id, CollectionsAction.LEGAL_MANAGE
    )
    proposal_service.decline_proposal(
        conn, proposal_id, user=user.username, note=body.note, now=now()
    )
    conn.commit()
    return Decided(proposal_id=proposal_id, status="declined")


# --- matters -----------------------------------------------------------------------------------


class StageOut(BaseModel):
    stage: str
    entered_on: str
    left_on: str | None
    reference: str | None
    entered_by: str
    note: str | None


class DocumentOut(BaseModel):
    document_id: int
    stage: str
    name: str
    kind: str
    reference: str
    dated_on: str | None
    added_by: str
    added_at: str


class CostOut(BaseModel):
    cost_id: int
    stage: str
    category: str
    amount: str
    incurred_on: str
    note: str | None
    recorded_by: str


class EvidenceOut(BaseModel):
    stage: str = Field(description="needed before the matter may enter this stage")
    item: str
    present: bool
    source: str | None = Field(description="document:<id> or contact_log")


class MatterOut(BaseModel):
    matter_id: int
    proposal_id: int
    customer_id: str
    case_opened_on: str
    stage: str
    status: str
    opened_on: str
    closed_on: str | None
    close_reason: str | None
    claim_amount: str
    owner: str
    next_stages: list[str] = Field(description="where it may go from here")
    stages: list[StageOut]
    documents: list[DocumentOut]
    costs: list[CostOut]
    total_cost: str
    evidence: list[EvidenceOut]
    demands: int = Field(description="contacts logged in the case episode (demands for payment)")
    last_demand_on: str | None
    limitation_ends_on: str | None = Field(
        description="the last demand plus the limitation period (Civil Code Art. 188/195)"
    )


class MatterPage(Page):
    items: list[MatterOut]


def _matter_out(conn: Connection, matter_id: int, policy: Policy) -> MatterOut:
    d = matter_service.matter_detail(conn, matter_id, policy)
    m = d.matter
    return MatterOut(
        matter_id=m["matter_id"], proposal_id=m["proposal_id"], customer_id=m["customer_id"],
        case_opened_on=iso(m["case_opened_on"]) or "", stage=m["stage"], status=m["status"],
        opened_on=iso(m["opened_on"]) or "", closed_on=iso(m["closed_on"]),
        close_reason=m["close_reason"], claim_amount=amount(m["claim_amount"]) or "0.00",
        owner=m["owner"], next_stages=list(matter_service.TRANSITIONS.get(m["stage"], ())),
        stages=[StageOut(stage=s["stage"], entered_on=iso(s["entered_on"]) or "",
                         left_on=iso(s["left_on"]), reference=s["reference"],
                         entered_by=s["entered_by"], note=s["note"]) for s in d.stages],
        documents=[DocumentOut(document_id=x["document_id"], stage=x["stage"], name=x["name"],
                               kind=x["kind"], reference=x["reference"],
                               dated_on=iso(x["dated_on"]), added_by=x["added_by"],
                               added_at=iso(x["added_at"]) or "") for x in d.documents],
        costs=[CostOut(cost_id=c["cost_id"], stage=c["stage"], category=c["category"],
                       amount=amount(c["amount"]) or "0.00",
                       incurred_on=iso(c["incurred_on"]) or "", note=c["note"],
                       recorded_by=c["recorded_by"]) for c in d.costs],
        total_cost=amount(d.total_cost) or "0.00",
        evidence=[EvidenceOut(**e) for e in d.checklist],
        demands=d.demands, last_demand_on=iso(d.last_demand_on),
        limitation_ends_on=iso(d.limitation_ends_on),
    )  # fmt: skip


@router.get("/matters", response_model=MatterPage)
def list_matters(
    request: Request,
    status: Literal["open", "closed"] | None = Query("open", description="omit for both"),
    stage: StageName | None = None,
    customer_id: str | None = CustomerFilter,
    matter_id: RowId | None = Query(None, description="one matter"),
    owner: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    page: int = Query(1, ge=1, le=1_000_000),
    page_size: int = Query(20, ge=1, le=100),
    user: User = Depends(require(CollectionsAction.CASE_VIEW)),
    conn: Connection = Depends(get_conn),
) -> MatterPage:
    """Legal matters of customers in the caller's scope, each with its stages, documents,
    costs and evidence checklist; oldest first."""
    policy = effective_policy(request)[0]
    m = legal_matters
    joined = m.join(customers, customers.c.customer_id == m.c.customer_id)
    where = [customer_scope_clause(user, CollectionsAction.CASE_VIEW)]
    for column, wanted in ((m.c.status, status), (m.c.stage, stage),
                           (m.c.customer_id, customer_id), (m.c.matter_id, matter_id),
                           (m.c.owner, owner)):  # fmt: skip
        if wanted is not None:
            where.append(column == wanted)
    clause = and_(*where)
    rows = page_of(conn, joined, clause, [m.c.matter_id], [m.c.opened_on, m.c.matter_id],
                    page, page_size)  # fmt: skip
    items = [_matter_out(conn, r.matter_id, policy) for r in rows]
    return MatterPage(items=items, total=count_of(conn, joined, clause), page=page,
                      page_size=page_size)  # fmt: skip


class AdvanceIn(BaseModel):
    to: StageName = Field(description="the next stage (see next_stages)")
    on: BusinessDate | None = Field(None, description="the date it happened (default today)")
    reference: str | None = Field(None, max_length=128, pattern=NO_NUL,
                                  description="e.g. the court's case number (案号)")  # fmt: skip
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)
    close_reason: CloseReason | None = Field(
        None,
        description="when closing: repaid | settled | withdrawn (any stage); enforced | "
        "uncollectable (from enforcement)",
    )


class DocumentIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    kind: str = Field(
        min_length=1, max_length=48, pattern=NO_NUL, description="an evidence item is evidence"
    )
    reference: str = Field(min_length=1, max_length=2000, pattern=NO_NUL,
                           description="where it is kept: path, URL or archive number")  # fmt: skip
    dated_on: BusinessDate | None = None


class EvidenceIn(BaseModel):
    item: str = Field(min_length=1, max_length=48, pattern=NO_NUL,
                      description="an item of the policy's evidence checklist")  # fmt: skip
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    reference: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    dated_on: BusinessDate | None = None


class CostIn(BaseModel):
    category: str = Field(min_length=1, max_length=48, pattern=NO_NUL,
                          description="one of the policy's legal.cost_categories")  # fmt: skip
    amount: Amount
    incurred_on: BusinessDate | None = Field(None, description="default today")
    note: str | None = Field(None, max_length=2000, pattern=NO_NUL)


def matter_in_scope(conn: Connection, user: User, matter_id: int) -> None:
    """The matter when its customer lies in the caller's `legal.manage` scope, else 404."""
    row_in_scope(conn, user, legal_matters, "matter_id", matter_id, CollectionsAction.LEGAL_MANAGE)


def _on_matter(request: Request, conn: Connection, user: User, matter_id: int,
               work: Callable[[Policy], object]) -> MatterOut:  # fmt: skip
    """What every matter route does around its work: the effective policy, the caller's scope
    (404 outside it), one commit, and the matter as it now stands."""
    policy = effective_policy(request)[0]
    matter_in_scope(conn, user, matter_id)
    work(policy)
    conn.commit()
    return _matter_out(conn, matter_id, policy)


@router.post("/matters/{matter_id}/advance", response_model=MatterOut)
def advance(
    request: Request,
    body: AdvanceIn,
    matter_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> MatterOut:
    """Move the matter to its next stage (or close it); 409 names missing evidence."""
    return _on_matter(request, conn, user, matter_id, lambda policy: matter_service.advance_matter(
        conn, matter_id, body.to, policy, user=user.username, on=body.on or today(policy),
        now=now(), reference=body.reference, note=body.note,
        close_reason=body.close_reason))  # fmt: skip


@router.post("/matters/{matter_id}/documents", response_model=MatterOut)
def add_document(
    request: Request,
    body: DocumentIn,
    matter_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> MatterOut:
    """Book a document against the matter's current stage."""
    return _on_matter(request, conn, user, matter_id, lambda _: matter_service.add_document(
        conn, matter_id, name=body.name, kind=body.kind, reference=body.reference,
        user=user.username, now=now(), dated_on=body.dated_on))  # fmt: skip


@router.post("/matters/{matter_id}/evidence", response_model=MatterOut)
def add_evidence(
    request: Request,
    body: EvidenceIn,
    matter_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> MatterOut:
    """Provide an item of the evidence checklist."""
    return _on_matter(request, conn, user, matter_id, lambda policy: matter_service.add_evidence(
        conn, matter_id, body.item, policy, name=body.name, reference=body.reference,
        user=user.username, now=now(), dated_on=body.dated_on))  # fmt: skip


@router.post("/matters/{matter_id}/costs", response_model=MatterOut)
def add_cost(
    request: Request,
    body: CostIn,
    matter_id: RowId,
    user: User = Depends(require(CollectionsAction.LEGAL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> MatterOut:
    """Book a legal cost against the matter's current stage."""
    return _on_matter(request, conn, user, matter_id, lambda policy: matter_service.add_cost(
        conn, matter_id, policy, category=body.category, amount=body.amount,
        incurred_on=body.incurred_on or today(policy), user=user.username, now=now(),
        note=body.note))  # fmt: skip
