"""Allocation rules (ORG-1), pure: who gives up a customer, who gets one, and what the log says.

The store side (`collections.allocation`) reads the open cases and the holdings, applies these
decisions and writes the log. Frames in and out:

- open cases: OPEN_CASES (`with_teams` adds the team the case's stage needs);
- registered holdings (`case_collectors` with the holder's user row): REGISTERED;
- collector holdings (every collector's assignment): HOLDINGS;
- active collectors: ACTIVE_COLLECTORS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

COLLECTOR_ROLE = "collector"  # access.roles.Role.COLLECTOR

OPEN_CASES = {
    "customer_id": pl.String, "branch_id": pl.String, "stage": pl.String,
    "priority": pl.Int64, "opened_on": pl.Date,
}  # fmt: skip
REGISTERED = {
    "customer_id": pl.String, "user_id": pl.Int64, "role": pl.String, "active": pl.Boolean,
    "branch_id": pl.String, "team": pl.String,
}  # fmt: skip
HOLDINGS = {
    "customer_id": pl.String, "user_id": pl.Int64, "active": pl.Boolean,
    "branch_id": pl.String, "team": pl.String,
}  # fmt: skip
ACTIVE_COLLECTORS = {"user_id": pl.Int64, "branch_id": pl.String, "team": pl.String}
NEW_CASES = {
    "customer_id": pl.String, "branch_id": pl.String, "team": pl.String,
    "priority": pl.Int64, "opened_on": pl.Date,
}  # fmt: skip
COLLECTORS = {"user_id": pl.Int64, "branch_id": pl.String, "team": pl.String, "load": pl.Int64}
LOG = {
    "customer_id": pl.String, "kind": pl.String, "from_user_id": pl.Int64,
    "to_user_id": pl.Int64, "reason": pl.String,
}  # fmt: skip


@dataclass
class ReassignRefused(Exception):
    """A manual reassignment that cannot be done: `kind` is not_found | conflict | invalid,
    `field` the request field at fault."""

    kind: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        return self.message


def team_of_stage(teams: Mapping[Any, str]) -> pl.Expr:
    """The team the case's `stage` is worked by (null: any collector of the branch)."""
    return pl.col("stage").replace_strict(dict(teams), default=None, return_dtype=pl.String)


def with_teams(open_cases: pl.DataFrame, teams: Mapping[Any, str]) -> pl.DataFrame:
    return open_cases.with_columns(team_of_stage(teams).alias("team"))


def balance(new_cases: pl.DataFrame, collectors: pl.DataFrame, cap: int) -> pl.DataFrame:
    """customer_id, user_id for the new cases that find a collector.

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


def ineligible_reason(teams: Mapping[Any, str]) -> pl.Expr:
    """Why a registered holder may no longer hold the case (null: still eligible). Over a
    registered holding joined to its open case (`case_branch`, `stage`)."""
    team = team_of_stage(teams)
    return (
        pl.when(pl.col("role") != COLLECTOR_ROLE)
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


@dataclass(frozen=True)
class Ended:
    """Registered holdings that end before allocating: `released` (no open case any more) and
    `displaced` (the holder is no longer eligible; `why` says why); `release_log` the log rows
    of the releases (LOG)."""

    released: pl.DataFrame
    displaced: pl.DataFrame
    release_log: pl.DataFrame


def holdings_to_end(
    open_cases: pl.DataFrame, registered: pl.DataFrame, teams: Mapping[Any, str]
) -> Ended:
    """Steps 1 and 2 of the allocation (`collections.allocation` module doc)."""
    released = registered.join(open_cases, on="customer_id", how="anti")
    release_log = released.select(
        "customer_id", pl.lit("release").alias("kind"), pl.col("user_id").alias("from_user_id"),
        pl.lit(None, pl.Int64).alias("to_user_id"), pl.lit("no open case").alias("reason"),
    )  # fmt: skip
    kept = registered.join(
        open_cases.select("customer_id", pl.col("branch_id").alias("case_branch"), "stage"),
        on="customer_id",
    )
    displaced = kept.with_columns(ineligible_reason(teams).alias("why")).filter(
        pl.col("why").is_not_null()
    )
    return Ended(released, displaced, release_log)


@dataclass(frozen=True)
class Allocation:
    """Step 3: `given` (customer_id, user_id: new holdings), `stale` (inactive collectors'
    assignments of customers given to someone else: they go), `orphaned` (registrations whose
    assignment went elsewhere: they go), `log` (LOG rows, by customer) and the counts."""

    given: pl.DataFrame
    stale: pl.DataFrame
    orphaned: pl.DataFrame
    log: pl.DataFrame
    waiting: int  # open cases without an active collector before allocating


def allocation(
    open_cases: pl.DataFrame,
    registered: pl.DataFrame,
    ended: Ended,
    holdings: pl.DataFrame,
    collectors: pl.DataFrame,
    cap: int,
) -> Allocation:
    """Every open case whose customer has no active collector goes to an eligible one
    (`balance`). `holdings` are the collector holdings once the ended ones are gone;
    `collectors` the active collectors (ACTIVE_COLLECTORS)."""
    active = holdings.filter("active")
    waiting = open_cases.join(active, on="customer_id", how="anti")
    load = (
        active.join(open_cases.select("customer_id"), on="customer_id")
        .group_by("user_id")
        .agg(pl.len().cast(pl.Int64).alias("load"))
    )
    loaded = collectors.join(load, on="user_id", how="left").with_columns(
        pl.col("load").fill_null(0)
    )
    given = balance(waiting.select(list(NEW_CASES)), loaded, cap)
    # An inactive collector's assignment of a customer given to someone else goes (exclusive).
    stale = holdings.filter(~pl.col("active")).join(given.select("customer_id"), on="customer_id")
    # A registration whose assignment was removed elsewhere holds nothing: it goes.
    orphaned = (
        registered.join(ended.released, on="customer_id", how="anti")
        .join(ended.displaced, on="customer_id", how="anti")
        .join(active, on=["customer_id", "user_id"], how="anti")
    )
    displaced = ended.displaced
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
    log = pl.concat([entries, dropped]).sort("customer_id")
    return Allocation(given, stale, orphaned, log, waiting.height)


@dataclass(frozen=True)
class Candidate:
    """The collector a supervisor names for a reassignment."""

    user_id: int
    role: str
    active: bool
    branch_id: str | None
    team: str | None


def checked_reason(reason: str, min_length: int) -> str:
    """The reason, stripped; refused when shorter than `min_length` characters."""
    why = reason.strip()
    if len(why) < min_length:
        raise ReassignRefused(
            "invalid", f"reason: state a reason (at least {min_length} characters)", "reason"
        )
    return why


def check_reassignment(
    customer_id: str,
    customer_branch: str | None,
    stage: str | None,
    to_username: str,
    target: Candidate | None,
    previous: int | None,
    teams: Mapping[Any, str],
) -> None:
    """Refuse a manual move (`ReassignRefused`, naming the field) unless the customer has an
    open case (`stage`), the target is an active collector of the customer's branch and of the
    team the stage needs, and not already the customer's collector (`previous`)."""
    if stage is None:
        raise ReassignRefused("conflict", f"customer {customer_id!r} has no open case",
                              "customer_id")  # fmt: skip
    if target is None:
        raise ReassignRefused("invalid", f"to: no user {to_username!r}", "to")
    if target.role != COLLECTOR_ROLE or not target.active:
        raise ReassignRefused("invalid", f"to: {to_username!r} is not an active collector", "to")
    if target.branch_id != customer_branch:
        raise ReassignRefused(
            "invalid",
            f"to: {to_username!r} is of branch {target.branch_id}, the customer of branch "
            f"{customer_branch}",
            "to",
        )
    team = teams.get(stage)
    if team is not None and target.team != team:
        raise ReassignRefused(
            "invalid", f"to: stage {stage} is worked by team {team}, {to_username!r} is in "
            f"team {target.team}", "to",
        )  # fmt: skip
    if previous == target.user_id:
        raise ReassignRefused("conflict", f"to: the customer is already {to_username!r}'s", "to")
