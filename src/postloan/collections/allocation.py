"""Allocation (ORG-1): open cases to collectors by branch, team and stage, balancing the open-case
load; one collector per customer; every (re)assignment logged and audited.

Who holds a customer is `access.tables.assignments` (it is what gives a collector the customer's
data): the customer's *collector* is an active user with role `collector` assigned to them.
`case_collectors` registers the holdings the allocation (or a supervisor) made — one per
customer, the primary key keeps it exclusive — so the run knows which assignments are its own
to release. Assignments made elsewhere (the demo logins, a bank's own import) are respected as
they are: an active collector assigned that way already holds the customer.

The daily-run step `allocate_cases` works as of the run's last date (allocation is today's
work, not history: a backfill does not replay past allocations):

1. release — a registered holding whose customer has no open case any more ends: the row and
   the collector's assignment go (the collector loses the customer's data);
2. displace — a registered holder who is no longer eligible (inactive, not a collector, another
   branch, or not of the team the case's stage now needs) gives the customer up;
3. allocate — every open case whose customer has no active collector goes to an eligible
   collector (same branch; the stage's team when the policy names one; below the policy's
   load cap), the least loaded first, ties to the lowest user id; cases in order of priority,
   then age. Set-based: each pool's cases fill the collectors' headroom level by level
   (`balance`), the same as giving each case in turn to the least loaded collector.

`reassign` is a supervisor's manual move of one customer to another collector of the same
branch, with a reason. Every change is a `reassignments` row and an audit entry (`case.assign`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, bindparam, delete, func, select

from postloan.access import audit
from postloan.access.reveal import MIN_REASON_LENGTH
from postloan.access.roles import Role
from postloan.access.scope import visible_customer
from postloan.access.tables import assignments, audit_log, users
from postloan.access.times import to_utc
from postloan.access.users import User
from postloan.collections.actions import CollectionsAction
from postloan.collections.casework_tables import case_collectors, reassignments
from postloan.collections.rules.allocation import (
    ACTIVE_COLLECTORS,
    HOLDINGS,
    OPEN_CASES,
    REGISTERED,
    Candidate,
    allocation,
    check_reassignment,
    checked_reason,
    holdings_to_end,
    with_teams,
)
from postloan.collections.rules.allocation import COLLECTORS as COLLECTORS
from postloan.collections.rules.allocation import NEW_CASES as NEW_CASES
from postloan.collections.rules.allocation import ReassignRefused as ReassignRefused
from postloan.collections.rules.allocation import balance as balance
from postloan.collections.tables import cases
from postloan.policy import Policy
from postloan.store.schema import customers
from postloan.store.values import rows_frame

SYSTEM = "system"  # the actor of the daily run's rows


@dataclass(frozen=True)
class AllocationResult:
    allocated: int
    released: int
    displaced: int
    unallocated: int  # open cases left without a collector (no eligible collector with room)


def _open_cases(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        select(cases.c.customer_id, customers.c.branch_id, cases.c.stage, cases.c.priority,
               cases.c.opened_on)
        .join(customers, customers.c.customer_id == cases.c.customer_id)
        .where(cases.c.status == "open")
    ).all()  # fmt: skip
    return rows_frame(rows, OPEN_CASES)


def _collector_holdings(conn: Connection) -> pl.DataFrame:
    """customer_id, user_id, active, branch_id, team of every collector's assignment."""
    rows = conn.execute(
        select(assignments.c.customer_id, users.c.user_id, users.c.active, users.c.branch_id,
               users.c.team)
        .join(users, users.c.user_id == assignments.c.user_id)
        .where(users.c.role == Role.COLLECTOR.value)
    ).all()  # fmt: skip
    return rows_frame([(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows], HOLDINGS)


def _registered(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        select(case_collectors.c.customer_id, case_collectors.c.user_id, users.c.role,
               users.c.active, users.c.branch_id, users.c.team)
        .join(users, users.c.user_id == case_collectors.c.user_id)
    ).all()  # fmt: skip
    return rows_frame([(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows], REGISTERED)


def _active_collectors(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        select(users.c.user_id, users.c.branch_id, users.c.team).where(
            users.c.role == Role.COLLECTOR.value, users.c.active.is_(True)
        )
    ).all()
    return rows_frame(rows, ACTIVE_COLLECTORS)


_UNASSIGN = delete(assignments).where(
    assignments.c.user_id == bindparam("uid"), assignments.c.customer_id == bindparam("cid")
)
_UNREGISTER = delete(case_collectors).where(case_collectors.c.customer_id == bindparam("cid"))


def _end_holdings(conn: Connection, ended: pl.DataFrame) -> None:
    """Remove the (customer_id, user_id) holdings: registration and assignment."""
    if ended.height:
        pairs = [{"uid": u, "cid": c} for c, u in ended.select("customer_id", "user_id").rows()]
        conn.execute(_UNASSIGN, pairs)
        conn.execute(_UNREGISTER, [{"cid": p["cid"]} for p in pairs])


def _usernames(conn: Connection) -> dict[int, str]:
    return {r.user_id: r.username for r in conn.execute(select(users.c.user_id, users.c.username))}


def _log(
    conn: Connection,
    entries: list[dict[str, Any]],
    *,
    by: str,
    now: datetime,
    business_date: date | None,
) -> None:
    """Write reassignment-log rows and their audit entries (action `case.assign`).

    Entries: customer_id, kind, from_user_id, to_user_id, reason. The audit entries are
    chained in one batch — the same hash chain `audit.record` builds, one entry per change —
    because a first allocation can move thousands of customers at once."""
    if not entries:
        return
    conn.execute(
        reassignments.insert(),
        [{**e, "by": by, "at": now, "business_date": business_date} for e in entries],
    )
    names = _usernames(conn)
    seq, prev = audit.head_for_append(conn)  # appends wait for each other
    at = to_utc(now)
    rows = []
    for e in entries:
        seq += 1
        detail = audit.canonical_json(
            {"kind": e["kind"], "from": names.get(e["from_user_id"]),
             "to": names.get(e["to_user_id"]), "reason": e["reason"],
             "business_date": business_date}
        )  # fmt: skip
        digest = audit.entry_hash(
            seq=seq, at=at, actor=by, action=CollectionsAction.CASE_ASSIGN.value,
            target_type="customer", target_id=e["customer_id"], detail=detail, prev_hash=prev,
        )  # fmt: skip
        rows.append(
            {"seq": seq, "at": at, "actor": by, "action": CollectionsAction.CASE_ASSIGN.value,
             "target_type": "customer", "target_id": e["customer_id"], "detail": detail,
             "prev_hash": prev, "hash": digest}
        )  # fmt: skip
        prev = digest
    conn.execute(audit_log.insert(), rows)


def allocate_cases(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`): module doc."""
    if days:
        allocate(conn, days[-1], policy, datetime.now(UTC))


def allocate(conn: Connection, day: date, policy: Policy, now: datetime) -> AllocationResult:
    """Release, displace and allocate as of `day` (module doc; the decisions are
    `rules.allocation`'s); `now` stamps the log."""
    open_cases = with_teams(_open_cases(conn), policy.case_allocation.teams)
    registered = _registered(conn)
    ended = holdings_to_end(open_cases, registered, policy.case_allocation.teams)
    _end_holdings(conn, ended.released)
    _log(conn, ended.release_log.to_dicts(), by=SYSTEM, now=now, business_date=day)
    _end_holdings(conn, ended.displaced)
    plan = allocation(
        open_cases, registered, ended, _collector_holdings(conn), _active_collectors(conn),
        policy.case_allocation.max_open_cases_per_collector,
    )  # fmt: skip
    _end_holdings(conn, plan.stale)
    if plan.orphaned.height:
        conn.execute(_UNREGISTER, [{"cid": c} for c in plan.orphaned["customer_id"]])
    if plan.given.height:
        pairs = plan.given.rows()
        conn.execute(
            case_collectors.insert(),
            [{"customer_id": c, "user_id": u, "how": "auto", "assigned_at": now}
             for c, u in pairs],
        )  # fmt: skip
        conn.execute(
            assignments.insert(),
            [{"customer_id": c, "user_id": u, "assigned_at": now} for c, u in pairs],
        )
    _log(conn, plan.log.to_dicts(), by=SYSTEM, now=now, business_date=day)
    return AllocationResult(
        allocated=plan.given.height,
        released=ended.released.height,
        displaced=ended.displaced.height,
        unallocated=plan.waiting - plan.given.height,
    )


def collector_of(conn: Connection, customer_id: str) -> int | None:
    """The user id of the customer's active collector (the registered one first)."""
    registered = conn.execute(
        select(case_collectors.c.user_id).where(case_collectors.c.customer_id == customer_id)
    ).scalar()
    if registered is not None:
        return int(registered)
    held = conn.execute(
        select(func.min(assignments.c.user_id))
        .join(users, users.c.user_id == assignments.c.user_id)
        .where(assignments.c.customer_id == customer_id, users.c.role == Role.COLLECTOR.value,
               users.c.active.is_(True))
    ).scalar()  # fmt: skip
    return None if held is None else int(held)


def reassign(
    conn: Connection, customer_id: str, to_username: str, reason: str, actor: User, now: datetime,
    policy: Policy,
) -> dict[str, Any]:  # fmt: skip
    """A supervisor moves the customer's open case to another collector (module doc; the
    checks are `rules.allocation.check_reassignment`). Raises `ReassignRefused` naming the
    field; the caller commits."""
    customer = visible_customer(conn, actor, customer_id, CollectionsAction.CASE_ASSIGN)
    if customer is None:
        raise ReassignRefused("not_found", f"customer {customer_id!r} not found", "customer_id")
    why = checked_reason(reason, MIN_REASON_LENGTH)
    stage = conn.execute(
        select(cases.c.stage).where(cases.c.customer_id == customer_id, cases.c.status == "open")
    ).scalar()
    row = conn.execute(select(users).where(users.c.username == to_username)).first()
    target = None if row is None else Candidate(
        row.user_id, row.role, bool(row.active), row.branch_id, row.team
    )  # fmt: skip
    previous = collector_of(conn, customer_id)
    check_reassignment(customer_id, customer.branch_id, stage, to_username, target, previous,
                       policy.case_allocation.teams)  # fmt: skip
    assert target is not None
    # Exclusive: every other collector's assignment of the customer goes.
    others = select(users.c.user_id).where(users.c.role == Role.COLLECTOR.value)
    conn.execute(
        delete(assignments).where(
            assignments.c.customer_id == customer_id, assignments.c.user_id.in_(others)
        )
    )
    conn.execute(_UNREGISTER, {"cid": customer_id})
    conn.execute(
        case_collectors.insert().values(
            customer_id=customer_id, user_id=target.user_id, how="manual", assigned_at=now
        )
    )
    conn.execute(
        assignments.insert().values(customer_id=customer_id, user_id=target.user_id,
                                    assigned_at=now)
    )  # fmt: skip
    entry = {"customer_id": customer_id, "kind": "reassign", "from_user_id": previous,
             "to_user_id": target.user_id, "reason": why}  # fmt: skip
    _log(conn, [entry], by=actor.username, now=now, business_date=None)
    return entry


def loads(conn: Connection) -> dict[int, int]:
    """Open cases held per active collector (user_id -> count)."""
    rows = conn.execute(
        select(assignments.c.user_id, func.count())
        .join(users, users.c.user_id == assignments.c.user_id)
        .join(cases, and_(cases.c.customer_id == assignments.c.customer_id,
                          cases.c.status == "open"))
        .where(users.c.role == Role.COLLECTOR.value, users.c.active.is_(True))
        .group_by(assignments.c.user_id)
    ).all()  # fmt: skip
    return {int(r[0]): int(r[1]) for r in rows}
