"""The case page's read model (`/cases/{customer}`): the customer's case (with rating,
strategy and collector), accounts at the latest stored date, promises, agreements (with the
schedule approving would fix, and who may decide), legal proposals and matters, and the
timeline of everything that happened in the customer's collections.

One customer, read fresh: a few indexed queries each (no per-row loops over other customers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from postloan.access.permissions import can
from postloan.access.scope import customer_in_scope, visible_customer
from postloan.access.tables import users
from postloan.access.users import User
from postloan.collections import agreements as agreement_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreements
from postloan.collections.allocation import collector_of
from postloan.collections.casework_tables import case_ratings, reassignments
from postloan.collections.legal_tables import legal_matters, legal_proposals, legal_stages
from postloan.collections.strategies import current_strategy
from postloan.collections.tables import (
    case_stages,
    cases,
    contact_refusals,
    contacts,
    promises,
    tasks,
)
from postloan.collections.web.forms import local_time, zone_of
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status
from postloan.store.values import as_date


def _day(value: Any) -> date | None:
    return as_date(value)


@dataclass
class TimelineItem:
    when: datetime  # for ordering (local time; date-only events at the day's start)
    timed: bool  # False: only the date is known (business-date events)
    kind: str
    data: dict[str, Any]

    @property
    def shown(self) -> str:
        return f"{self.when:%Y-%m-%d %H:%M}" if self.timed else f"{self.when:%Y-%m-%d}"


@dataclass
class CaseView:
    customer: dict[str, Any]
    as_of: date | None
    case: dict[str, Any] | None
    rating: dict[str, Any] | None
    strategy: dict[str, Any] | None
    collector: str | None
    accounts: list[dict[str, Any]]
    timeline: list[TimelineItem]
    promises: list[dict[str, Any]]
    agreements: list[dict[str, Any]]
    legal: list[dict[str, Any]]
    eligible_loans: list[dict[str, Any]] = field(default_factory=list)
    may_record: bool = False
    may_propose: bool = False
    may_approve: bool = False


def _at_day(value: Any, zone: ZoneInfo) -> datetime:
    day = as_date(value)
    assert day is not None
    return datetime.combine(day, time.min, tzinfo=zone)


def case_view(conn: Connection, user: User, customer_id: str, policy: Policy) -> CaseView:
    """The customer's case page; `NotFoundError` when the customer is unknown or outside the
    user's `case.view` scope (not told apart)."""
    row = customer_in_scope(conn, user, customer_id, CollectionsAction.CASE_VIEW)
    zone = zone_of(policy)
    as_of = latest_stored_date(conn)
    customer = {"customer_id": row.customer_id, "name": row.name, "branch_id": row.branch_id}
    case_rows = conn.execute(
        select(cases).where(cases.c.customer_id == customer_id)
        .order_by(cases.c.opened_on.desc(), cases.c.case_id.desc())
    ).all()  # fmt: skip
    open_now = [r for r in case_rows if r.status == "open"]
    current: Any = open_now[0] if open_now else (case_rows[0] if case_rows else None)
    case = dict(current._mapping) if current is not None else None
    rating = strategy = None
    if current is not None:
        rated = conn.execute(
            select(case_ratings).where(case_ratings.c.customer_id == customer_id,
                                       case_ratings.c.case_opened_on == current.opened_on)
            .order_by(case_ratings.c.rated_on.desc()).limit(1)
        ).first()  # fmt: skip
        rating = dict(rated._mapping) if rated is not None else None
        plan = current_strategy()
        chosen = conn.execute(
            select(plan).where(plan.c.customer_id == customer_id,
                               plan.c.case_opened_on == current.opened_on)
        ).first()  # fmt: skip
        strategy = dict(chosen._mapping) if chosen is not None else None
    holder = collector_of(conn, customer_id)
    collector = None
    if holder is not None:
        collector = conn.execute(select(users.c.username).where(users.c.user_id == holder)).scalar()
    accounts = accounts_of(conn, customer_id, as_of)
    promise_rows = [
        dict(r._mapping)
        for r in conn.execute(
            select(promises).where(promises.c.customer_id == customer_id)
            .order_by(promises.c.made_on.desc(), promises.c.promise_id.desc())
        )
    ]  # fmt: skip
    agreement_rows = _agreements(conn, user, customer_id, policy)
    legal_rows = _legal_of(conn, customer_id)
    view = CaseView(
        customer=customer, as_of=as_of, case=case, rating=rating, strategy=strategy,
        collector=collector, accounts=accounts,
        timeline=_timeline(conn, customer_id, list(case_rows), promise_rows, agreement_rows, zone),
        promises=promise_rows, agreements=agreement_rows, legal=legal_rows,
    )  # fmt: skip
    view.may_record = (
        visible_customer(conn, user, customer_id, CollectionsAction.CONTACT_RECORD) is not None
    )
    view.may_propose = (
        visible_customer(conn, user, customer_id, CollectionsAction.AGREEMENT_PROPOSE) is not None
    )
    view.may_approve = (
        visible_customer(conn, user, customer_id, CollectionsAction.AGREEMENT_APPROVE) is not None
    )
    live = {a["account_id"] for a in agreement_rows if a["status"] == "proposed"}
    least = policy.collections.agreement_min_dpd
    view.eligible_loans = [
        a for a in accounts
        if a["account_type"] == "loan" and a["dpd"] >= least and a["account_id"] not in live
    ]  # fmt: skip
    return view


def accounts_of(conn: Connection, customer_id: str, as_of: date | None) -> list[dict[str, Any]]:
    if as_of is None:
        return []
    s = account_status
    rows = conn.execute(
        select(s.c.account_id, s.c.account_type, s.c.dpd, s.c.bucket, s.c.overdue_amount,
               s.c.outstanding_principal, s.c.risk_class, s.c.restructured)
        .where(s.c.customer_id == customer_id, s.c.as_of == as_of)
        .order_by(s.c.account_id)
    ).all()  # fmt: skip
    return [dict(r._mapping) for r in rows]


def _agreements(
    conn: Connection, user: User, customer_id: str, policy: Policy
) -> list[dict[str, Any]]:
    """The customer's agreements, newest first; a proposed one with the schedule approving it
    now would fix, and whether this user may decide it (never the proposer: maker-checker)."""
    rows = conn.execute(
        select(agreements).where(agreements.c.customer_id == customer_id)
        .order_by(agreements.c.agreement_id.desc())
    ).all()  # fmt: skip
    out = []
    checker = can(user.role, CollectionsAction.AGREEMENT_APPROVE) and user.active
    for r in rows:
        item = dict(r._mapping)
        agreed = [i for i in agreement_service.schedule_of(conn, policy, r) if i.agreed]
        item["agreed"] = agreed
        item["decidable"] = checker and r.status == "proposed" and r.proposed_by != user.username
        item["withdrawable"] = r.status == "proposed" and r.proposed_by == user.username
        out.append(item)
    return out


def _legal_of(conn: Connection, customer_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(legal_proposals, legal_matters.c.matter_id,
               legal_matters.c.stage.label("matter_stage"),
               legal_matters.c.status.label("matter_status"))
        .outerjoin(legal_matters, legal_matters.c.proposal_id == legal_proposals.c.proposal_id)
        .where(legal_proposals.c.customer_id == customer_id)
        .order_by(legal_proposals.c.proposed_on.desc())
    ).all()  # fmt: skip
    return [dict(r._mapping) for r in rows]


def _timeline(
    conn: Connection, customer_id: str, case_rows: list[Any], promise_rows: list[dict[str, Any]],
    agreement_rows: list[dict[str, Any]], zone: ZoneInfo,
) -> list[TimelineItem]:  # fmt: skip
    """Everything that happened in the customer's collections, newest first: cases opening and
    closing, stage changes, tasks, contacts (and refused attempts), promises and their outcome,
    agreements, legal steps and (re)assignments."""
    items: list[TimelineItem] = []

    def on_day(value: Any, kind: str, **data: Any) -> None:
        items.append(TimelineItem(_at_day(value, zone), False, kind, data))

    def at_time(value: Any, kind: str, **data: Any) -> None:
        moment = local_time(value, zone)
        if moment is not None:
            items.append(TimelineItem(moment, True, kind, data))

    by_id = {r.case_id: r for r in case_rows}
    first_stage: dict[int, str] = {}
    if by_id:
        for s in conn.execute(
            select(case_stages).where(case_stages.c.case_id.in_(list(by_id)))
        ).all():
            if _day(s.entered_on) == _day(by_id[s.case_id].opened_on):
                first_stage[s.case_id] = s.stage  # shown with the case's opening
            else:
                on_day(s.entered_on, "stage", stage=s.stage)
    for r in case_rows:
        on_day(r.opened_on, "case_opened", dpd=r.opened_max_dpd, amount=r.opened_overdue_amount,
               stage=first_stage.get(r.case_id, r.stage))  # fmt: skip
        if r.closed_on is not None:
            on_day(r.closed_on, "case_closed", reason=r.close_reason or "")
    for t in conn.execute(select(tasks).where(tasks.c.customer_id == customer_id)).all():
        on_day(t.created_on, "task", task=t.kind, account_id=t.account_id, due_by=_day(t.due_by))
        if t.done_at is not None:
            at_time(t.done_at, "task_done", task=t.kind, by=t.done_by, channel=t.channel)
    for c in conn.execute(select(contacts).where(contacts.c.customer_id == customer_id)).all():
        at_time(c.at, "contact", channel=c.channel, outcome=c.outcome, by=c.recorded_by,
                content=c.content, response=c.response, promise_amount=c.promise_amount,
                promise_date=_day(c.promise_date), account_id=c.account_id)  # fmt: skip
    for x in conn.execute(
        select(contact_refusals).where(contact_refusals.c.customer_id == customer_id)
    ).all():
        at_time(x.at, "refused", channel=x.channel, by=x.recorded_by,
                rules=x.rules.split(","), detail=x.detail)  # fmt: skip
    for promise in promise_rows:
        p = promise
        if p["status"] != "pending" and p["decided_on"] is not None:
            on_day(p["decided_on"], "promise", status=p["status"], amount=p["amount"],
                   due_on=_day(p["due_on"]))  # fmt: skip
    for a in agreement_rows:
        at_time(a["proposed_at"], "agreement_proposed", agreement_id=a["agreement_id"],
                kind_=a["kind"], account_id=a["account_id"], by=a["proposed_by"])  # fmt: skip
        if a["decided_at"] is not None:
            at_time(a["decided_at"], "agreement_decided", agreement_id=a["agreement_id"],
                    status=a["status"], by=a["decided_by"], note=a["decision_note"])  # fmt: skip
    for q in conn.execute(
        select(legal_proposals).where(legal_proposals.c.customer_id == customer_id)
    ).all():
        on_day(q.proposed_on, "legal_proposed", dpd=q.max_dpd, failed=q.failed_contacts)
        if q.decided_at is not None:
            at_time(q.decided_at, "legal_decided", status=q.status, by=q.decided_by)
    for s in conn.execute(
        select(legal_stages, legal_matters.c.matter_id)
        .join(legal_matters, legal_matters.c.matter_id == legal_stages.c.matter_id)
        .where(legal_matters.c.customer_id == customer_id)
    ).all():  # fmt: skip
        on_day(s.entered_on, "legal_stage", stage=s.stage, matter_id=s.matter_id,
               reference=s.reference)  # fmt: skip
    for m in conn.execute(
        select(legal_matters).where(legal_matters.c.customer_id == customer_id,
                                    legal_matters.c.closed_on.is_not(None))
    ).all():  # fmt: skip
        on_day(m.closed_on, "legal_closed", matter_id=m.matter_id, reason=m.close_reason)
    source, target = aliased(users), aliased(users)
    for g in conn.execute(
        select(reassignments, source.c.username.label("source"), target.c.username.label("target"))
        .outerjoin(source, source.c.user_id == reassignments.c.from_user_id)
        .outerjoin(target, target.c.user_id == reassignments.c.to_user_id)
        .where(reassignments.c.customer_id == customer_id)
    ).all():  # fmt: skip
        at_time(g.at, "assignment", how=g.kind, source=g.source, target=g.target, by=g.by,
                reason=g.reason)  # fmt: skip
    items.sort(key=lambda i: (i.when, i.timed), reverse=True)
    return items
