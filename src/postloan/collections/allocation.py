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
from postloan.collections.tables import cases
from postloan.policy import Policy
from postloan.store.schema import customers
from postloan.store.values import rows_frame

SYSTEM = "system"  # the actor of the daily run's rows

NEW_CASES = {
    "customer_id": pl.String, "branch_id": pl.String, "team": pl.String,
    "priority": pl.Int64, "opened_on": pl.Date,
}  # fmt: skip
COLLECTORS = {"user_id": pl.Int64, "branch_id": pl.String, "team": pl.String, "load": pl.Int64}


@dataclass(frozen=True)
class AllocationResult:
    allocated: int
    released: int
    displaced: int
    unallocated: int  # open cases left without a collector (no eligible collector with room)


@dataclass
class ReassignRefused(Exception):
    """A manual reassignment that cannot be done: `kind` is not_found | conflict | invalid,
    `field` the request field at fault."""

    kind: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


def balance(new_cases: pl.DataFrame, collectors: pl.DataFrame, cap: int) -> pl.DataFrame:
    """customer_id, user_id for the new cases that find a collector (pure).

    new_cases: NEW_CASES (team null = any collector of the branch); collectors: COLLECTORS
    (their current open-case load). A pool is (branch, team); pools are filled one after the
    other (teams first, "any team" last), the loads carried from pool to pool. In a pool the
    k-th case (priority desc, opened_on, customer_id) takes the k-th lowest free slot, a slot
    being (load level, user_id) of a collector below `cap`."""
    loads = collectors.select("user_id", "load")
    out = []
    pools = (
        new_cases.select("branch_id", "team")
        .unique()
        .drop_nulls("branch_id")
        .sort("branch_id", "team", nulls_last=True)
    )
    for branch, team in pools.iter_rows():  # a handful of pools, not cases
        in_pool = pl.col("branch_id") == branch
        same_team = pl.col("team").is_null() if team is None else pl.col("team") == team
        waiting = new_cases.filter(in_pool & same_team).sort(
            ["priority", "opened_on", "customer_id"], descending=[True, False, False]
        )
        eligible = collectors.filter(in_pool)
        if team is not None:
            eligible = eligible.filter(pl.col("team") == team)
        eligible = eligible.select("user_id").join(loads, on="user_id")
        n = waiting.height
        slots = (
            eligible.with_columns(
                pl.int_ranges("load", pl.min_horizontal(pl.col("load") + n, pl.lit(cap))).alias(
                    "level"
                )
            )
            .explode("level")
            .drop_nulls("level")
            .sort("level", "user_id")
            .head(n)
        )
        given = waiting.head(slots.height).select("customer_id").with_columns(slots["user_id"])
        out.append(given)
        taken = given.group_by("user_id").len()
        loads = loads.join(taken, on="user_id", how="left").select(
            "user_id", (pl.col("load") + pl.col("len").fill_null(0)).alias("load")
        )
    if not out:
        return pl.DataFrame(schema={"customer_id": pl.String, "user_id": pl.Int64})
    return pl.concat(out).sort("customer_id")


def _team_of_stage(policy: Policy) -> pl.Expr:
    teams = dict(policy.case_allocation.teams)
    return pl.col("stage").replace_strict(teams, default=None, return_dtype=pl.String)


def _open_cases(conn: Connection, policy: Policy) -> pl.DataFrame:
    rows = conn.execute(
        select(cases.c.customer_id, customers.c.branch_id, cases.c.stage, cases.c.priority,
               cases.c.opened_on)
        .join(customers, customers.c.customer_id == cases.c.customer_id)
        .where(cases.c.status == "open")
    ).all()  # fmt: skip
    frame = rows_frame(
        rows,
        {"customer_id": pl.String, "branch_id": pl.String, "stage": pl.String,
         "priority": pl.Int64, "opened_on": pl.Date},
    )  # fmt: skip
    return frame.with_columns(_team_of_stage(policy).alias("team"))


def _collector_holdings(conn: Connection) -> pl.DataFrame:
    """customer_id, user_id, active, branch_id, team of every collector's assignment."""
    rows = conn.execute(
        select(assignments.c.customer_id, users.c.user_id, users.c.active, users.c.branch_id,
               users.c.team)
        .join(users, users.c.user_id == assignments.c.user_id)
        .where(users.c.role == Role.COLLECTOR.value)
    ).all()  # fmt: skip
    return rows_frame(
        [(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows],
        {"customer_id": pl.String, "user_id": pl.Int64, "active": pl.Boolean,
         "branch_id": pl.String, "team": pl.String},
    )  # fmt: skip


def _registered(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        select(case_collectors.c.customer_id, case_collectors.c.user_id, users.c.role,
               users.c.active, users.c.branch_id, users.c.team)
        .join(users, users.c.user_id == case_collectors.c.user_id)
    ).all()  # fmt: skip
    return rows_frame(
        [(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows],
        {"customer_id": pl.String, "user_id": pl.Int64, "role": pl.String,
         "active": pl.Boolean, "branch_id": pl.String, "team": pl.String},
    )  # fmt: skip


def _active_collectors(conn: Connection) -> pl.DataFrame:
    rows = conn.execute(
        select(users.c.user_id, users.c.branch_id, users.c.team).where(
            users.c.role == Role.COLLECTOR.value, users.c.active.is_(True)
        )
    ).all()
    return rows_frame(rows, {"user_id": pl.Int64, "branch_id": pl.String, "team": pl.String})


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


def _entries(frame: pl.DataFrame, kind: str, reason: str | pl.Expr) -> list[dict[str, Any]]:
    text = pl.lit(reason) if isinstance(reason, str) else reason
    return frame.select(
        "customer_id", pl.lit(kind).alias("kind"), "from_user_id", "to_user_id",
        text.alias("reason"),
    ).to_dicts()  # fmt: skip


def _ineligible_reason(policy: Policy) -> pl.Expr:
    """Why a registered holder may no longer hold the case (null: still eligible)."""
    team = _team_of_stage(policy)
    return (
        pl.when(pl.col("role") != Role.COLLECTOR.value)
        .then(pl.lit("holder is no longer a collector"))
        .when(~pl.col("active"))
        .then(pl.lit("holder is inactive"))
        .when(pl.col("branch_id").is_null() | (pl.col("branch_id") != pl.col("case_branch")))
        .then(pl.lit("holder is not of the customer's branch"))
        .when(team.is_not_null() & (pl.col("team").is_null() | (pl.col("team") != team)))
        .then(pl.concat_str(pl.lit("stage "), pl.col("stage"), pl.lit(" is worked by team "),
                            team))
        .otherwise(None)
    )  # fmt: skip


def allocate_cases(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`): module doc."""
    if days:
        allocate(conn, days[-1], policy, datetime.now(UTC))


def allocate(conn: Connection, day: date, policy: Policy, now: datetime) -> AllocationResult:
    """Release, displace and allocate as of `day` (module doc); `now` stamps the log."""
    open_cases = _open_cases(conn, policy)
    registered = _registered(conn)
    # 1. release: registered holdings without an open case
    released = registered.join(open_cases, on="customer_id", how="anti")
    _end_holdings(conn, released)
    _log(conn, _entries(released.rename({"user_id": "from_user_id"})
                        .with_columns(pl.lit(None, pl.Int64).alias("to_user_id")),
                        "release", "no open case"),
         by=SYSTEM, now=now, business_date=day)  # fmt: skip
    # 2. displace: registered holders no longer eligible for the case
    kept = registered.join(
        open_cases.select("customer_id", pl.col("branch_id").alias("case_branch"), "stage"),
        on="customer_id",
    )
    displaced = kept.with_columns(_ineligible_reason(policy).alias("why")).filter(
        pl.col("why").is_not_null()
    )
    _end_holdings(conn, displaced)
    # 3. allocate the customers without an active collector
    holdings = _collector_holdings(conn)
    active = holdings.filter("active")
    waiting = open_cases.join(active, on="customer_id", how="anti")
    load = (
        active.join(open_cases.select("customer_id"), on="customer_id")
        .group_by("user_id")
        .agg(pl.len().cast(pl.Int64).alias("load"))
    )
    collectors = (
        _active_collectors(conn)
        .join(load, on="user_id", how="left")
        .with_columns(pl.col("load").fill_null(0))
    )
    given = balance(
        waiting.select(list(NEW_CASES)),
        collectors,
        policy.case_allocation.max_open_cases_per_collector,
    )
    # An inactive collector's assignment of a customer given to someone else goes (exclusive).
    stale = holdings.filter(~pl.col("active")).join(given.select("customer_id"), on="customer_id")
    _end_holdings(conn, stale)
    # A registration whose assignment was removed elsewhere holds nothing: it goes.
    orphaned = (
        registered.join(released, on="customer_id", how="anti")
        .join(displaced, on="customer_id", how="anti")
        .join(active, on=["customer_id", "user_id"], how="anti")
    )
    if orphaned.height:
        conn.execute(_UNREGISTER, [{"cid": c} for c in orphaned["customer_id"]])
    if given.height:
        conn.execute(
            case_collectors.insert(),
            [{"customer_id": c, "user_id": u, "how": "auto", "assigned_at": now}
             for c, u in given.rows()],
        )  # fmt: skip
        conn.execute(
            assignments.insert(),
            [{"customer_id": c, "user_id": u, "assigned_at": now} for c, u in given.rows()],
        )
    previous = pl.concat(
        [displaced.select("customer_id", pl.col("user_id").alias("from_user_id"), "why"),
         stale.select("customer_id", pl.col("user_id").alias("from_user_id"),
                      pl.lit("holder is inactive").alias("why"))]
    ).unique("customer_id", keep="first")  # fmt: skip
    moved = given.rename({"user_id": "to_user_id"}).join(previous, on="customer_id", how="left")
    reason = pl.when(pl.col("why").is_null()).then(pl.lit("new case")).otherwise(pl.col("why"))
    kind = pl.when(pl.col("from_user_id").is_null()).then(pl.lit("allocate"))
    entries = moved.with_columns(
        kind.otherwise(pl.lit("reallocate")).alias("kind"), reason.alias("reason")
    ).select("customer_id", "kind", "from_user_id", "to_user_id", "reason")
    dropped = displaced.join(given, on="customer_id", how="anti").select(
        "customer_id", pl.lit("release").alias("kind"), pl.col("user_id").alias("from_user_id"),
        pl.lit(None, pl.Int64).alias("to_user_id"), pl.col("why").alias("reason"),
    )  # fmt: skip
    _log(conn, pl.concat([entries, dropped]).sort("customer_id").to_dicts(), by=SYSTEM, now=now,
         business_date=day)  # fmt: skip
    return AllocationResult(
        allocated=given.height,
        released=released.height,
        displaced=displaced.height,
        unallocated=waiting.height - given.height,
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
    """A supervisor moves the customer's open case to another collector (module doc). Raises
    `ReassignRefused` naming the field; the caller commits."""
    customer = visible_customer(conn, actor, customer_id, CollectionsAction.CASE_ASSIGN)
    if customer is None:
        raise ReassignRefused("not_found", f"customer {customer_id!r} not found", "customer_id")
    why = reason.strip()
    if len(why) < MIN_REASON_LENGTH:
        raise ReassignRefused(
            "invalid", f"reason: state a reason (at least {MIN_REASON_LENGTH} characters)",
            "reason",
        )  # fmt: skip
    case = conn.execute(
        select(cases.c.stage).where(cases.c.customer_id == customer_id, cases.c.status == "open")
    ).first()
    if case is None:
        raise ReassignRefused("conflict", f"customer {customer_id!r} has no open case",
                              "customer_id")  # fmt: skip
    target = conn.execute(select(users).where(users.c.username == to_username)).first()
    if target is None:
        raise ReassignRefused("invalid", f"to: no user {to_username!r}", "to")
    if target.role != Role.COLLECTOR.value or not target.active:
        raise ReassignRefused("invalid", f"to: {to_username!r} is not an active collector", "to")
    if target.branch_id != customer.branch_id:
        raise ReassignRefused(
            "invalid",
            f"to: {to_username!r} is of branch {target.branch_id}, the customer of branch "
            f"{customer.branch_id}",
            "to",
        )
    team = policy.case_allocation.teams.get(case.stage)
    if team is not None and target.team != team:
        raise ReassignRefused(
            "invalid", f"to: stage {case.stage} is worked by team {team}, {to_username!r} is in "
            f"team {target.team}", "to",
        )  # fmt: skip
    previous = collector_of(conn, customer_id)
    if previous == target.user_id:
        raise ReassignRefused("conflict", f"to: the customer is already {to_username!r}'s", "to")
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
