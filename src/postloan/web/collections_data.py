"""Read models for the collections workbench pages (`web.collections_routes`).

Every query is filtered through the caller's data scope for the page's action
(`customer_scope_clause` / `visible_customer`), like the API routes they mirror: the task queue
(`api.routes.collections`, whose query and ordering are reused), cases and allocation
(`api.routes.casework`), agreements and legal matters. The services in `postloan.collections`
do all the writing; this module only reads and shapes rows for the templates.

Lists are one or two indexed queries each (no per-customer loops): the queue and the allocation
table are paged; the case page reads one customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from postloan.access.permissions import Action, Scope, can, scope_for
from postloan.access.roles import Role
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.access.tables import users
from postloan.access.users import User
from postloan.api.routes.casework import _holders, _latest_rating
from postloan.api.routes.collections import _task, _with_case
from postloan.collections import agreements as agreement_service
from postloan.collections import legal_matters as matter_service
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreements
from postloan.collections.allocation import collector_of, loads
from postloan.collections.casework_tables import case_ratings, reassignments
from postloan.collections.contacts import CHANNELS, OUTCOMES
from postloan.collections.kpis import REDUCTION_PARTS, CollectionKpis
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
from postloan.inputs import InputError, check_instant, parse_amount_text, parse_business_date
from postloan.policy import Policy
from postloan.store.schema import account_status, customers
from postloan.store.values import as_date, as_utc
from postloan.web.charts import PALETTE
from postloan.web.i18n import bucket_label, translate

QUEUE_LIMIT = 100
ALLOCATION_PAGE = 100
LOG_LIMIT = 30
MATTERS_PAGE = 20


def zone_of(policy: Policy) -> ZoneInfo:
    """The default jurisdiction's zone: contact times are entered and shown in it."""
    return ZoneInfo(policy.contact.rules_for(None).timezone)


def today(policy: Policy, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone_of(policy)).date()


def latest_day(conn: Connection) -> date | None:
    return as_date(conn.execute(select(func.max(account_status.c.as_of))).scalar())


def _day(value: Any) -> date | None:
    return as_date(value)


# --- my queue ------------------------------------------------------------------------------------


@dataclass
class Queue:
    as_of: date | None
    total: int
    items: list[Any]  # api.routes.collections.Task


def queue(conn: Connection, user: User, policy: Policy, lang: str) -> Queue:
    """Today's open tasks of the customers in the user's `case.view` scope: every open task
    whose window has begun by the latest business date (late ones included — still owed),
    the highest case priority first, then the earliest due (the API's queue order)."""
    as_of = latest_day(conn)
    if as_of is None:
        return Queue(None, 0, [])
    where: list[Any] = [
        tasks.c.status == "open",
        tasks.c.window_start <= as_of,
        tasks.c.customer_id.in_(
            select(customers.c.customer_id).where(
                customer_scope_clause(user, CollectionsAction.CASE_VIEW)
            )
        ),
    ]
    total = conn.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one()
    rows = conn.execute(_with_case(where).limit(QUEUE_LIMIT)).all()
    return Queue(as_of, int(total), [_task(r, policy, lang) for r in rows])


def task_in_scope(conn: Connection, user: User, task_id: int, action: Action | str) -> Any:
    """The task when its customer lies in the user's scope for `action`, else None."""
    row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
    if row is None or visible_customer(conn, user, row.customer_id, action) is None:
        return None
    return row


def one_task(conn: Connection, task_id: int, policy: Policy, lang: str) -> Any:
    return _task(conn.execute(_with_case([tasks.c.task_id == task_id])).one(), policy, lang)


# --- the case page ------------------------------------------------------------------------------


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


def _local(value: Any, zone: ZoneInfo) -> datetime | None:
    moment = as_utc(value)
    return None if moment is None else moment.astimezone(zone)


def _at_day(value: Any, zone: ZoneInfo) -> datetime:
    day = as_date(value)
    assert day is not None
    return datetime.combine(day, time.min, tzinfo=zone)


def case_view(conn: Connection, user: User, customer_id: str, policy: Policy) -> CaseView | None:
    """The customer's case page, or None when the customer is unknown or outside the user's
    `case.view` scope (not told apart)."""
    row = visible_customer(conn, user, customer_id, CollectionsAction.CASE_VIEW)
    if row is None:
        return None
    zone = zone_of(policy)
    as_of = latest_day(conn)
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
    accounts = _accounts(conn, customer_id, as_of)
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


def _accounts(conn: Connection, customer_id: str, as_of: date | None) -> list[dict[str, Any]]:
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
        moment = _local(value, zone)
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


# --- the contact form ----------------------------------------------------------------------------


@dataclass
class ContactForm:
    """The contact form's values as typed (re-shown on a refusal) and what they parse to."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None
    staff: tuple[str, ...] = ()
    promise: tuple[int, date] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


CONTACT_FIELDS = ("channel", "at", "outcome", "account_id", "staff", "content", "response",
                  "promise_amount", "promise_date")  # fmt: skip
MAX_TEXT = 4000


def blank_contact_form(policy: Policy, now: datetime | None = None) -> ContactForm:
    local = (now or datetime.now(UTC)).astimezone(zone_of(policy))
    return ContactForm(values={"channel": "phone", "at": f"{local:%Y-%m-%dT%H:%M}",
                               "outcome": "connected"})  # fmt: skip


def parse_contact_form(
    form: Any, user: User, customer_id: str, accounts: list[str], policy: Policy
) -> ContactForm:
    """Check the typed fields (as the API's ContactIn does); each error names its field."""
    values = {k: str(form.get(k) or "").replace("\x00", "").strip() for k in CONTACT_FIELDS}
    parsed = ContactForm(values=values)
    errors = parsed.errors
    if values["channel"] not in CHANNELS:
        errors["channel"] = f"channel: one of {', '.join(CHANNELS)}"
    if values["outcome"] not in OUTCOMES:
        errors["outcome"] = f"outcome: one of {', '.join(OUTCOMES)}"
    try:
        naive = datetime.strptime(values["at"], "%Y-%m-%dT%H:%M")
        parsed.at = check_instant(naive.replace(tzinfo=zone_of(policy)), "at")
    except InputError as exc:
        errors["at"] = str(exc)
    except ValueError:
        errors["at"] = "at: a date and time, YYYY-MM-DDTHH:MM"
    if values["account_id"] and values["account_id"] not in accounts:
        errors["account_id"] = f"account_id: {values['account_id']!r} is not one of the customer's"
    for name in ("content", "response"):
        if len(values[name]) > MAX_TEXT:
            errors[name] = f"{name}: at most {MAX_TEXT} characters"
    others = [s.strip() for s in values["staff"].replace("，", ",").split(",") if s.strip()]
    parsed.staff = tuple(sorted({user.username, *others}))
    if len(parsed.staff) > 11:
        errors["staff"] = "staff: at most 10 others"
    amount, due = values["promise_amount"], values["promise_date"]
    if values["outcome"] == "promise_to_pay":
        if not amount:
            errors["promise_amount"] = "promise_amount: a promise to pay needs an amount"
        if not due:
            errors["promise_date"] = "promise_date: a promise to pay needs a date"
        if amount and due:
            try:
                minor: int | None = parse_amount_text(amount, "promise_amount")
            except InputError as exc:
                errors["promise_amount"] = str(exc)
                minor = None
            if minor == 0:
                errors["promise_amount"] = "promise_amount: a positive amount"
                minor = None
            try:
                day: date | None = parse_business_date(due, "promise_date")
            except InputError as exc:
                errors["promise_date"] = str(exc)
                day = None
            if minor is not None and day is not None:
                parsed.promise = (minor, day)
    elif amount or due:
        errors["outcome"] = "outcome: only a promise_to_pay outcome carries a promise"
    return parsed


# --- allocation ----------------------------------------------------------------------------------


@dataclass
class Allocation:
    collectors: list[dict[str, Any]]  # username, branch_id, team, load
    unallocated: int
    total: int
    cases: list[dict[str, Any]]
    log: list[dict[str, Any]]
    by_branch: dict[str | None, list[str]]  # collectors a case of that branch may go to


def _collectors(conn: Connection, user: User) -> list[Any]:
    where = [users.c.role == Role.COLLECTOR.value, users.c.active.is_(True)]
    if scope_for(user.role, CollectionsAction.CASE_ASSIGN) == Scope.BRANCH:
        where.append(users.c.branch_id == user.branch_id)
    return list(
        conn.execute(
            select(users.c.user_id, users.c.username, users.c.branch_id, users.c.team)
            .where(*where).order_by(users.c.username)
        ).all()
    )  # fmt: skip


def allocation(
    conn: Connection, user: User, collector: str | None, page: int, zone: ZoneInfo
) -> Allocation:
    """Open cases in the user's `case.assign` scope by collector (`collector`: a username, "-"
    for the cases nobody holds, None for all), their loads, and the reassignment log."""
    people = _collectors(conn, user)
    held = loads(conn)
    collectors = [
        {"username": p.username, "branch_id": p.branch_id, "team": p.team,
         "load": held.get(p.user_id, 0)}
        for p in people
    ]  # fmt: skip
    by_branch: dict[str | None, list[str]] = {}
    for p in people:
        by_branch.setdefault(p.branch_id, []).append(p.username)
    holder, rated, plan = _holders(), _latest_rating(), current_strategy()
    joined = (
        cases.join(customers, customers.c.customer_id == cases.c.customer_id)
        .outerjoin(holder, holder.c.customer_id == cases.c.customer_id)
        .outerjoin(rated, and_(rated.c.customer_id == cases.c.customer_id,
                               rated.c.case_opened_on == cases.c.opened_on))
        .outerjoin(plan, and_(plan.c.customer_id == cases.c.customer_id,
                              plan.c.case_opened_on == cases.c.opened_on))
    )  # fmt: skip
    scope = and_(
        cases.c.status == "open", customer_scope_clause(user, CollectionsAction.CASE_ASSIGN)
    )
    unallocated = conn.execute(
        select(func.count()).select_from(joined).where(scope, holder.c.collector.is_(None))
    ).scalar_one()
    where = scope
    if collector == "-":
        where = and_(scope, holder.c.collector.is_(None))
    elif collector:
        where = and_(scope, holder.c.collector == collector)
    total = conn.execute(select(func.count()).select_from(joined).where(where)).scalar_one()
    rows = conn.execute(
        select(cases.c.customer_id, cases.c.stage, cases.c.priority, cases.c.opened_on,
               cases.c.opened_max_dpd, customers.c.name, customers.c.branch_id,
               holder.c.collector, rated.c.grade, rated.c.score, plan.c.strategy)
        .select_from(joined).where(where)
        .order_by(holder.c.collector, cases.c.priority.desc(), cases.c.opened_on,
                  cases.c.customer_id)
        .limit(ALLOCATION_PAGE).offset((page - 1) * ALLOCATION_PAGE)
    ).all()  # fmt: skip
    return Allocation(
        collectors=collectors, unallocated=int(unallocated), total=int(total),
        cases=[dict(r._mapping) for r in rows], log=reassignment_log(conn, user, zone),
        by_branch=by_branch,
    )  # fmt: skip


def reassignment_log(conn: Connection, user: User, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The latest moves of customers in the user's `case.assign` scope, newest first (times in
    `zone`)."""
    source, target = aliased(users), aliased(users)
    rows = conn.execute(
        select(reassignments, source.c.username.label("source"),
               target.c.username.label("target"))
        .join(customers, customers.c.customer_id == reassignments.c.customer_id)
        .outerjoin(source, source.c.user_id == reassignments.c.from_user_id)
        .outerjoin(target, target.c.user_id == reassignments.c.to_user_id)
        .where(customer_scope_clause(user, CollectionsAction.CASE_ASSIGN))
        .order_by(reassignments.c.log_id.desc())
        .limit(LOG_LIMIT)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["at"] = _local(r.at, zone)
        out.append(item)
    return out


# --- legal ---------------------------------------------------------------------------------------


@dataclass
class LegalPage:
    proposals: list[dict[str, Any]]
    matters: list[matter_service.MatterDetail]
    matters_total: int
    status: str


def legal_page(conn: Connection, user: User, policy: Policy, status: str) -> LegalPage:
    """Open legal proposals and the matters (`status`: open | closed | all) of the customers in
    the user's `case.view` scope; each matter with its stages, checklist, documents and costs."""
    scope = customer_scope_clause(user, CollectionsAction.CASE_VIEW)
    p = legal_proposals
    proposals = conn.execute(
        select(p, cases.c.status.label("case_status"))
        .join(customers, customers.c.customer_id == p.c.customer_id)
        .outerjoin(cases, and_(cases.c.customer_id == p.c.customer_id,
                               cases.c.opened_on == p.c.case_opened_on))
        .where(scope, p.c.status == "proposed")
        .order_by(p.c.proposed_on, p.c.proposal_id)
    ).all()  # fmt: skip
    m = legal_matters
    where = [scope]
    if status in ("open", "closed"):
        where.append(m.c.status == status)
    joined = m.join(customers, customers.c.customer_id == m.c.customer_id)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    ids = conn.execute(
        select(m.c.matter_id).select_from(joined).where(*where)
        .order_by(m.c.opened_on, m.c.matter_id).limit(MATTERS_PAGE)
    ).scalars()  # fmt: skip
    matters = [matter_service.matter_detail(conn, int(i), policy) for i in ids]
    return LegalPage([dict(r._mapping) for r in proposals], matters, int(total), status)


def in_scope(conn: Connection, user: User, table: Any, key: str, value: int,
             action: Action | str) -> Any:  # fmt: skip
    """A legal record or agreement when it exists and its customer lies in the user's scope
    for `action`, else None."""
    row = conn.execute(select(table).where(table.c[key] == value)).first()
    if row is None or visible_customer(conn, user, row.customer_id, action) is None:
        return None
    return row


# --- KPIs ----------------------------------------------------------------------------------------


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _chart_base() -> dict[str, Any]:
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 50, "bottom": 40},
        "animation": False,
        "yAxis": {"type": "value", "name": "%"},
    }


def row_label(lang: str, level: str, key: str) -> str:
    return translate(lang, "kpi.portfolio") if level == "portfolio" else key


def kpi_charts(result: CollectionKpis, rows: pl.DataFrame, lang: str) -> dict[str, Any]:
    """Chart container id → ECharts option: recovery and reduction rate (the reduction split
    by cause, stacked), cure rate by bucket, and the strategy comparison."""
    t = lambda key: translate(lang, key)  # noqa: E731
    labels = [row_label(lang, r["level"], r["key"]) for r in rows.iter_rows(named=True)]
    rates = _chart_base()
    rates["xAxis"] = {"type": "category", "data": labels}
    rates["series"] = [
        {"name": t("kpi.recovery_rate"), "type": "bar",
         "data": [_pct(v) for v in rows["recovery_rate"].to_list()]},
        *[
            {"name": t(f"kpi.part.{part}"), "type": "bar", "stack": "reduction",
             "data": [
                 _pct(p / o) if o else None
                 for p, o in zip(rows[f"reduction_{part}"].to_list(),
                                 rows["opening_overdue"].to_list(), strict=True)
             ]}
            for part in REDUCTION_PARTS
        ],
    ]  # fmt: skip
    cure = _chart_base()
    buckets = result.cure_by_bucket
    cure["xAxis"] = {
        "type": "category",
        "data": [bucket_label(lang, b) for b in buckets["bucket"].to_list()],
    }
    cure["series"] = [{"name": t("kpi.cure_rate"), "type": "bar",
                       "data": [_pct(v) for v in buckets["cure_rate"].to_list()]}]  # fmt: skip
    plans = result.strategies
    strategies = _chart_base()
    strategies["xAxis"] = {
        "type": "category",
        "data": [
            f"{t('stage.' + s)}\n{st}\n{t('arm.' + a)}"
            for s, st, a in zip(plans["stage"].to_list(), plans["strategy"].to_list(),
                                plans["arm"].to_list(), strict=True)
        ],
        "axisLabel": {"interval": 0},
    }  # fmt: skip
    strategies["grid"] = {**strategies["grid"], "bottom": 70}
    strategies["series"] = [
        {"name": t("kpi.cure_rate"), "type": "bar",
         "data": [_pct(v) for v in plans["cure_rate"].to_list()]},
        {"name": t("kpi.recovery_rate"), "type": "bar",
         "data": [_pct(v) for v in plans["recovery_rate"].to_list()]},
    ]  # fmt: skip
    return {"chart-kpi-rates": rates, "chart-kpi-cure": cure, "chart-kpi-strategies": strategies}


KPI_CAPTIONS = {
    "chart-kpi-rates": "kpi.chart.rates",
    "chart-kpi-cure": "kpi.chart.cure",
    "chart-kpi-strategies": "kpi.chart.strategies",
}


def default_period(conn: Connection) -> tuple[date, date] | None:
    end = latest_day(conn)
    return None if end is None else (end - timedelta(days=29), end)
