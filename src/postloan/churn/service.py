"""Churn's part of the daily run (`churn.steps`): identify the run's dates, then bring the pool
up to date from the run's first date on. Flushes, never commits (the run commits once).

Identification of a date is a function of the data as of that date and the policy, computed
for the dates this run stored (`queries.own_dates`); a date whose status was deleted loses its
rows. The pool's episodes, exits and screenings are then rebuilt from the first date that
changed (`rules.pool`): they depend only on the stored identification rows, so running dates
in any order, or re-running one, leaves the same pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import Connection

from postloan.area import RunInputs, StepContext
from postloan.churn import queries
from postloan.churn.complaints import with_complaints
from postloan.churn.rules.grading import grade
from postloan.churn.rules.identify import ChurnInputs, identify, lateness_wanted
from postloan.churn.rules.lateness import engine_keep
from postloan.churn.rules.pool import (
    LIVE,
    exit_reasons,
    rules_text,
    screen,
    screening_dates,
    walk,
)
from postloan.engine.lateness import LatenessWanted
from postloan.policy import Policy


@dataclass(frozen=True)
class ChurnStepResult:
    identified_dates: int
    identified: int  # rows over those dates
    episodes_rebuilt: int


def lateness_request(frames: queries.ChurnFrames | None, policy: Policy) -> LatenessWanted:
    """Churn's `Area.lateness`: rules (a)/(b)'s counters from the engine's pass, kept for
    the accounts that may meet a rule and the open accounts of customers with an
    `account_closed` event (rule (c) asks whether they have one; `identify` narrows this to
    the events dated by the run's dates)."""
    events = frames.events if frames is not None else None
    closing = (
        events.filter(pl.col("type") == "account_closed").get_column("customer_id").unique()
        if events is not None
        else pl.Series("customer_id", [], dtype=pl.String)
    )
    products = frames.products if frames is not None else None
    wanted = lateness_wanted(policy, closing, products)
    return LatenessWanted(wanted.lookback_months, engine_keep(wanted))


def run_churn(ctx: StepContext) -> ChurnStepResult:
    """The daily-run step (module doc)."""
    conn, policy = ctx.conn, ctx.policy
    own = queries.own_dates(conn, ctx.run_id, ctx.dates)
    stored = set(ctx.dates)
    gone = [d for d in queries.churn_dates_from(conn, ctx.first) if d not in stored]
    queries.forget_dates(conn, sorted(set(own) | set(gone)))
    graded = None
    if own:
        if ctx.inputs is not None:
            inputs = ctx.inputs()
            frames = inputs.extras.get("churn") or queries.frames_on(conn, policy)
        else:  # a step run outside a daily run (tests): read on the step's connection
            inputs, frames = queries.portfolio_on(conn), queries.frames_on(conn, policy)
        frames = with_complaints(conn, frames)  # relationship's complaints: reason "service"
        graded = identify_dates(conn, inputs, frames, own, policy, ctx.run_id)
    rebuilt = rebuild_pool(conn, ctx.first, policy, graded)
    return ChurnStepResult(len(own), 0 if graded is None else graded.height, rebuilt)


def identify_dates(
    conn: Connection,
    inputs: RunInputs,
    frames: queries.ChurnFrames,
    dates: list[date],
    policy: Policy,
    run_id: int,
) -> pl.DataFrame:
    """Identify, grade and store the customers churned on each of `dates` (GRADED)."""
    events, customers, products = frames.events, frames.customers, frames.products
    portfolio = inputs.portfolio
    # The counters of rules (a)/(b) from the run's engine pass when it computed them for
    # every date identified here (`lateness_request`); else computed by `identify` itself.
    computed = inputs.lateness.get("churn")
    late = computed.rows if computed is not None and set(dates) <= set(computed.dates) else None
    found = identify(
        ChurnInputs(portfolio, events, inputs.changes.changes, products, late), dates, policy
    )
    status = queries.status_of(conn, found.select("as_of", "customer_id"))
    openings = pl.concat([
        portfolio.loans.select("customer_id", pl.col("disbursement_date").alias("date")),
        portfolio.cards.select("customer_id", pl.col("open_date").alias("date")),
    ])  # fmt: skip
    graded = grade(found, status, customers, events, openings, policy)
    queries.store_identified(conn, graded, dates, run_id, policy.version)
    return graded


def rebuild_pool(
    conn: Connection, first: date, policy: Policy, known: pl.DataFrame | None = None
) -> int:
    """Episodes (with exit reasons) and screenings from `first` on; returns the episode rows
    written. `known`: GRADED rows just stored (not read back)."""
    days = queries.churn_dates_from(conn, first)
    stored = queries.live_episodes(conn, first)
    rows = _identified(conn, days, known)
    episodes = walk(_live_before(conn, first, stored), days, rows)
    closed = episodes.filter(pl.col("left_on").is_not_null())
    if closed.height:
        facts = queries.exit_facts(
            conn,
            closed.get_column("customer_id").to_list(),
            closed.get_column("last_identified").min(),  # type: ignore[arg-type]
            closed.get_column("left_on").max(),  # type: ignore[arg-type]
        )
        closed = exit_reasons(closed, facts)
    else:
        closed = closed.with_columns(pl.lit(None, dtype=pl.String).alias("exit_reason"))
    still = episodes.filter(pl.col("left_on").is_null()).with_columns(
        pl.lit(None, dtype=pl.String).alias("exit_reason")
    )
    walked = pl.concat([closed, still])
    written = queries.write_episodes(conn, first, walked, stored)
    queries.write_grades(conn, first, walked, rows)
    _screen(conn, first, policy, known)
    return written


def _identified(conn: Connection, days: list[date], known: pl.DataFrame | None) -> pl.DataFrame:
    """as_of, customer_id and the rule flags on `days`: from `known` for its dates, the
    store for the others."""
    mine = set() if known is None else set(known.get_column("as_of").unique().to_list())
    read = queries.identified_rules(conn, [d for d in days if d not in mine])
    if known is None:
        return read
    return pl.concat([read, known.filter(pl.col("as_of").is_in(days)).select(read.columns)])


def _live_before(conn: Connection, first: date, stored: pl.DataFrame) -> pl.DataFrame:
    """The episodes in the pool on the churn date before `first`, as they stood then: last
    identified on that date, with that date's rules (their stored end may lie past it)."""
    prev = queries.churn_date_before(conn, first)
    if prev is None or stored.height == 0:
        return pl.DataFrame(schema=LIVE)
    then = queries.identified_rules(conn, [prev]).select(
        "customer_id", rules_text().alias("last_rules")
    )
    return (
        stored.join(then, on="customer_id")
        .with_columns(pl.lit(prev).alias("last_identified"))
        .select(list(LIVE))
    )


def _screen(conn: Connection, first: date, policy: Policy, known: pl.DataFrame | None) -> None:
    month_start = first.replace(day=1)
    every = policy.churn.screening.every_months
    due = [d for d in screening_dates(queries.churn_dates_from(conn, month_start), every)
           if d >= first]  # fmt: skip
    mine = set() if known is None else set(known.get_column("as_of").unique().to_list())
    rows = queries.screening_rows(conn, [d for d in due if d not in mine])
    if known is not None and any(d in mine for d in due):
        rows = pl.concat([rows, queries.screening_frame(
            known.filter(pl.col("as_of").is_in(due)))])  # fmt: skip
    queries.replace_screenings(conn, first, screen(rows, policy))
