"""Tiering's part of the daily run (`tiering.steps`): classify, tier and score every customer
with accounts in status on each stored date from the run's first date on. Flushes, never
commits (the run commits once).

Every date from `first` on is re-derived, in date order, starting from the hysteresis state
stored for the date before `first`: a date's rows depend only on its account status, the
customer, loan, card and card statement files, the cases open then, the policy and the state
of the stored date before — so re-running a date, or running dates in any order, leaves the
same rows. (A date deleted leaves no rows: `ctx.dates` no longer holds it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from postloan.area import StepContext
from postloan.policy import Policy
from postloan.tiering import queries
from postloan.tiering.rules.abc import abc
from postloan.tiering.rules.classify import classify
from postloan.tiering.rules.hysteresis import hold
from postloan.tiering.rules.need import need_of
from postloan.tiering.rules.rfm import rfm
from postloan.tiering.rules.tree import tree_floor


@dataclass(frozen=True)
class TierStepResult:
    dates: int
    rows: int


def tier_day(
    status: pl.DataFrame,
    loans: pl.DataFrame,
    customers: pl.DataFrame,
    statements: pl.DataFrame,
    cards: pl.DataFrame,
    cases: pl.DataFrame,
    state: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """One date's rows (tier_assignments' columns but run_id) from its STATUS, the files
    (LOANS, CUSTOMERS, STATEMENTS, need.CARDS), the CASES and the STATE of the stored date
    before."""
    classified = classify(status, loans, customers, cases, policy)
    scores = rfm(status, loans, statements, policy).drop("as_of")
    values = abc(status, loans, policy).drop("as_of")
    needs = need_of(status, loans, cards, policy).drop("as_of")
    found = tree_floor(classified.join(scores, on="customer_id", how="left"), policy)
    held = hold(found, state, policy.tiering.upgrade_after_dates)
    return (
        found.join(held, on="customer_id", how="left")
        .join(values, on="customer_id", how="left")
        .join(needs, on="customer_id", how="left")
        .sort("customer_id")
    )


def run_tiering(ctx: StepContext) -> TierStepResult:
    """The daily-run step (module doc)."""
    conn, policy = ctx.conn, ctx.policy
    queries.forget_from(conn, ctx.first)
    if not ctx.dates:
        return TierStepResult(0, 0)
    loaded = ctx.inputs().extras.get("tiering") if ctx.inputs is not None else None
    files = loaded if isinstance(loaded, queries.TierFrames) else queries.frames_on(conn)
    loans, customers = files.loans, files.customers
    cases = queries.cases(conn)
    state = queries.state_on(conn, queries.date_before(conn, ctx.first))
    rows = 0
    for day in ctx.dates:  # in order: each date's state is the next one's start
        status = queries.status_of(conn, day)
        if status.height == 0:
            continue
        found = tier_day(status, loans, customers, files.statements, files.cards, cases, state,
                         policy)  # fmt: skip
        queries.store(conn, day, found, ctx.run_id, policy.version)
        state = found.select("customer_id", "tier", "streak", "streak_worst")
        rows += found.height
    return TierStepResult(len(ctx.dates), rows)
