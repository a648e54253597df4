"""`postloan run`: compute account status for business dates and store it.

A run is a function of (data known, D, policy version): re-running D replaces D's rows with the
same answer. The replacement is one transaction (delete D's rows, insert the new ones), so a run
killed at any moment leaves the previous rows of every date intact. A backfill commits date
window by date window: each date is always either wholly old or wholly new, and the run record
says how far it got.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import insert, select, update

from postloan.collections.service import rebuild_cases_from
from postloan.engine.frames import ACCOUNT_STATUS
from postloan.engine.restructure import classify, restructuring_history
from postloan.engine.schedule_versions import ScheduleVersions
from postloan.policy import Policy, canonical_json
from postloan.runs.load import load_contract_portfolio, load_restructurings, load_schedule_changes
from postloan.store import bulk
from postloan.store.db import engine_for
from postloan.store.schema import policy_versions, runs

WINDOW = 31  # dates computed (and committed) together in a backfill
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunResult:
    run_id: int
    dates: int
    rows: int
    timings: dict[str, float]


def _record_policy(url: str, policy: Policy) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
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
    engine.dispose()


def _start(url: str, kind: str, first: date, last: date, policy: Policy) -> int:
    engine = engine_for(url)
    with engine.begin() as conn:
        key = conn.execute(
            insert(runs).values(
                kind=kind,
                date_from=first,
                date_to=last,
                policy_version=policy.version,
                status="running",
                started_at=datetime.now(UTC),
            )
        ).inserted_primary_key
    engine.dispose()
    assert key is not None
    return int(key[0])


def _finish(url: str, run_id: int, status: str, rows: int, timings: dict[str, float],
            error: str | None = None) -> None:  # fmt: skip
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(
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
    engine.dispose()


def _replace(conn: Any, status: pl.DataFrame, first: date, last: date, run_id: int) -> int:
    """Delete the dates' rows and insert the new ones — one transaction."""
    p = bulk.placeholders(conn, "dd")
    lo, hi = p.split(", ")
    bulk.execute(
        conn,
        f"DELETE FROM account_status WHERE as_of >= {lo} AND as_of <= {hi}",
        (first.isoformat(), last.isoformat()) if bulk.backend(conn) == "sqlite" else (first, last),
    )
    rows = bulk.ingest(
        conn,
        "account_status",
        status.select(*ACCOUNT_STATUS, "restructured").with_columns(pl.lit(run_id).alias("run_id")),
    )
    conn.commit()
    return rows


def run_dates(
    url: str, dates: Sequence[date], policy: Policy, progress: Progress | None = None
) -> RunResult:
    """Compute and store account status for every date (consecutive windows of WINDOW)."""
    ordered = sorted(set(dates))
    kind = "daily" if len(ordered) == 1 else "backfill"
    _record_policy(url, policy)
    run_id = _start(url, kind, ordered[0], ordered[-1], policy)
    timings = {"load": 0.0, "engine": 0.0, "write": 0.0}
    rows = 0
    try:
        with bulk.connect(url) as conn:
            t = time.perf_counter()
            portfolio = load_contract_portfolio(conn)
            # Repayment agreements: each date is computed with the schedules in force on it
            # (engine.schedule_versions), and restructured loans are classified from their
            # DPD on every day since their agreement (engine.restructure) — recomputed here,
            # not read back, so a date's answer never depends on which dates were run before.
            changes = load_schedule_changes(conn)
            agreements, dues = load_restructurings(conn)
            # End the read transaction now: holding it through the engine would make another
            # writer's commit (an import, a second run) fail this run's write on SQLite.
            conn.commit()
            timings["load"] += time.perf_counter() - t
            t = time.perf_counter()
            history = restructuring_history(portfolio, changes, agreements, ordered, policy)
            versions = ScheduleVersions(portfolio, changes)
            timings["engine"] += time.perf_counter() - t
            for i in range(0, len(ordered), WINDOW):
                window = ordered[i : i + WINDOW]
                t = time.perf_counter()
                status = versions.status(window, policy)
                status = classify(status, agreements, dues, history, policy)
                timings["engine"] += time.perf_counter() - t
                t = time.perf_counter()
                rows += _replace(conn, status, window[0], window[-1], run_id)
                timings["write"] += time.perf_counter() - t
                if progress:
                    progress(i + len(window), len(ordered))
        # Collections: cases follow the stored status, replayed from the run's first date
        # (collections.service) — in one transaction, after the status is stored.
        t = time.perf_counter()
        engine = engine_for(url)
        try:
            with engine.begin() as sconn:
                rebuild_cases_from(sconn, ordered[0], policy, run_id)
        finally:
            engine.dispose()
        timings["cases"] = time.perf_counter() - t
    except BaseException as exc:
        _finish(url, run_id, "failed", rows, timings, f"{type(exc).__name__}: {exc}")
        raise
    _finish(url, run_id, "succeeded", rows, timings)
    return RunResult(run_id, len(ordered), rows, timings)


def date_range(first: date, last: date) -> list[date]:
    """Every calendar date from first to last: DPD counts calendar days, so does the run."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
