"""Read models shared by the collections API (`collections.api`) and its workbench pages
(`collections.web`): SQL over the area's tables answering plain rows and dataclasses — no HTTP,
no templates — so both show the same rows in the same order.

- the task queue: tasks with their customer's open case (stage, priority), highest priority
  first, then the earliest due (`task_queue`, `one_task`, `TaskItem`);
- cases with who works them: each case's collector, current strategy and latest rating
  (`cases_handled`), for the API's case list and the allocation page;
- the reassignment log with the usernames moved from and to (`reassignment_moves`);
- work other areas handed over (`collections.handover`), open first, then oldest
  (`handover_page`).

Scope is the caller's: each takes (or is filtered by) a clause from
`access.scope.customer_scope_clause` for the action of the route or page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Join,
    Select,
    Subquery,
    and_,
    desc,
    func,
    select,
)
from sqlalchemy.orm import aliased

from postloan.access.permissions import Action
from postloan.access.roles import Role
from postloan.access.scope import customer_scope_clause
from postloan.access.tables import assignments, users
from postloan.access.users import User
from postloan.collections.casework_tables import case_ratings, reassignments
from postloan.collections.reminders import Reminder, message
from postloan.collections.strategies import current_strategy
from postloan.collections.tables import cases, tasks
from postloan.money import format_amount
from postloan.policy import Policy
from postloan.store.schema import customers

# --- the task queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskItem:
    """A task as the queue shows it: dates as ISO text, the amount with 2 decimals (the API's
    `Task` has the same fields)."""

    task_id: int
    kind: str  # reminder | contact
    customer_id: str
    account_id: str
    created_on: str
    window_start: str
    due_by: str
    pay_by: str | None
    overdue_amount: str
    dpd: int
    status: str
    done_at: str | None
    done_by: str | None
    channel: str | None
    case_stage: str | None  # the customer's open case's stage
    priority: int  # the open case's priority (0 without one)
    message: str | None  # reminders: the text to send, in the caller's language


def tasks_in_scope(user: User, action: Action | str) -> ColumnElement[bool]:
    """Tasks of the customers in the user's scope for `action`."""
    return tasks.c.customer_id.in_(
        select(customers.c.customer_id).where(customer_scope_clause(user, action))
    )


def _with_case(where: list[Any]) -> Select[Any]:
    """Tasks with their customer's open case (stage, priority), in queue order."""
    open_case = (
        select(cases.c.customer_id, cases.c.stage, cases.c.priority)
        .where(cases.c.status == "open")
        .subquery()
    )
    return (
        select(tasks, open_case.c.stage, open_case.c.priority)
        .outerjoin(open_case, open_case.c.customer_id == tasks.c.customer_id)
        .where(*where)
        .order_by(desc(func.coalesce(open_case.c.priority, 0)), tasks.c.due_by, tasks.c.task_id)
    )


def _iso(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def _day(value: Any) -> str | None:
    """A date column as ISO text (a backend may hand a date back as text or a timestamp)."""
    return None if value is None else str(_iso(value))[:10]


def _task(r: Any, policy: Policy, lang: str) -> TaskItem:
    text = None
    if r.kind == "reminder" and r.pay_by is not None:
        pay_by = date.fromisoformat(str(_day(r.pay_by)))
        text = message(Reminder(r.account_id, r.dpd, r.overdue_amount, pay_by), policy, lang)
    return TaskItem(
        task_id=r.task_id, kind=r.kind, customer_id=r.customer_id, account_id=r.account_id,
        created_on=str(_day(r.created_on)), window_start=str(_day(r.window_start)),
        due_by=str(_day(r.due_by)), pay_by=_day(r.pay_by),
        overdue_amount=format_amount(int(r.overdue_amount or 0)), dpd=r.dpd, status=r.status,
        done_at=_iso(r.done_at), done_by=r.done_by, channel=r.channel, case_stage=r.stage,
        priority=r.priority or 0, message=text,
    )  # fmt: skip


def task_queue(
    conn: Connection, where: list[Any], policy: Policy, lang: str, limit: int, offset: int = 0
) -> tuple[int, list[TaskItem]]:
    """The tasks matching `where` (with `tasks_in_scope`): how many, and one page of them in
    queue order."""
    total = conn.execute(select(func.count()).select_from(tasks).where(*where)).scalar_one()
    rows = conn.execute(_with_case(where).limit(limit).offset(offset)).all()
    return int(total), [_task(r, policy, lang) for r in rows]


def one_task(conn: Connection, task_id: int, policy: Policy, lang: str) -> TaskItem:
    """One task as the queue shows it (after a change: its row is re-read)."""
    return _task(conn.execute(_with_case([tasks.c.task_id == task_id])).one(), policy, lang)


# --- cases and who works them ---------------------------------------------------------------------


def _holders() -> Subquery:
    """customer_id, collector (username) of every customer held by an active collector."""
    return (
        select(assignments.c.customer_id, func.min(users.c.username).label("collector"))
        .join(users, users.c.user_id == assignments.c.user_id)
        .where(users.c.role == Role.COLLECTOR.value, users.c.active.is_(True))
        .group_by(assignments.c.customer_id)
        .subquery()
    )


def _latest_ratings() -> Subquery:
    """customer_id, case_opened_on, score, grade, rated_on: each case episode's latest rating."""
    latest = (
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on,
               func.max(case_ratings.c.rated_on).label("rated_on"))
        .group_by(case_ratings.c.customer_id, case_ratings.c.case_opened_on)
        .subquery()
    )  # fmt: skip
    return (
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on, case_ratings.c.score,
               case_ratings.c.grade, case_ratings.c.rated_on)
        .join(latest, and_(latest.c.customer_id == case_ratings.c.customer_id,
                           latest.c.case_opened_on == case_ratings.c.case_opened_on,
                           latest.c.rated_on == case_ratings.c.rated_on))
        .subquery()
    )  # fmt: skip


@dataclass(frozen=True)
class HandledCases:
    """`source`: cases ⋈ customers (for the scope clause), outer-joined to who and how each
    case is worked — `holder` (customer_id, collector), `plan` (the case episode's current
    strategy and arm: `strategies.current_strategy`) and `rated` (its latest score, grade,
    rated_on). Select from `source`, filter and pick columns through the three."""

    source: Join
    holder: Subquery
    plan: Subquery
    rated: Subquery


def cases_handled() -> HandledCases:
    holder, plan, rated = _holders(), current_strategy(), _latest_ratings()
    episode = and_(plan.c.customer_id == cases.c.customer_id,
                   plan.c.case_opened_on == cases.c.opened_on)  # fmt: skip
    rating = and_(rated.c.customer_id == cases.c.customer_id,
                  rated.c.case_opened_on == cases.c.opened_on)  # fmt: skip
    source = (
        cases.join(customers, customers.c.customer_id == cases.c.customer_id)
        .outerjoin(holder, holder.c.customer_id == cases.c.customer_id)
        .outerjoin(plan, episode)
        .outerjoin(rated, rating)
    )
    return HandledCases(source, holder, plan, rated)


# --- the reassignment log ------------------------------------------------------------------------


def reassignment_moves() -> tuple[Join, tuple[Any, ...]]:
    """(source, columns) of the reassignment log: reassignments ⋈ customers (for the scope
    clause), each move with `source` and `target`, the usernames moved from and to."""
    source, target = aliased(users), aliased(users)
    joined = (
        reassignments.join(customers, customers.c.customer_id == reassignments.c.customer_id)
        .outerjoin(source, source.c.user_id == reassignments.c.from_user_id)
        .outerjoin(target, target.c.user_id == reassignments.c.to_user_id)
    )
    columns = (reassignments, source.c.username.label("source"),
               target.c.username.label("target"))  # fmt: skip
    return joined, columns


# --- hand-overs from other areas ---------------------------------------------------------------


def handover_page(
    conn: Connection, scope: ColumnElement[bool], status: str | None, source: str | None,
    page: int, page_size: int,
) -> tuple[int, list[Any]]:  # fmt: skip
    """(total, one page) of the hand-overs of customers in `scope`, open first, then oldest.
    Pauses of collection work (`handover.pause_work`, in the same table) are not hand-overs."""
    from postloan.collections.handover import PAUSE
    from postloan.collections.handover_tables import handovers
    from postloan.store.schema import customers

    h = handovers.c
    where = [scope, h.actions != PAUSE]
    for column, wanted in ((h.status, status), (h.source, source)):
        if wanted is not None:
            where.append(column == wanted)
    joined = handovers.join(customers, customers.c.customer_id == h.customer_id)
    total = conn.execute(select(func.count()).select_from(joined).where(*where)).scalar_one()
    open_first = func.coalesce(func.nullif(h.status, "open"), "")  # "" sorts first
    rows = conn.execute(
        select(handovers, customers.c.name, customers.c.branch_id.label("customer_branch"))
        .select_from(joined).where(*where)
        .order_by(open_first, h.handed_on, h.handover_id)
        .limit(page_size).offset((page - 1) * page_size)
    ).all()  # fmt: skip
    return int(total), list(rows)
