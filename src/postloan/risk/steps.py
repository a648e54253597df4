"""Risk's daily-run steps (`postloan.area.Step`):

- `risk.score` — the RK-1 score per customer for every stored date from the run's first on
  (after account status and churn's identification, whose grades it reads);
- `risk.signals` — the early-warning hits on those dates, the tasks they open (due in working
  days by the policy's calendar) and the watch list rebuilt over all stored dates (after the
  score, whose history `score_drop` compares, and collections' promises, whose broken ones
  `broken_promises` counts);
- `risk.behaviour` — the RK-2 behaviour score with the model registry's approved behaviour
  model (none approved: no scores), each row naming the model id (`risk.behaviour`).

Both derive from `ctx.dates` with delete-then-insert from `first`, so re-running a date or
running dates in any order leaves the same rows; tasks an officer worked are kept."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from postloan.area import Step, StepContext
from postloan.calendar import WorkingCalendar
from postloan.risk import queries
from postloan.risk.rules.score import score
from postloan.risk.rules.signals import signal_hits
from postloan.risk.rules.watch import openings, watch_episodes


def run_score(ctx: StepContext) -> None:
    if not ctx.dates:
        queries.replace_scores(ctx.conn, ctx.first, pl.DataFrame(), ctx.run_id)
        return
    frames = queries.frames_for(ctx)
    scored = score(queries.score_inputs(ctx.conn, ctx.dates, frames), ctx.policy.risk.score)
    queries.replace_scores(ctx.conn, ctx.first, scored, ctx.run_id)


def run_signals(ctx: StepContext) -> None:
    conn, first, signals = ctx.conn, ctx.first, ctx.policy.risk.signals
    every = queries.stored_dates(conn)
    hits = pl.DataFrame(schema=queries.HITS)
    if ctx.dates:
        window = max((s.window_days or 0 for s in signals), default=0)
        lookback = max((s.lookback_days or 0 for s in signals), default=0)
        if len(ctx.dates) == 1:  # the daily run: the date and one comparison row per window
            windows = {s.window_days for s in signals if s.window_days}
            daily = queries.signal_rows(conn, ctx.dates[0], windows)
        else:
            daily = queries.daily_history(conn, first - timedelta(days=2 * window))
        dated = queries.dated_facts(conn, first - timedelta(days=lookback), ctx.dates[-1],
                                    queries.frames_for(ctx))  # fmt: skip
        hits = signal_hits(daily, dated, signals, ctx.dates)
    queries.replace_hits(conn, first, hits)

    # Tasks: a run of hits that starts on or after `first` (the stored date before it tells
    # whether a run on `first` started there).
    before = queries.day_before(every, first)
    since = before or first
    opened = openings(queries.hits_since(conn, since), [d for d in every if d >= since])
    opened = opened.filter(pl.col("opened_on") >= first)
    queries.replace_open_tasks(conn, first, _tasks(opened, ctx))

    # The watch list from `before` on: a state on D depends on hits in (D − longest exit
    # period, D], so older hits are not read and episodes over before `before` stay stored.
    longest = max((s.exit_clean_days for s in signals if s.watch), default=0)
    recent = queries.hits_since(conn, since - timedelta(days=longest))
    episodes = watch_episodes(recent, signals, [d for d in every if d >= since])
    queries.update_watch(conn, first, before, episodes)


def _tasks(opened: pl.DataFrame, ctx: StepContext) -> pl.DataFrame:
    """Openings with what the catalogue says (severity, owner, response) and the due date."""
    by_id = {s.id: s for s in ctx.policy.risk.signals}
    opened = opened.filter(pl.col("signal_id").is_in(list(by_id)))
    calendar = WorkingCalendar.from_policy(ctx.policy)
    # The calendar is asked once per distinct (date, signal), then joined: no per-task loop.
    pairs = opened.select("opened_on", "signal_id").unique()
    due = pairs.with_columns(
        due_on=pl.Series([calendar.add_working_days(d, by_id[sid].deadline_working_days)
                          for d, sid in pairs.rows()], dtype=pl.Date)
    )  # fmt: skip
    branch = queries.frames_for(ctx).customers.select("customer_id", "branch_id")
    return opened.join(due, on=["opened_on", "signal_id"]).join(
        branch, on="customer_id", how="left"
    ).with_columns(
        severity=pl.col("signal_id").replace_strict({k: v.severity for k, v in by_id.items()}),
        owner_role=pl.col("signal_id").replace_strict({k: v.owner_role for k, v in by_id.items()}),
        response=pl.col("signal_id").replace_strict({k: v.response for k, v in by_id.items()}),
    )  # fmt: skip


def run_behaviour(ctx: StepContext) -> None:
    """RK-2 with the registry's approved behaviour model (risk.behaviour). Without one (asked
    by one small query) nothing is loaded: the rows from the run's first date are removed."""
    from postloan.risk import behaviour_queries, registry

    if not ctx.dates or registry.approved_id(ctx.conn, "behaviour") is None:
        behaviour_queries.replace_scores(ctx.conn, ctx.first, pl.DataFrame())
        return
    from postloan.risk.behaviour import run_behaviour as score_behaviour

    score_behaviour(ctx)


STEPS: tuple[Step, ...] = (
    Step("risk.score", run_score, after=("account_status", "churn.identify")),
    Step("risk.signals", run_signals, after=("risk.score", "collections.promises")),
    Step("risk.behaviour", run_behaviour, after=("risk.score",)),
)
