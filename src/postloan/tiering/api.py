"""Tiering's API routes (`/api/tiering/...`): a customer's tier card with its history, the tier
distribution and RFM segments on a date, the transition matrix between two dates, the review
per tier and month (and the review page's figures as an Excel workbook), and the tiers'
strategies.

Every row is filtered through the caller's data scope for the route's action (branch roles see
their branch); a customer outside it answers 404 like one that does not exist. Figures are
withheld from roles without `account.view`; the phone is masked as everywhere. All routes read
(the workbook's download is audited).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from postloan.access import audit
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL
from postloan.inputs import BusinessDate
from postloan.tiering import read, report
from postloan.tiering.actions import TieringAction
from postloan.tiering.candidate import FIELDS, candidate_of, in_force
from postloan.tiering.card import amounts_for, card, shows_accounts
from postloan.tiering.review_export import ReviewFigures, workbook_bytes

router = APIRouter(prefix="/api/tiering", tags=["tiering"], responses=ERROR_RESPONSES)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CustomerId = Path(min_length=1, max_length=64, pattern=NO_NUL, description="the customer id")
DEFAULT_REVIEW_DAYS = 365


class TierCard(BaseModel):
    customer: dict[str, Any]
    as_of: str | None = Field(description="the latest tiered date")
    current: dict[str, Any] | None = Field(
        description="on as_of: purpose class, credit status, capacity, the qualified and the "
        "held tier, hysteresis streak, worst five-category class, open case, RFM scores and "
        "segment, ABC value class (abc), need level (need: low/medium/high) and its signals "
        "(need_signals: comma-separated renewal, credit_line; null on rows tiered before "
        "they were stored); figures null without account access"
    )
    strategy: dict[str, Any] | None = Field(description="the held tier's strategy (policy)")
    history: list[dict[str, Any]] = Field(description="tier per tiered date, newest first")
    shows_accounts: bool


class Distribution(BaseModel):
    as_of: str | None
    customers: int
    tiers: list[dict[str, Any]] = Field(description="per tier: customers, balance (minor units)")
    segments: list[dict[str, Any]] = Field(description="per RFM segment: customers, mean scores")


class Transitions(BaseModel):
    from_: str = Field(alias="from")
    to: str
    cells: list[dict[str, Any]] = Field(
        description="from_tier, to_tier, customers ('none': not tiered on that date)"
    )
    moved: int
    stability: float | None = Field(
        description="share of customers tiered on both dates who kept their tier"
    )


class Review(BaseModel):
    date_from: str
    date_to: str
    rows: list[dict[str, Any]] = Field(description="per month and tier (docs/tiering.md)")


@router.get("/customers/{customer_id}", response_model=TierCard)
def tier_card(
    request: Request,
    customer_id: str = CustomerId,
    user: User = Depends(require(TieringAction.VIEW)),
    conn: Connection = Depends(get_conn),
) -> TierCard:
    """A customer's tier card: classes, tier, RFM and the tier's strategy on the latest tiered
    date, with the history of tiers."""
    customer = visible_customer(conn, user, customer_id, TieringAction.VIEW)
    if customer is None:  # unknown and out of scope look the same
        raise NotFound(f"no customer {customer_id!r}", field="customer_id")
    return TierCard(**card(conn, user, customer, effective_policy(request)[0]))


@router.get("/distribution", response_model=Distribution)
def distribution(
    as_of: BusinessDate | None = Query(None, description="default: the latest tiered date"),
    user: User = Depends(require(TieringAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> Distribution:
    """Customers (and balance) per tier, and the RFM segments, in the caller's scope."""
    day = as_of or read.latest_date(conn)
    if day is None:
        return Distribution(as_of=None, customers=0, tiers=[], segments=[])
    found = report.distribution(conn, day, customer_scope_clause(user, TieringAction.REPORT))
    return Distribution(as_of=found["as_of"], customers=found["customers"],
                        tiers=amounts_for(user, found["tiers"]),
                        segments=amounts_for(user, found["segments"]))  # fmt: skip


@router.get("/transitions", response_model=Transitions, response_model_by_alias=True)
def transitions(
    date_from: BusinessDate | None = Query(
        None,
        alias="from",
        description="a tiered date (default: the last one at least a "
        "month before to, else the first)",
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="a later tiered date (default: the latest)"
    ),
    user: User = Depends(require(TieringAction.REPORT)),
    conn: Connection = Depends(get_conn),
) -> Transitions:
    """The tier transition matrix between two tiered dates, in the caller's scope."""
    end = date_to or read.latest_date(conn)
    start = date_from or (None if end is None else read.month_before(conn, end))
    if end is None or start is None:
        return Transitions.model_validate(
            {"from": "", "to": "", "cells": [], "moved": 0, "stability": None}
        )
    found = report.transition_matrix(conn, start, end,
                                     customer_scope_clause(user, TieringAction.REPORT))  # fmt: skip
    return Transitions.model_validate(found)


@router.get("/review", response_model=Review)
def review(
    date_from: BusinessDate | None = Query(
        None, alias="from", description="default: a year before to"
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="default: the latest tiered date"
    ),
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> Review:
    """Per month and tier: customers, NPL rate, and the next month's NPL and churn rates of the
    month's cohort (the back-test of the tiers on the stored history)."""
    end = date_to or read.latest_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or max(end - timedelta(days=DEFAULT_REVIEW_DAYS), date(1900, 1, 1))
    rows = report.review(conn, start, end, customer_scope_clause(user, TieringAction.REVIEW))
    return Review(
        date_from=start.isoformat(), date_to=end.isoformat(), rows=amounts_for(user, rows)
    )


class Rolls(BaseModel):
    date_from: str
    date_to: str
    buckets: list[str] = Field(description="the policy's DPD buckets, best first")
    rolls: list[dict[str, Any]] = Field(description="per month, tier and bucket: roll rate")
    losses: list[dict[str, Any]] = Field(description="per month and tier: loss rate")


@router.get("/rolls", response_model=Rolls)
def roll_rates(
    request: Request,
    date_from: BusinessDate | None = Query(
        None, alias="from", description="default: a year before to"
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="default: the latest tiered date"
    ),
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> Rolls:
    """Per month and tier on the stored history: roll rates per DPD bucket (the share of the
    bucket's balance in a worse bucket a month later) and the loss rate (the share reaching the
    loss class a month later)."""
    end = date_to or read.latest_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or max(end - timedelta(days=DEFAULT_REVIEW_DAYS), date(1900, 1, 1))
    found = report.roll_and_loss(conn, start, end,
                                 customer_scope_clause(user, TieringAction.REVIEW),
                                 effective_policy(request)[0])  # fmt: skip
    return Rolls(date_from=start.isoformat(), date_to=end.isoformat(), buckets=found["buckets"],
                 rolls=amounts_for(user, found["rolls"]),
                 losses=amounts_for(user, found["losses"]))  # fmt: skip


@router.get(
    "/review.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the workbook"}},
)
def review_xlsx(
    request: Request,
    date_from: BusinessDate | None = Query(
        None, alias="from", description="default: a year before to"
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="default: the latest tiered date"
    ),
    whatif: bool = Query(
        False,
        description="add the what-if of the review page's form: its cut-offs as query "
        "parameters of the same names (" + ", ".join(FIELDS) + "); a missing one keeps the "
        "value in force",
    ),
    lang: Literal["zh-CN", "en"] = Query("zh-CN", description="the column names' language"),
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> Response:
    """The review page's figures as an Excel workbook (audited): the back-test per month and
    tier, the roll rates, the loss rates and, with `whatif`, the candidate cut-offs replayed
    beside the policy in force — one sheet per table, the figures of `GET /review`, `GET
    /rolls` and `POST /whatif` (amounts in yuan; left out without account access)."""
    policy = effective_policy(request)[0]
    end = date_to or read.latest_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or max(end - timedelta(days=DEFAULT_REVIEW_DAYS), date(1900, 1, 1))
    scope = customer_scope_clause(user, TieringAction.REVIEW)
    found, changed = None, {}
    if whatif:  # the form's typed values, checked as the page checks them (422 naming one)
        typed = {n: request.query_params.get(n) or "" for n in FIELDS}
        candidate, values = candidate_of(policy, typed)
        current = in_force(policy)
        changed = {n: (current[n], values[n]) for n in FIELDS if values[n] != current[n]}
        found = report.what_if(conn, start, end, scope, candidate)
        found = {**found, "current": amounts_for(user, found["current"]),
                 "candidate": amounts_for(user, found["candidate"])}  # fmt: skip
    rows = report.review(conn, start, end, scope)
    rolls = report.roll_and_loss(conn, start, end, scope, policy)
    body = workbook_bytes(ReviewFigures(
        date_from=start.isoformat(), date_to=end.isoformat(), policy_version=policy.version,
        shows_accounts=shows_accounts(user), backtest=amounts_for(user, rows),
        rolls=amounts_for(user, rolls["rolls"]), losses=amounts_for(user, rolls["losses"]),
        what_if=found, changed=changed, lang=lang))  # fmt: skip
    audit.record(conn, actor=user.username, action="export", target_type="tiering_review",
                 target_id=f"{start}..{end}",
                 detail={"format": "xlsx", "policy_version": policy.version,
                         "whatif": None if found is None else found["version"]},
                 now=now())  # fmt: skip
    conn.commit()
    name = f"tiering-review-{start}-{end}.xlsx"
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


class Tree(BaseModel):
    from_: str = Field(alias="from")
    to: str
    samples: int = Field(description="customer-months learnt from")
    features: list[str]
    rules: list[dict[str, Any]] = Field(description="the leaves: rule text, label, samples")
    accuracy: float | None = Field(description="share of the samples the rules label right")


@router.get("/tree", response_model=Tree, response_model_by_alias=True)
def tree(
    date_from: BusinessDate | None = Query(
        None, alias="from", description="default: a year before to"
    ),
    date_to: BusinessDate | None = Query(
        None, alias="to", description="default: the latest tiered date"
    ),
    max_depth: int = Query(3, ge=1, le=6),
    user: User = Depends(require(TieringAction.REVIEW)),
    conn: Connection = Depends(get_conn),
) -> Tree:
    """A decision tree fitted on the stored history (next month's NPL from the classes, DPD,
    times late and RFM scores), its leaves as readable rules — a candidate for risk management's
    review; nothing is adopted."""
    end = date_to or read.latest_date(conn) or date_from or date(1970, 1, 1)
    start = date_from or max(end - timedelta(days=DEFAULT_REVIEW_DAYS), date(1900, 1, 1))
    found = report.tree(conn, start, end, customer_scope_clause(user, TieringAction.REVIEW),
                        max_depth)  # fmt: skip
    return Tree.model_validate(found)


@router.get("/strategies")
def strategies(
    request: Request, user: User = Depends(require(TieringAction.REPORT))
) -> dict[str, Any]:
    """Each tier's strategy (monitoring, review cycle, contact plan, offers) from the policy."""
    return report.strategies(effective_policy(request)[0])
