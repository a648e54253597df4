"""The workbench's reads: dashboard figures, customer search and 360° view, run history.

Every read of customer data goes through `postloan.access.customer_scope_clause`, so a page
can only show what the user's role and data scope allow. Aggregates run in the database (one
GROUP BY per chart) — the dashboard never loads the portfolio into Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    distinct,
    exists,
    func,
    literal_column,
    select,
)

from postloan.access import Action, User, customer_scope_clause, mask_customer, scope_for
from postloan.access.scope import visible_customer
from postloan.collections.legal_tables import account_disposals
from postloan.policy import Policy
from postloan.reports.summary import NON_PERFORMING, RISK_CLASSES
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status, customers, runs
from postloan.store.values import as_date
from postloan.views import customer_search
from postloan.views.cache import ViewCache
from postloan.views.customer360 import Limits, ledger_json, page_json

SEARCH_LIMIT = 50
TREND_DATES = 120  # the DPD30+ trend shows at most this many latest stored dates
EVENT_LIMIT = 50
PAYMENT_LIMIT = 50


def _scoped_status(user: User, action: Action | str) -> Any:
    """account_status rows of the customers in `user`'s scope for `action`."""
    scope = scope_for(user.role, action)
    if scope is not None and scope.value == "all":
        return None  # no filter: the whole portfolio (no join needed)
    return account_status.c.customer_id.in_(
        select(customers.c.customer_id).where(customer_scope_clause(user, action))
    )


# Written-off and disposed accounts are out of the performing pool from the day their disposal
# takes effect (`collections.disposals`, `reports.summary`): the dashboard's figures leave them out.
_performing = ~exists().where(
    account_disposals.c.account_id == account_status.c.account_id,
    account_disposals.c.status == "approved",
    account_disposals.c.effective_on <= account_status.c.as_of,
)


@dataclass
class Dashboard:
    as_of: date | None
    accounts: int = 0
    outstanding: int = 0
    overdue: int = 0
    dpd30_ratio: float = 0.0
    npl_ratio: float = 0.0
    by_bucket: list[dict[str, Any]] = field(default_factory=list)
    by_class: list[dict[str, Any]] = field(default_factory=list)
    by_branch: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)


def dashboard(conn: Connection, user: User) -> Dashboard:
    """Headline figures at the latest stored date, within the user's dashboard scope."""
    scoped = _scoped_status(user, Action.DASHBOARD_VIEW)
    latest = latest_stored_date(conn)
    result = Dashboard(as_of=latest)
    if latest is None:
        return result
    at_latest = and_(account_status.c.as_of == latest, _performing)
    where = at_latest if scoped is None else and_(at_latest, scoped)
    s = account_status.c

    bucket_rows = conn.execute(
        select(
            s.bucket,
            func.count().label("accounts"),
            func.coalesce(func.sum(s.outstanding_principal), 0).label("outstanding"),
            func.coalesce(func.sum(s.overdue_amount), 0).label("overdue"),
            func.min(s.dpd).label("min_dpd"),
        )
        .where(where)
        .group_by(s.bucket)
        .order_by(func.min(s.dpd))
    ).all()
    result.by_bucket = [
        {
            "bucket": r.bucket,
            "accounts": int(r.accounts),
            "outstanding": int(r.outstanding),
            "overdue": int(r.overdue),
        }
        for r in bucket_rows
    ]
    class_rows = {
        r.risk_class: r
        for r in conn.execute(
            select(
                s.risk_class,
                func.count().label("accounts"),
                func.coalesce(func.sum(s.outstanding_principal), 0).label("outstanding"),
            )
            .where(where)
            .group_by(s.risk_class)
        ).all()
    }
    result.by_class = [
        {
            "risk_class": name,
            "accounts": int(class_rows[name].accounts) if name in class_rows else 0,
            "outstanding": int(class_rows[name].outstanding) if name in class_rows else 0,
        }
        for name in RISK_CLASSES
    ]
    # One SQL expression for select and group by: with "-" as two bind parameters PostgreSQL
    # cannot tell they are the same and refuses the grouping.
    branch = func.coalesce(customers.c.branch_id, literal_column("'-'"))
    branch_rows = conn.execute(
        select(
            branch.label("branch"),
            func.count().label("accounts"),
            func.coalesce(func.sum(s.outstanding_principal), 0).label("outstanding"),
        )
        .select_from(account_status.join(customers, customers.c.customer_id == s.customer_id))
        .where(where)
        .group_by(branch)
        .order_by(branch)
    ).all()
    result.by_branch = [
        {"branch": r.branch, "accounts": int(r.accounts), "outstanding": int(r.outstanding)}
        for r in branch_rows
    ]
    result.accounts = sum(b["accounts"] for b in result.by_bucket)
    result.outstanding = sum(b["outstanding"] for b in result.by_bucket)
    result.overdue = sum(b["overdue"] for b in result.by_bucket)
    npl = sum(c["outstanding"] for c in result.by_class if c["risk_class"] in NON_PERFORMING)
    result.npl_ratio = npl / result.outstanding if result.outstanding else 0.0

    recent = (
        select(s.as_of.label("d")).distinct().order_by(s.as_of.desc()).limit(TREND_DATES)
    ).subquery()
    trend_where: ColumnElement[bool] = and_(s.as_of.in_(select(recent.c.d)), _performing)
    if scoped is not None:
        trend_where = and_(trend_where, scoped)
    trend_rows = conn.execute(
        select(
            s.as_of,
            func.coalesce(func.sum(s.outstanding_principal), 0).label("total"),
            func.coalesce(func.sum(case((s.dpd >= 30, s.outstanding_principal), else_=0)), 0).label(
                "dpd30"
            ),
        )
        .where(trend_where)
        .group_by(s.as_of)
        .order_by(s.as_of)
    ).all()
    result.trend = [
        {
            "as_of": as_date(r.as_of),
            "ratio": int(r.dpd30) / int(r.total) if int(r.total) else 0.0,
        }
        for r in trend_rows
    ]
    if result.trend and result.trend[-1]["as_of"] == latest:
        result.dpd30_ratio = result.trend[-1]["ratio"]
    return result


def search_customers(conn: Connection, user: User, query: str) -> list[dict[str, Any]]:
    """The first `SEARCH_LIMIT` customers the search finds (`views.customer_search`, the API's
    search: masked parts of a mobile or ID number are never matched), masked for the user's
    role. Raises `FullIdentifierQuery` for a whole mobile or ID number (a reveal:
    `lookup_customers`)."""
    return customer_search.search(conn, user, query, limit=SEARCH_LIMIT, count=False).items


def lookup_customers(
    conn: Connection, user: User, identifier: str, reason: str, now: datetime, policy: Policy
) -> list[dict[str, Any]]:
    """The customers holding a whole mobile or ID number: a reveal, audited
    (`views.customer_search.lookup`)."""
    return customer_search.lookup(conn, user, identifier, reason, now, policy=policy).items


@dataclass
class Customer360:
    customer: dict[str, Any]
    show_accounts: bool
    as_of: str | None = None
    accounts: list[dict[str, Any]] = field(default_factory=list)
    history_dates: list[str] = field(default_factory=list)
    history: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # One row per history date, newest first: (date, each account's status that day or None).
    history_rows: list[tuple[str, list[dict[str, Any] | None]]] = field(default_factory=list)
    schedules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    statements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    payments: list[dict[str, Any]] = field(default_factory=list)
    payments_total: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    # Rows of the long tables; the page shows these counts and loads the tables when opened.
    schedule_rows: int = 0
    statement_rows: int = 0


PAGE_LIMITS = Limits(history_dates=14, payments=PAYMENT_LIMIT, events=EVENT_LIMIT)


def customer_360(
    conn: Connection,
    user: User,
    customer_id: str,
    policy: Policy,
    *,
    policy_version: str | None = None,
    cache: ViewCache | None = None,
    ledger: bool = False,
) -> Customer360 | None:
    """The customer (masked) and — for roles that may see accounts — the ledger part of the
    360° view; None when the customer does not exist or lies outside the user's scope.

    The page itself needs the accounts, status history, events and the sizes of the long
    tables (`views.customer360.page_view`); `ledger=True` adds the schedules, statements and
    payments themselves, for the sections loaded on demand (`ledger_view`, shared with the API
    and its cache)."""
    row = visible_customer(conn, user, customer_id, Action.CUSTOMER_VIEW)
    if row is None:
        return None
    non_personal = policy.security.personal_data.non_personal_extra_columns.get("customers", ())
    customer = mask_customer(row._mapping, user.role, non_personal)
    view = Customer360(customer=customer, show_accounts=False)
    if scope_for(user.role, Action.ACCOUNT_VIEW) is None:
        return view
    version = policy_version or policy.version
    if ledger:
        body = ledger_json(conn, customer_id, policy, PAGE_LIMITS, cache, version)
    else:
        body = page_json(conn, customer_id, version, PAGE_LIMITS, cache)
    got = orjson.loads(body)
    view.show_accounts = True
    view.as_of = got["as_of"]
    view.accounts = got["accounts"]
    for s in got["status_history"]:
        view.history[(s["as_of"], s["account_id"])] = s
    view.history_dates = sorted({d for d, _ in view.history}, reverse=True)
    ids = [a["account_id"] for a in view.accounts]
    view.history_rows = [(d, [view.history.get((d, i)) for i in ids]) for d in view.history_dates]
    view.payments_total = got["payments_total"]
    view.events = got["events"]
    if ledger:
        for i in got["schedules"]:
            view.schedules.setdefault(i["account_id"], []).append(i)
        for st in got["statements"]:
            view.statements.setdefault(st["account_id"], []).append(st)
        view.payments = got["payments"]
        view.schedule_rows = len(got["schedules"])
        view.statement_rows = len(got["statements"])
    else:
        view.schedule_rows = got["schedule_rows"]
        view.statement_rows = got["statement_rows"]
    return view


@dataclass
class RunRow:
    run_id: int
    kind: str
    date_from: date
    date_to: date
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    rows: int | None
    policy_version: str
    dates_total: int
    dates_done: int
    error: str | None

    @property
    def percent(self) -> int:
        if self.status == "succeeded":
            return 100
        return int(100 * self.dates_done / self.dates_total) if self.dates_total else 0


def _run_row(conn: Connection, r: Any, tracker: Any) -> RunRow:
    first, last = as_date(r.date_from), as_date(r.date_to)
    assert first is not None and last is not None
    total = (last - first).days + 1
    done = total if r.status == "succeeded" else 0
    if r.status == "running":
        job = tracker.progress(r.run_id) if tracker is not None else None
        if job is not None:
            done, total = job.dates_done, job.dates_total or total
        else:
            # A run started elsewhere (the CLI): it commits date windows as it goes, so the
            # dates already stored under its id are its progress.
            done = int(
                conn.execute(
                    select(func.count(distinct(account_status.c.as_of))).where(
                        account_status.c.run_id == r.run_id
                    )
                ).scalar()
                or 0
            )
    return RunRow(
        run_id=int(r.run_id),
        kind=r.kind,
        date_from=first,
        date_to=last,
        status=r.status,
        started_at=r.started_at,
        finished_at=r.finished_at,
        rows=r.rows,
        policy_version=r.policy_version,
        dates_total=total,
        dates_done=min(done, total),
        error=r.error,
    )


def run_history(conn: Connection, tracker: Any = None, limit: int = 50) -> list[RunRow]:
    rows = conn.execute(select(runs).order_by(runs.c.run_id.desc()).limit(limit)).all()
    return [_run_row(conn, r, tracker) for r in rows]


def run_one(conn: Connection, run_id: int, tracker: Any = None) -> RunRow | None:
    r = conn.execute(select(runs).where(runs.c.run_id == run_id)).first()
    return None if r is None else _run_row(conn, r, tracker)
