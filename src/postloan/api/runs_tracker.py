"""Runs started through the API: one at a time, in a child process (see `workers`) followed by
a background thread; progress in memory.

`postloan.runs.service.run_dates` creates the run record itself; the tracker learns the new
run's id by looking for the first run record newer than the ones that existed when it started
the thread with the same date range (API runs are serialised, so that is ours).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from queue import Empty

from sqlalchemy import Engine, func, select

from postloan.api.errors import Conflict, Invalid
from postloan.api.workers import start_run_process
from postloan.policy import Policy
from postloan.runs.window import RunDateError
from postloan.store.schema import runs

FIND_TIMEOUT = 120.0  # seconds to wait for the run record to appear


@dataclass
class RunJob:
    dates_total: int
    dates_done: int = 0
    run_id: int | None = None
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def progress(self, done: int, total: int) -> None:
        self.dates_done, self.dates_total = done, total


class RunTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: RunJob | None = None
        self._by_id: dict[int, RunJob] = {}

    def progress(self, run_id: int) -> RunJob | None:
        return self._by_id.get(run_id)

    def join(self, timeout: float | None = None) -> None:
        job = self._current
        if job and job.thread:
            job.thread.join(timeout)

    def start(self, url: str, engine: Engine, dates: Sequence[date], policy: Policy) -> int:
        """Start a run of `dates` in the background; its run id once the record exists."""
        ordered = sorted(set(dates))
        with self._lock:
            if self._current and not self._current.finished.is_set():
                raise Conflict("a run is already in progress; wait for it to finish")
            with engine.connect() as conn:
                before = conn.execute(select(func.max(runs.c.run_id))).scalar() or 0
            job = RunJob(dates_total=len(ordered))

            process, queue = start_run_process(url, ordered, policy)

            def follow() -> None:
                """Read the child's reports until it ends."""
                try:
                    while True:
                        try:
                            message = queue.get(timeout=0.5)
                        except Empty:
                            if not process.is_alive():
                                job.error = job.error or f"run process exited ({process.exitcode})"
                                break
                            continue
                        if message[0] == "progress":
                            job.progress(message[1], message[2])
                        elif message[0] == "done":
                            job.run_id = message[1]
                            job.dates_done = job.dates_total
                            break
                        else:
                            job.error = message[1]
                            break
                    process.join(timeout=30)
                finally:
                    job.finished.set()

            job.thread = threading.Thread(target=follow, name="postloan-api-run", daemon=True)
            self._current = job
            job.thread.start()
            run_id = self._find(engine, job, before, ordered[0], ordered[-1])
            job.run_id = run_id
            self._by_id[run_id] = job
            return run_id

    @staticmethod
    def _find(engine: Engine, job: RunJob, before: int, first: date, last: date) -> int:
        deadline = time.monotonic() + FIND_TIMEOUT
        query = (
            select(runs.c.run_id)
            .where(runs.c.run_id > before, runs.c.date_from == first, runs.c.date_to == last)
            .order_by(runs.c.run_id)
            .limit(1)
        )
        while True:
            if job.run_id is not None:
                return job.run_id
            with engine.connect() as conn:
                found = conn.execute(query).scalar()
            if found is not None:
                return int(found)
            if job.finished.is_set():
                if job.run_id is not None:
                    return job.run_id
                raise _not_started(job.error)
            if time.monotonic() > deadline:
                raise RuntimeError("the run record did not appear in time")
            time.sleep(0.02)


def _not_started(error: str | None) -> Exception:
    """The child ended before recording the run. Its dates outside the window (the clock
    moved past midnight since the route checked them) are the caller's to fix (422); anything
    else is the server's, and its text stays in the server log, not in the answer."""
    prefix = f"{RunDateError.__name__}: "
    if error and error.startswith(prefix):
        message = error.removeprefix(prefix)
        return Invalid(message, field=message.split(":", 1)[0])
    return RuntimeError(f"the run could not start: {error}")
