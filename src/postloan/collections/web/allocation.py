"""Allocation (`/allocation`, `case.assign`): open cases in the user's scope by collector,
the collectors' loads, the reassignment log, and giving a customer's open case to another
collector of its branch with a reason (logged and audited by `collections.allocation`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, and_, func, select

from postloan.access.permissions import Scope, scope_for
from postloan.access.roles import Role
from postloan.access.scope import customer_scope_clause
from postloan.access.tables import users
from postloan.access.users import User
from postloan.collections.actions import CollectionsAction
from postloan.collections.allocation import ReassignRefused, loads, reassign
from postloan.collections.casework_tables import reassignments
from postloan.collections.queries import cases_handled, reassignment_moves
from postloan.collections.tables import cases
from postloan.collections.web.forms import back, local_time, text, zone_of
from postloan.store.schema import customers
from postloan.web.pages import (
    engine,
    not_found,
    now,
    page_gate,
    policy_of,
    post_gate,
    render_page,
)

router = APIRouter(include_in_schema=False)

ALLOCATION_PAGE = 100
LOG_LIMIT = 30


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
    handled = cases_handled()
    joined, holder, plan, rated = handled.source, handled.holder, handled.plan, handled.rated
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
    joined, columns = reassignment_moves()
    rows = conn.execute(
        select(*columns)
        .select_from(joined)
        .where(customer_scope_clause(user, CollectionsAction.CASE_ASSIGN))
        .order_by(reassignments.c.log_id.desc())
        .limit(LOG_LIMIT)
    ).all()  # fmt: skip
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["at"] = local_time(r.at, zone)
        out.append(item)
    return out


@router.get("/allocation", response_class=HTMLResponse)
def allocation_page(request: Request, collector: str = "", page: int = 1) -> Response:
    user, gated = page_gate(request, CollectionsAction.CASE_ASSIGN)
    if gated:
        return gated
    assert user is not None
    return _allocation(request, user, collector, max(1, min(page, 100_000)))


def _allocation(
    request: Request, user: User, collector: str, page: int, *, status: int = 200,
    error: str | None = None,
) -> Response:  # fmt: skip
    with engine(request).connect() as conn:
        view = allocation(conn, user, collector or None, page, zone_of(policy_of(request)))
    return render_page(
        request, "collections/allocation.html",
        {"a": view, "collector": collector, "page": page, "page_size": ALLOCATION_PAGE,
         "error": error, "done": request.query_params.get("done")},
        status_code=status, user=user,
    )  # fmt: skip


@router.post("/allocation/{customer_id}/reassign", response_class=HTMLResponse)
async def reassign_case(request: Request, customer_id: str) -> Response:
    user, gated = await post_gate(request, CollectionsAction.CASE_ASSIGN)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    to, reason = text(form, "to"), text(form, "reason")[:1000]

    def work() -> Response:
        try:
            with engine(request).begin() as conn:
                reassign(conn, customer_id, to, reason, user, now(), policy_of(request))
        except ReassignRefused as refusal:
            if refusal.kind == "not_found":
                return not_found(request, user)
            status = 409 if refusal.kind == "conflict" else 422
            return _allocation(request, user, "", 1, status=status,
                               error=f"{customer_id}: {refusal.message}")  # fmt: skip
        return back("/allocation", "reassigned")

    return await run_in_threadpool(work)
