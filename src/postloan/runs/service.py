"""`postloan run`: compute account status for business dates and store it.

A run is a function of (data known, D, policy version): re-running D replaces D's rows with the
same answer. A run is all or nothing: its rows are first staged window by window
(`staged_status`, invisible to readers), then one transaction replaces the dates' rows in
`account_status`, runs the business areas' steps over them (`runs.steps`: collections' cases,
strategies, allocation …, each timed in the run record) and marks the run succeeded. A run that
fails anywhere — the engine, the write, a step, a killed process — leaves every stored date and
case as it was; only its record in `runs` says it failed.

Before anything is written the dates are checked against the policy's window
(`runs.window`), and runs whose process died are marked failed (`runs.liveness`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, false, insert, select, text, update

from postloan import areas
from postloan.area import RunInputs
from postloan.engine.frames import ACCOUNT_STATUS
from postloan.engine.lateness import Lateness, LatenessWanted
from postloan.engine.restructure import classify, restructuring_history
from postloan.engine.schedule_versions import ScheduleVersions
from postloan.policy import Policy, canonical_json
from postloan.runs.liveness import RunLock, fail_abandoned_runs
from postloan.runs.load import load_changes, load_contract_portfolio
from postloan.runs.steps import StepProgress, run_area_steps
from postloan.runs.window import check_run_dates
from postloan.store import bulk
from postloan.store.db import engine_for
from postloan.store.schema import account_status, policy_versions, runs, staged_status

WINDOW = 31  # dates computed (and staged) together in a backfill
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    dates: int
    rows: int
    timings: dict[str, float]


def record_policy(conn: Connection, policy: Policy) -> None:
    """Keep the policy's content under its version (runs and status rows name the version)."""
    known = conn.execute(
        select(policy_versions.c.version).where(policy_versions.c.version == policy.version)
    ).first()
    if not known:
        conn.execute(
            insert(policy_versions).values(
                version=policy.version,
                content=canonical_json(policy),
                recorded_at=datetime.now(UTC),
            )
        )


def take_write_lock(conn: Connection) -> None:
    """Writers of stored dates (a run's start and publish, a date's deletion) take turns, for
    the rest of the transaction.

    SQLite: take the database's write lock before the first read — a transaction that reads
    and then writes fails at once ("database is locked") when another writer committed in
    between (its snapshot is stale); a no-op UPDATE makes it wait its turn instead.
    PostgreSQL: a transaction-scoped advisory lock per schema. Without it, two runs publishing
    the same date at once both delete the old rows and the second insert hits the first's
    (a DELETE does not see rows committed after it started)."""
    if conn.dialect.name == "sqlite":
        conn.execute(update(runs).where(false()).values(status=runs.c.status))
    else:
        conn.execute(text(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() "
            "|| '.postloan-status-writers', 0))"
        ))  # fmt: skip


def _start(
    url: str, kind: str, ordered: list[date], policy: Policy, today: date | None
) -> tuple[int, RunLock]:
    """Check the dates, then record the run as running and take its liveness lock — in the
    transaction that inserts the record, so nobody sees it running without the lock."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            take_write_lock(conn)
            fields = ("as_of", "as_of") if len(ordered) == 1 else ("from", "to")
            check_run_dates(conn, ordered[0], ordered[-1], policy, fields, today)
            record_policy(conn, policy)
            key = conn.execute(
                insert(runs).values(
                    kind=kind, date_from=ordered[0], date_to=ordered[-1],
                    policy_version=policy.version, status="running", started_at=datetime.now(UTC),
                )
            ).inserted_primary_key  # fmt: skip
            assert key is not None
            run_id = int(key[0])
            lock = RunLock.hold(url, run_id)
    finally:
        engine.dispose()
    return run_id, lock


def _finished(run_id: int, status: str, rows: int, timings: dict[str, float],
              error: str | None = None) -> Any:  # fmt: skip
    return (
        update(runs)
        .where(runs.c.run_id == run_id)
        .values(
            status=status,
            finished_at=datetime.now(UTC),
            rows=rows,
            timings={k: round(v, 3) for k, v in timings.items()},
            error=error,
        )
    )


def _fail(url: str, run_id: int, timings: dict[str, float], exc: BaseException) -> None:
    """Record the failure and drop what the run staged. If even this fails (the database is
    gone), the record stays `running` and the next run's start marks it failed."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(delete(staged_status).where(staged_status.c.run_id == run_id))
            conn.execute(_finished(run_id, "failed", 0, timings, f"{type(exc).__name__}: {exc}"))
    except Exception:
        pass  # the run's own error is the one to report
    finally:
        engine.dispose()


def _stage(
    url: str, ordered: list[date], policy: Policy, run_id: int, timings: dict[str, float],
    progress: Progress | None,
) -> tuple[int, RunInputs]:  # fmt: skip
    """Compute every date and append its rows to `staged_status`, window by window (each
    window committed: staged rows are the run's alone, no reader looks at them). Returns the
    rows and what was loaded (handed to the areas' steps: no step loads the portfolio again)."""
    rows = 0
    with bulk.connect(url) as conn:
        t = time.perf_counter()
        portfolio = load_contract_portfolio(conn)
        # Repayment agreements: each date is computed with the schedules in force on it
        # (engine.schedule_versions), and restructured loans are classified from their
        # DPD on every day since their agreement (engine.restructure) — recomputed here,
        # not read back, so a date's answer never depends on which dates were run before.
        found = load_changes(conn)
        changes, agreements, dues = found.changes, found.restructurings, found.agreed_dues
        # What the areas' steps read in bulk, now (a step must not open a bulk connection
        # inside the publishing transaction: `area.RunInputs`).
        extras = {name: load(conn, policy) for name, load in areas.run_loaders().items()}
        asker, wanted = _lateness_request(extras, policy)
        # End the read transaction now: holding it through the engine would make another
        # writer's commit (an import, a second run) fail this run's write on SQLite.
        conn.commit()
        timings["load"] += time.perf_counter() - t
        t = time.perf_counter()
        history = restructuring_history(portfolio, changes, agreements, ordered, policy)
        versions = ScheduleVersions(portfolio, changes)
        timings["engine"] += time.perf_counter() - t
        late_parts = []
        for i in range(0, len(ordered), WINDOW):
            window = ordered[i : i + WINDOW]
            t = time.perf_counter()
            status, late = versions.status_and_lateness(window, policy, wanted)
            late_parts.append(late)
            status = classify(status, agreements, dues, history, policy)
            timings["engine"] += time.perf_counter() - t
            t = time.perf_counter()
            frame = status.select(*ACCOUNT_STATUS, "restructured")
            rows += bulk.ingest(
                conn, "staged_status", frame.with_columns(pl.lit(run_id).alias("run_id"))
            )
            conn.commit()
            timings["write"] += time.perf_counter() - t
            if progress:
                progress(i + len(window), len(ordered))
    lateness = {asker: Lateness(tuple(ordered), pl.concat(late_parts))} if asker else {}
    return rows, RunInputs(portfolio, found, extras, lateness)


def _lateness_request(
    extras: dict[str, Any], policy: Policy
) -> tuple[str | None, LatenessWanted | None]:
    """The area asking the engine's pass for lateness counters, and what it asks."""
    asked = {
        name: wanted
        for name, ask in areas.lateness_hooks().items()
        if (wanted := ask(extras.get(name), policy)) is not None
    }
    if len(asked) > 1:
        raise ValueError(f"only one area may ask the engine for lateness counters: {sorted(asked)}")
    return next(iter(asked.items()), (None, None))


_COLUMNS = [c.name for c in account_status.columns]


def _publish(url: str, ordered: list[date], policy: Policy, run_id: int, rows: int,
             timings: dict[str, float], inputs: RunInputs | None = None,
             on_step: StepProgress | None = None) -> None:  # fmt: skip
    """The run's one visible change, in one transaction: the dates' rows replaced by the
    staged ones, the areas' steps over them (runs.steps), the run succeeded."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            t = time.perf_counter()
            take_write_lock(conn)
            conn.execute(delete(account_status).where(account_status.c.as_of.in_(ordered)))
            mine = staged_status.c.run_id == run_id
            conn.execute(
                insert(account_status).from_select(
                    _COLUMNS, select(*[staged_status.c[c] for c in _COLUMNS]).where(mine)
                )
            )
            conn.execute(delete(staged_status).where(mine))
            timings["write"] += time.perf_counter() - t
            t = time.perf_counter()
            run_area_steps(conn, ordered[0], policy, run_id, timings, inputs=inputs,
                           on_step=on_step)  # fmt: skip
            timings["steps"] = time.perf_counter() - t
            conn.execute(_finished(run_id, "succeeded", rows, timings))
    finally:
        engine.dispose()


def run_dates(
    url: str,
    dates: Sequence[date],
    policy: Policy,
    progress: Progress | None = None,
    today: date | None = None,
    on_step: StepProgress | None = None,
) -> RunResult:
    """Compute and store account status for every date, all or nothing (module doc).
    `progress(done, total)` as dates are computed; `on_step` as the areas' steps run.

    Raises `runs.window.RunDateError` (nothing recorded) for dates outside the policy's window
    as of `today` (default: the local date)."""
    ordered = sorted(set(dates))
    if not ordered:
        raise ValueError("a run needs at least one date")
    kind = "daily" if len(ordered) == 1 else "backfill"
    fail_abandoned_runs(url)
    run_id, lock = _start(url, kind, ordered, policy, today)
    timings = {"load": 0.0, "engine": 0.0, "write": 0.0}
    try:
        rows, inputs = _stage(url, ordered, policy, run_id, timings, progress)
        _publish(url, ordered, policy, run_id, rows, timings, inputs, on_step)
    except BaseException as exc:
        _fail(url, run_id, timings, exc)
        raise
    finally:
        lock.release()
    return RunResult(run_id, len(ordered), rows, timings)


def date_range(first: date, last: date) -> list[date]:
    """Every calendar date from first to last: DPD counts calendar days, so does the run."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
