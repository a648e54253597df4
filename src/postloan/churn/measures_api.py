"""Churn's API routes for measures (CH-6), offers and their evaluation (CH-7), mounted under
`/api/churn/` with the rest of churn's routes (`churn.api`).

- `GET /api/churn/measures`: the measures (hand-overs, follow-ups, callbacks) in the caller's
  scope, filtered by status, kind, grade or customer; refusals name the contact-policy rules.
- `POST /api/churn/followups/{id}/complete` (`churn.followup`) and
  `POST /api/churn/callbacks/{id}/complete` (`churn.callback`): record a win-back task's
  outcome. The contact is checked again as of now: a refusal answers 409 naming the rules (and
  is audited); a done task is audited.
- `GET /api/churn/offers`; `POST /api/churn/offers/{id}/accept|decline` (`churn.followup`):
  the officer's decision with a reason, audited.
- `GET /api/churn/evaluation`: per measure kind, evaluated episodes per arm, outcome rates,
  the difference treated − holdout with its Newcombe interval, and keep / adjust.
A measure or offer outside the caller's scope answers 404 like a missing one.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL, iso
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.evaluation import evaluate
from postloan.churn.measures import OUTCOMES, complete_measure, decide_offer
from postloan.churn.rules.measures import CALLBACK, FOLLOWUP
from postloan.churn.tables import churn_measures, churn_offers
from postloan.inputs import BusinessDate
from postloan.store.schema import customers

router = APIRouter(prefix="/api/churn", tags=["churn"], responses=ERROR_RESPONSES)


def _row_id() -> Any:
    """A row id path parameter. One `Path` object per parameter: FastAPI records the name of
    the parameter it is first used for on the object, so a shared one made the offer routes
    ask for a `measure_id`."""
    return Path(ge=1, le=2**31 - 1)


Kind = Literal["recovery_handover", "winback_followup", "winback_callback"]
Status = Literal["open", "refused", "done"]
Outcome = Literal["reached", "not_reached", "interested", "declined", "reapplied", "no_answer"]
assert set(OUTCOMES) == set(Outcome.__args__)  # type: ignore[attr-defined]


class Measure(BaseModel):
    measure_id: int
    customer_id: str
    episode_entered_on: str
    grade: int
    kind: str
    channel: str
    created_on: str
    branch_id: str | None
    status: str = Field(description="open | refused | done")
    refused_rules: list[str] = Field(description="contact-policy rules broken (refused)")
    refusal_detail: str | None
    handover_id: int | None = Field(description="collections' hand-over (level 1)")
    outcome: str | None
    done_by: str | None
    done_at: str | None


class MeasurePage(BaseModel):
    total: int
    items: list[Measure]


def _measure(r: Any) -> Measure:
    return Measure(
        measure_id=r.measure_id, customer_id=r.customer_id,
        episode_entered_on=iso(r.entered_on) or "", grade=r.grade, kind=r.kind,
        channel=r.channel, created_on=iso(r.created_on) or "", branch_id=r.branch_id,
        status=r.status, refused_rules=(r.refused_rules or "").split(",") if r.refused_rules
        else [], refusal_detail=r.refusal_detail, handover_id=r.handover_id, outcome=r.outcome,
        done_by=r.done_by, done_at=r.done_at.isoformat() if r.done_at else None,
    )  # fmt: skip


def _in_scope(user: User, action: str) -> Any:
    return churn_measures.c.customer_id.in_(
        select(customers.c.customer_id).where(customer_scope_clause(user, action))
    )


@router.get("/measures", response_model=MeasurePage)
def measures(
    status: Status | None = None,
    kind: Kind | None = None,
    grade: int | None = Query(None, ge=1, le=3),
    customer_id: str | None = Query(None, min_length=1, max_length=64, pattern=NO_NUL),
    limit: int = Query(200, ge=1, le=1000),
    user: User = Depends(require(ChurnAction.MEASURES)),
    conn: Connection = Depends(get_conn),
) -> MeasurePage:
    """Measures per grade in the caller's scope, newest first."""
    m = churn_measures.c
    q = select(churn_measures).where(_in_scope(user, ChurnAction.MEASURES))
    for col, value in ((m.status, status), (m.kind, kind), (m.grade, grade),
                       (m.customer_id, customer_id)):  # fmt: skip
        if value is not None:
            q = q.where(col == value)
    rows = conn.execute(q.order_by(m.created_on.desc(), m.measure_id.desc())).all()
    return MeasurePage(total=len(rows), items=[_measure(r) for r in rows[:limit]])


class CompleteIn(BaseModel):
    outcome: Outcome
    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


def _owned(conn: Connection, user: User, measure_id: int, kind: str, action: str) -> Any:
    row = conn.execute(
        select(churn_measures).where(
            churn_measures.c.measure_id == measure_id, churn_measures.c.kind == kind
        )
    ).first()
    if row is None or visible_customer(conn, user, row.customer_id, action) is None:
        raise NotFound(f"no {kind} {measure_id}", field="measure_id")
    return row


def _complete(request: Request, conn: Connection, user: User, measure_id: int, kind: str,
              action: str, body: CompleteIn) -> Measure:  # fmt: skip
    _owned(conn, user, measure_id, kind, action)
    try:
        complete_measure(conn, measure_id, body.outcome, body.note, user=user.username,
                         now=now(), policy=effective_policy(request)[0])  # fmt: skip
    except Exception:
        conn.commit()  # the refusal's audit entry stays
        raise
    conn.commit()
    row = conn.execute(select(churn_measures).where(churn_measures.c.measure_id == measure_id))
    return _measure(row.one())


@router.post("/followups/{measure_id}/complete", response_model=Measure)
def complete_followup(
    request: Request, body: CompleteIn, measure_id: int = _row_id(),
    user: User = Depends(require(ChurnAction.FOLLOWUP)), conn: Connection = Depends(get_conn),
) -> Measure:  # fmt: skip
    """Record a level-2 follow-up's outcome (409 naming the rules if the contact is refused)."""
    return _complete(request, conn, user, measure_id, FOLLOWUP, ChurnAction.FOLLOWUP, body)


@router.post("/callbacks/{measure_id}/complete", response_model=Measure)
def complete_callback(
    request: Request, body: CompleteIn, measure_id: int = _row_id(),
    user: User = Depends(require(ChurnAction.CALLBACK)), conn: Connection = Depends(get_conn),
) -> Measure:  # fmt: skip
    """Record a level-3 callback / SMS outcome (409 naming the rules if refused)."""
    return _complete(request, conn, user, measure_id, CALLBACK, ChurnAction.CALLBACK, body)


class Offer(BaseModel):
    offer_id: int
    measure_id: int
    customer_id: str
    kind: str = Field(description="rate_discount | term_extension | limit_increase")
    terms: dict[str, Any]
    basis: dict[str, Any] = Field(description="the policy rule, grade and evidence")
    status: str = Field(description="proposed | accepted | declined")
    decided_by: str | None
    note: str | None


def _offers(conn: Connection, user: User, action: str, offer_id: int | None = None) -> list[Offer]:
    o = churn_offers.c
    q = (select(churn_offers, churn_measures.c.customer_id)
         .select_from(churn_offers.join(churn_measures,
                                        churn_measures.c.measure_id == o.measure_id))
         .where(_in_scope(user, action)))  # fmt: skip
    if offer_id is not None:
        q = q.where(o.offer_id == offer_id)
    return [Offer(offer_id=r.offer_id, measure_id=r.measure_id, customer_id=r.customer_id,
                  kind=r.kind, terms=json.loads(r.terms), basis=json.loads(r.basis),
                  status=r.status, decided_by=r.decided_by, note=r.note)
            for r in conn.execute(q.order_by(o.offer_id))]  # fmt: skip


@router.get("/offers", response_model=list[Offer])
def offers(
    user: User = Depends(require(ChurnAction.MEASURES)), conn: Connection = Depends(get_conn)
) -> list[Offer]:
    """Win-back offers (level 2) in the caller's scope, with their basis."""
    return _offers(conn, user, ChurnAction.MEASURES)


class DecisionIn(BaseModel):
    note: str = Field(
        min_length=1,
        max_length=2000,
        pattern=NO_NUL,
        description="why: what the customer said, what was agreed",
    )


def _decide(conn: Connection, user: User, offer_id: int, accept: bool, note: str) -> Offer:
    if not _offers(conn, user, ChurnAction.FOLLOWUP, offer_id):
        raise NotFound(f"no offer {offer_id}", field="offer_id")
    decide_offer(conn, offer_id, accept, note, user=user.username, now=now())
    conn.commit()
    return _offers(conn, user, ChurnAction.FOLLOWUP, offer_id)[0]


@router.post("/offers/{offer_id}/accept", response_model=Offer)
def accept_offer(
    body: DecisionIn, offer_id: int = _row_id(),
    user: User = Depends(require(ChurnAction.FOLLOWUP)), conn: Connection = Depends(get_conn),
) -> Offer:  # fmt: skip
    """The customer took the offer (audited)."""
    return _decide(conn, user, offer_id, True, body.note)


@router.post("/offers/{offer_id}/decline", response_model=Offer)
def decline_offer(
    body: DecisionIn, offer_id: int = _row_id(),
    user: User = Depends(require(ChurnAction.FOLLOWUP)), conn: Connection = Depends(get_conn),
) -> Offer:  # fmt: skip
    """The offer is declined, with the reason (audited)."""
    return _decide(conn, user, offer_id, False, body.note)


class Evaluation(BaseModel):
    as_of: str | None
    method: str
    items: list[dict[str, Any]]


@router.get("/evaluation", response_model=Evaluation)
def evaluation(
    request: Request,
    as_of: BusinessDate | None = Query(None, description="default: the latest churn date"),
    user: User = Depends(require(ChurnAction.EVALUATE)),
    conn: Connection = Depends(get_conn),
) -> Evaluation:
    """Per measure kind (CH-7): evaluated episodes per arm (treated / random holdout), outcome
    rates, the difference with its interval, keep or adjust."""
    day: date | None = as_of or read.latest_churn_date(conn)
    policy = effective_policy(request)[0]
    items = (
        []
        if day is None
        else evaluate(conn, day, policy, customer_scope_clause(user, ChurnAction.EVALUATE))
    )
    return Evaluation(
        as_of=None if day is None else day.isoformat(),
        method=f"difference of proportions treated - holdout, Newcombe hybrid score interval "
        f"({policy.churn.measures.confidence:.0%}); keep when the primary outcome's lower "
        f"bound > 0 and each arm has >= {policy.churn.measures.min_arm_size} episodes",
        items=items,
    )
