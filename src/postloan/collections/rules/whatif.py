"""Collections' part of the policy what-if, pure: the cases a policy's account status would
open, move and close over a run of dates, replayed with the daily run's own rule
(`cases.case_changes`) from the cases open before the first date, and the work they make —
cases per stage (the queues), per treatment strategy (`rules.strategies.choose_strategies`)
and per (branch, team) the stage needs (`rules.allocation.with_teams`).

Nothing is stored: the cases are frames with replay-local ids. The loop is over dates, each
date set-based over its customers (as the daily step).

Not replayed: which collector holds each case. Allocation is as of the latest date from the
collectors' current holdings and loads (`collections.allocation`); the holdings of past dates
are not kept, so a per-collector workload for another policy would be invented — the team
workload is the nearest replayable figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from postloan.collections.cases import OPEN_CASES, case_changes
from postloan.collections.rules.allocation import with_teams
from postloan.collections.rules.strategies import choose_strategies
from postloan.policy import Policy

# The cases open before the first replayed date (as stored): their stage, when the case
# opened and when it entered that stage.
OPEN_BEFORE = {
    "customer_id": pl.String, "stage": pl.String, "opened_on": pl.Date, "entered_on": pl.Date,
}  # fmt: skip
# Overdue account-status rows (DPD > 0) of many dates.
OVERDUE = {
    "as_of": pl.Date, "customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
    "bucket": pl.String, "overdue_amount": pl.Int64,
}  # fmt: skip
DAILY = {"as_of": pl.Date, "open": pl.Int64, "opened": pl.Int64, "moved": pl.Int64,
         "closed": pl.Int64}  # fmt: skip


@dataclass(frozen=True)
class Replayed:
    daily: pl.DataFrame  # DAILY: per date, cases open after it, opened, moved, closed
    stages: pl.DataFrame  # as_of, stage, cases (open after the date)
    last: pl.DataFrame  # OPEN_BEFORE columns: the cases open after the last date


def replay(
    open_before: pl.DataFrame, overdue: pl.DataFrame, dates: Sequence[date], policy: Policy
) -> Replayed:
    """The cases of `dates` under `policy` (module doc)."""
    meta = open_before.cast(OPEN_BEFORE)  # type: ignore[arg-type]
    meta = meta.with_row_index("case_id").with_columns(pl.col("case_id").cast(pl.Int64))
    next_id = meta.height
    daily: list[tuple[Any, ...]] = []
    stages: list[pl.DataFrame] = []
    by_date = overdue.partition_by("as_of", as_dict=True, maintain_order=True)
    for day in dates:
        today = by_date.get((day,), overdue.clear()).drop("as_of")
        changes = case_changes(meta.select(list(OPEN_CASES)), today, policy, day)
        fresh = changes.opened.select("customer_id").with_row_index("new_id", offset=next_id)
        next_id += fresh.height
        moved = changes.moved.select("customer_id", pl.lit(True).alias("_moved"))
        meta = (
            changes.current.select("customer_id", "stage", "case_id")
            .join(fresh, on="customer_id", how="left")
            .join(meta.select("customer_id", "opened_on", "entered_on"), on="customer_id",
                  how="left")
            .join(moved, on="customer_id", how="left")
            .select(
                pl.col("case_id").fill_null(pl.col("new_id").cast(pl.Int64)),
                "customer_id", "stage",
                pl.col("opened_on").fill_null(day),
                pl.when(pl.col("_moved").fill_null(False)).then(pl.lit(day))
                .otherwise(pl.col("entered_on")).fill_null(day).alias("entered_on"),
            )
        )  # fmt: skip
        daily.append((day, meta.height, changes.opened.height, changes.moved.height,
                      changes.closed.height))  # fmt: skip
        stages.append(
            meta.group_by("stage").agg(pl.len().cast(pl.Int64).alias("cases"))
            .select(pl.lit(day, pl.Date).alias("as_of"), "stage", "cases")
        )  # fmt: skip
    stage_schema = {"as_of": pl.Date, "stage": pl.String, "cases": pl.Int64}
    return Replayed(
        pl.DataFrame(daily, schema=DAILY, orient="row"),
        pl.concat(stages).sort("as_of", "stage") if stages else pl.DataFrame(schema=stage_schema),
        meta.drop("case_id").cast(OPEN_BEFORE),  # type: ignore[arg-type]
    )


def by_strategy(open_cases: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """stage, strategy, arm, cases: the treatment each open case's current stage gets."""
    entries = open_cases.select(
        "customer_id", pl.col("opened_on").alias("case_opened_on"), "entered_on", "stage"
    )
    chosen = choose_strategies(entries, policy)
    return (
        chosen.group_by("stage", "strategy", "arm")
        .agg(pl.len().cast(pl.Int64).alias("cases"))
        .sort("stage", "strategy", "arm")
    )


def by_team(
    open_cases: pl.DataFrame, branches: pl.DataFrame, teams: Mapping[Any, str]
) -> pl.DataFrame:
    """branch_id, team, cases: the open cases each (branch, team) pool would work (team null:
    any collector of the branch). `branches`: customer_id, branch_id."""
    placed = with_teams(open_cases.join(branches, on="customer_id", how="left"), teams)
    return (
        placed.group_by("branch_id", "team")
        .agg(pl.len().cast(pl.Int64).alias("cases"))
        .sort("branch_id", "team", nulls_last=True)
    )
