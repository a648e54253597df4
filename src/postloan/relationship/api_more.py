"""The relationship area's other routes: hardship plans (maker-checker, pausing collections),
loyalty points (read, redeem, goodwill for a complaint) and surveys (versions, responses, the
satisfaction report). Scope, 404 out of scope, audit and CSRF as in `relationship.api`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from postloan.access.permissions import Scope, scope_for
from postloan.access.scope import customer_in_scope, customer_scope_clause, row_in_scope
from postloan.access.scope import customer_scope_clause as scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL
from postloan.errors import InvalidError
from postloan.inputs import BusinessDate
from postloan.policy.tiering import Tier
from postloan.relationship import contact_plans, feedback, hardship, loyalty, surveys
from postloan.relationship.actions import RelAction
from postloan.relationship.api import ComplaintId, period, today
from postloan.relationship.api import period as _period
from postloan.relationship.report import satisfaction_report
from postloan.relationship.tables import (
    complaints,
    hardship_plans,
    planned_contacts,
    survey_followups,
    survey_invitations,
    survey_responses,
)
from postloan.relationship.tables import (
    contact_plans as plans_table,
)
from postloan.store.schema import customers

router = APIRouter(prefix="/api/relationship", tags=["relationship"], responses=ERROR_RESPONSES)

PlanId = Path(ge=1, le=2**31 - 1, description="the hardship plan id")
CustomerId = Path(min_length=1, max_length=64, pattern=NO_NUL, description="the customer id")
Note = Field(None, max_length=1000, pattern=NO_NUL)


class PlanIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    account_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    kind: Literal["card_instalment", "loan_deferral", "loan_extension"]
    months: int = Field(ge=1, le=600)
    form: Literal["written", "oral"]
    oral_record: str | None = Field(None, max_length=1000, pattern=NO_NUL)
    reason: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


def _plan(row: Any) -> dict[str, Any]:
    return {
        k: (str(v)[:10] if k.endswith("_on") and v is not None else v)
        for k, v in row._mapping.items()
        if k != "created_at"
    }


@router.post("/hardship-plans", status_code=201)
def propose(
    body: PlanIn,
    request: Request,
    user: User = Depends(require(RelAction.HARDSHIP)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Propose a hardship plan (checked against the policy's limits: 403 naming the limit)."""
    customer_in_scope(conn, user, body.customer_id, RelAction.HARDSHIP)
    at = now()
    plan_id = hardship.propose(
        conn,
        effective_policy(request)[0],
        customer_id=body.customer_id,
        account_id=body.account_id,
        kind=body.kind,
        months=body.months,
        form=body.form,
        oral_record=body.oral_record,
        reason=body.reason,
        actor=user.username,
        today=today(at),
        now=at,
    )
    conn.commit()
    return _plan(hardship.get(conn, plan_id))


@router.get("/customers/{customer_id}/hardship-plans")
def plans_of(
    customer_id: str = CustomerId,
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> list[dict[str, Any]]:
    customer_in_scope(conn, user, customer_id, RelAction.VIEW)
    h = hardship_plans.c
    return [
        _plan(r)
        for r in conn.execute(
            select(hardship_plans).where(h.customer_id == customer_id).order_by(h.plan_id.desc())
        )
    ]


class DecisionIn(BaseModel):
    approve: bool
    note: str | None = Note


@router.post("/hardship-plans/{plan_id}/decision")
def decide(
    body: DecisionIn,
    plan_id: int = PlanId,
    user: User = Depends(require(RelAction.HARDSHIP_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Approve (collections' work for the customer paused) or reject — never one's own."""
    row_in_scope(conn, user, hardship_plans, "plan_id", plan_id, RelAction.HARDSHIP_APPROVE)
    at = now()
    paused = hardship.decide(
        conn,
        plan_id,
        approve=body.approve,
        approver=user.username,
        approver_role=user.role,
        note=body.note,
        today=today(at),
        now=at,
    )
    conn.commit()
    return _plan(hardship.get(conn, plan_id)) | {"tasks_paused": paused}


class EndIn(BaseModel):
    outcome: Literal["broken", "completed"]
    note: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


@router.post("/hardship-plans/{plan_id}/end")
def end(
    body: EndIn,
    plan_id: int = PlanId,
    user: User = Depends(require(RelAction.HARDSHIP)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """The plan broken (collection work resumes) or completed."""
    row_in_scope(conn, user, hardship_plans, "plan_id", plan_id, RelAction.HARDSHIP)
    at = now()
    back = hardship.end(
        conn,
        plan_id,
        broken=body.outcome == "broken",
        note=body.note,
        actor=user.username,
        today=today(at),
        now=at,
    )
    conn.commit()
    return _plan(hardship.get(conn, plan_id)) | {"tasks_resumed": back}


@router.post("/hardship-plans/{plan_id}/withdraw")
def withdraw(
    plan_id: int = PlanId,
    user: User = Depends(require(RelAction.HARDSHIP)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    row_in_scope(conn, user, hardship_plans, "plan_id", plan_id, RelAction.HARDSHIP)
    at = now()
    hardship.withdraw(conn, plan_id, actor=user.username, today=today(at), now=at)
    conn.commit()
    return _plan(hardship.get(conn, plan_id))


@router.get("/customers/{customer_id}/points")
def points(
    customer_id: str = CustomerId,
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """The customer's points balance and ledger entries (newest first)."""
    customer_in_scope(conn, user, customer_id, RelAction.VIEW)
    return {
        "customer_id": customer_id,
        "balance": loyalty.balance(conn, customer_id),
        "entries": [
            {
                "entry_id": e.entry_id,
                "on": str(e.entry_on)[:10],
                "kind": e.kind,
                "rule": e.rule,
                "points": int(e.points),
                "basis": e.basis,
            }
            for e in loyalty.entries(conn, customer_id)
        ],
    }


@router.post("/customers/{customer_id}/redeem", status_code=201)
def redeem(
    request: Request,
    customer_id: str = CustomerId,
    user: User = Depends(require(RelAction.LOYALTY)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Spend points for a preferential-rate offer (409 with too few points)."""
    customer_in_scope(conn, user, customer_id, RelAction.LOYALTY)
    at = now()
    offer = loyalty.redeem(
        conn,
        effective_policy(request)[0],
        customer_id,
        actor=user.username,
        today=today(at),
        now=at,
    )
    conn.commit()
    return {"offer_id": offer, "balance": loyalty.balance(conn, customer_id)}


class GoodwillIn(BaseModel):
    points: int = Field(ge=1, le=1_000_000)
    note: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


@router.post("/complaints/{complaint_id}/goodwill", status_code=201)
def goodwill(
    request: Request,
    body: GoodwillIn,
    complaint_id: int = ComplaintId,
    user: User = Depends(require(RelAction.LOYALTY)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """A goodwill remedy tied to a complaint (once per complaint, at most the policy's cap)."""
    row = row_in_scope(conn, user, complaints, "complaint_id", complaint_id, RelAction.LOYALTY)
    at = now()
    loyalty.goodwill(
        conn,
        effective_policy(request)[0],
        complaint_id,
        body.points,
        body.note,
        actor=user.username,
        today=today(at),
        now=at,
    )
    conn.commit()
    return {"complaint_id": complaint_id, "balance": loyalty.balance(conn, row.customer_id)}


class VersionIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    questions: list[str] = Field(
        default=list(surveys.DEFAULT_QUESTIONS), min_length=1, max_length=surveys.MAX_QUESTIONS
    )


@router.post("/surveys/versions", status_code=201)
def add_version(
    body: VersionIn,
    user: User = Depends(require(RelAction.SURVEY)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    vid = surveys.add_version(conn, body.name, body.questions, actor=user.username, now=now())
    conn.commit()
    return {"version_id": vid}


class ResponseIn(BaseModel):
    version_id: int = Field(ge=1, le=2**31 - 1)
    customer_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    answered_on: BusinessDate
    csat: int = Field(ge=1, le=5)
    nps: int = Field(ge=0, le=10)
    answers: dict[str, int] = Field(default_factory=dict, max_length=surveys.MAX_QUESTIONS)
    invitation_id: int | None = Field(None, ge=1, le=2**31 - 1)
    comment: str | None = Field(None, max_length=surveys.MAX_COMMENT, pattern=NO_NUL)


@router.post("/surveys/responses", status_code=201)
def add_response(
    request: Request,
    body: ResponseIn,
    user: User = Depends(require(RelAction.SURVEY)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """A response, walk-in or answering an invitation (`invitation_id`: answered once, 409
    the second time); a low score opens the owning department's follow-up."""
    customer_in_scope(conn, user, body.customer_id, RelAction.SURVEY)
    rid = surveys.record_response(
        conn,
        version_id=body.version_id,
        customer_id=body.customer_id,
        answered_on=body.answered_on,
        csat_score=body.csat,
        nps_score=body.nps,
        answers=body.answers,
        source="workbench",
        actor=user.username,
        today=today(),
        policy=effective_policy(request)[0],
        now=now(),
        invitation_id=body.invitation_id,
        comment=body.comment,
    )
    conn.commit()
    return {"response_id": rid}


@router.get("/reports/satisfaction")
def satisfaction(
    request: Request,
    date_from: BusinessDate | None = None,
    date_to: BusinessDate | None = None,
    user: User = Depends(require(RelAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """CSAT and NPS with confidence intervals by branch and month (and overall)."""
    first, last = period(date_from, date_to)
    return satisfaction_report(
        conn,
        effective_policy(request)[0],
        first,
        last,
        customer_scope_clause(user, RelAction.REPORT),
    )


@router.get("/reports/department-feedback")
def department_feedback(
    request: Request,
    date_from: BusinessDate | None = None,
    date_to: BusinessDate | None = None,
    period: Literal["month", "quarter"] = "month",
    user: User = Depends(require(RelAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Survey results per owning department: each dimension's CSAT with its interval by month
    or quarter and its change against the period before, the low-score comments (customers in
    scope; numbers in the text masked) and the open follow-ups."""
    first, last = _period(date_from, date_to)
    return feedback.department_report(
        conn,
        effective_policy(request)[0],
        first,
        last,
        period,
        customer_scope_clause(user, RelAction.REPORT),
        user.role,
    )


class FollowupCloseIn(BaseModel):
    note: str = Field(min_length=1, max_length=feedback.MAX_NOTE, pattern=NO_NUL)


@router.post("/survey-followups/{followup_id}/close")
def close_followup(
    body: FollowupCloseIn,
    followup_id: int = Path(ge=1, le=2**31 - 1, description="the follow-up id"),
    user: User = Depends(require(RelAction.SURVEY)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """A department's answer to a low score: the follow-up closed with a note (audited)."""
    row_in_scope(conn, user, survey_followups, "followup_id", followup_id, RelAction.SURVEY)
    feedback.close_followup(conn, followup_id, body.note, actor=user.username, now=now())
    conn.commit()
    return {"followup_id": followup_id, "status": "closed"}


class ContactPlanIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL)
    branch_id: str | None = Field(None, min_length=1, max_length=32, pattern=NO_NUL)
    tier: Tier | None = None  # the tiers area's held tier (policy.tiering.TIERS)
    channel: Literal["phone", "sms", "email", "app"]
    purpose: Literal["service", "marketing"]
    cadence_days: int = Field(ge=1, le=contact_plans.MAX_CADENCE)
    starts_on: BusinessDate


@router.post("/contact-plans", status_code=201)
def add_contact_plan(
    body: ContactPlanIn,
    user: User = Depends(require(RelAction.CONTACT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """A contact plan for a segment (a branch, a tier, both, or everyone with an account);
    branch roles plan for their own branch only."""
    branch = body.branch_id
    if scope_for(user.role, RelAction.CONTACT) == Scope.BRANCH:
        if branch not in (None, user.branch_id):
            raise InvalidError("branch_id: your own branch only", field="branch_id")
        branch = user.branch_id
    pid = contact_plans.create_plan(
        conn,
        name=body.name,
        branch_id=branch,
        channel=body.channel,
        purpose=body.purpose,
        cadence_days=body.cadence_days,
        starts_on=body.starts_on,
        actor=user.username,
        now=now(),
        tier=body.tier,
    )
    conn.commit()
    return {"plan_id": pid, "branch_id": branch, "tier": body.tier}


@router.get("/contact-plans")
def list_contact_plans(
    user: User = Depends(require(RelAction.VIEW)), conn: Connection = Depends(get_conn)
) -> list[dict[str, Any]]:
    rows = conn.execute(select(plans_table).order_by(plans_table.c.plan_id).limit(500))
    return [
        {k: (str(v) if k in ("starts_on", "created_at") else v) for k, v in r._mapping.items()}
        for r in rows
    ]


@router.get("/planned-contacts")
def list_planned_contacts(
    due_on: BusinessDate | None = None,
    status: Literal["open", "refused", "done"] | None = None,
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> list[dict[str, Any]]:
    """The plans' contacts due on a day, in the caller's scope; refused ones name the rules."""
    c = planned_contacts.c
    q = (
        select(planned_contacts)
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(scope_clause(user, RelAction.VIEW))
        .order_by(c.due_on.desc(), c.contact_id)
        .limit(2000)
    )
    if due_on is not None:
        q = q.where(c.due_on == due_on)
    if status is not None:
        q = q.where(c.status == status)
    return [
        {
            "contact_id": r.contact_id,
            "plan_id": r.plan_id,
            "customer_id": r.customer_id,
            "due_on": str(r.due_on)[:10],
            "channel": r.channel,
            "purpose": r.purpose,
            "status": r.status,
            "refused_rules": r.refused_rules,
            "outcome": r.outcome,
        }
        for r in conn.execute(q)
    ]


class ContactDoneIn(BaseModel):
    outcome: Literal["reached", "not_reached", "refused_further_contact"]


@router.post("/planned-contacts/{contact_id}/complete")
def complete_contact(
    body: ContactDoneIn,
    contact_id: int = Path(ge=1, le=2**31 - 1, description="the contact id"),
    user: User = Depends(require(RelAction.CONTACT)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    row_in_scope(conn, user, planned_contacts, "contact_id", contact_id, RelAction.CONTACT)
    contact_plans.complete(conn, contact_id, body.outcome, actor=user.username, now=now())
    conn.commit()
    return {"contact_id": contact_id, "status": "done"}


@router.get("/survey-invitations")
def list_survey_invitations(
    invited_on: BusinessDate | None = None,
    status: Literal["invited", "refused"] | None = None,
    answered: bool | None = None,
    user: User = Depends(require(RelAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> list[dict[str, Any]]:
    """Survey invitations (newest first) in the caller's scope; refused ones name the rules;
    each says whether a response answers it (`answered`, `response_id`)."""
    i, r = survey_invitations.c, survey_responses.c
    q = (
        select(survey_invitations, r.response_id)
        .join(customers, customers.c.customer_id == i.customer_id)
        .outerjoin(survey_responses, r.invitation_id == i.invitation_id)
        .where(scope_clause(user, RelAction.VIEW))
        .order_by(i.invited_on.desc(), i.invitation_id)
        .limit(2000)
    )
    if invited_on is not None:
        q = q.where(i.invited_on == invited_on)
    if status is not None:
        q = q.where(i.status == status)
    if answered is not None:
        q = q.where(r.response_id.is_not(None) if answered else r.response_id.is_(None))
    return [
        {
            "invitation_id": row.invitation_id,
            "customer_id": row.customer_id,
            "event": row.event,
            "invited_on": str(row.invited_on)[:10],
            "channel": row.channel,
            "status": row.status,
            "refused_rules": row.refused_rules,
            "answered": row.response_id is not None,
            "response_id": row.response_id,
        }
        for row in conn.execute(q)
    ]
