"""The business areas' part of the daily run: every registered step (`postloan.areas`), in
dependency order, inside the run's publishing transaction.

Called with the first business date whose account status just changed (a run's first date, or
the date before a deleted one): each step gets the stored dates from there on and brings what
it derives up to date — so a daily run, a backfill, a re-run and a deletion all leave what one
uninterrupted history would. Each step's time goes into the run record (`timings`, by step
name). A step that raises aborts the transaction: the store stays as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from postloan import areas
from postloan.area import RunInputs, StepContext
from postloan.policy import Policy
from postloan.store.dates import stored_dates_from

# progress of a run's steps: (step name, None) when it starts, (name, seconds) when it ends
StepProgress = Callable[[str, float | None], None]


def run_area_steps(
    conn: Connection,
    first: date,
    policy: Policy,
    run_id: int,
    timings: dict[str, float] | None = None,
    now: datetime | None = None,
    inputs: RunInputs | None = None,
    on_step: StepProgress | None = None,
) -> None:
    """Run every registered step from `first` on (module doc); times land in `timings`.
    `inputs`: what the run loaded for the engine, handed to steps that need the portfolio.
    `on_step(name, None)` before a step, `on_step(name, seconds)` after it (progress)."""
    ctx = StepContext(
        conn=conn,
        first=first,
        dates=stored_dates_from(conn, first),
        policy=policy,
        run_id=run_id,
        now=now or datetime.now(UTC),
        inputs=None if inputs is None else (lambda: inputs),
    )
    for step in areas.daily_steps():
        if on_step:
            on_step(step.name, None)
        started = time.perf_counter()
        step.run(ctx)
        took = time.perf_counter() - started
        if timings is not None:
            timings[step.name] = took
        if on_step:
            on_step(step.name, took)
