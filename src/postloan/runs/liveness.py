"""Is a `running` run still alive? A lock held for the run's life answers it.

A run killed with SIGKILL (or a crashed host process) cannot mark its own record failed, so
its row in `runs` would say `running` forever — and the 360° view cache stays off while any
run is running. At the start of the next run, every `running` record is checked: if its lock
can be taken, the process that held it is gone, and the record is marked failed.

Why a lock and not a PID or a heartbeat: a PID says nothing on another host (`serve
--workers N`, or several machines on one PostgreSQL) and can be reused; a heartbeat needs a
thread writing through the run's own write lock on SQLite and a guessed timeout. A lock that
the operating system or the database releases when the process dies is exact and costs
nothing while the run works:

- **PostgreSQL**: a session-level advisory lock on a connection kept open for the run's life,
  keyed by the run id and the schema (tests run many schemas in one database). The server ends
  the session, and drops the lock, as soon as the client's socket closes — which the kernel
  does when the process dies.
- **SQLite**: an exclusive `flock` on a file per run beside the database
  (`<db>.run-locks/<run id>.lock`). The kernel releases it when the process dies. SQLite is
  one host by nature, so a file lock sees every process that can write to it.

The lock is taken before the `running` record is committed and released only after the
final status is committed, so a checker never sees a live run without its lock; and marking
failed is `... WHERE status = 'running'`, so a run that finishes meanwhile is left alone.
"""

from __future__ import annotations

import fcntl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from postloan.store.db import engine_for
from postloan.store.schema import runs, staged_status

ABANDONED = (
    "the run's process ended before it finished (killed or crashed); found at a later run's start"
)

_PG_KEY = "hashtextextended(current_schema() || '.postloan-run.' || CAST(:run_id AS text), 0)"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None  # a private database: no other process can hold its runs
    return Path(database)


def _lock_path(db_file: Path, run_id: int) -> Path:
    return db_file.with_name(db_file.name + ".run-locks") / f"{run_id}.lock"


class RunLock:
    """The lock a run holds while it is alive (module doc). Take it with `hold` inside the
    transaction that inserts the `running` record; `release` after the final status is
    committed."""

    def __init__(self, file: Any = None, path: Path | None = None, conn: Any = None) -> None:
        self._file = file
        self._path = path
        self._conn = conn
        self._engine: Any = None

    @classmethod
    def hold(cls, url: str, run_id: int) -> RunLock:
        db_file = _sqlite_file(url)
        if db_file is not None:
            path = _lock_path(db_file, run_id)
            path.parent.mkdir(exist_ok=True)
            handle = path.open("a")
            # Never contended: the run id is new. LOCK_NB so a surprise cannot hang the run.
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return cls(file=handle, path=path)
        if make_url(url).get_backend_name() != "postgresql":
            return cls()
        # A connection of its own (no pool): closing it ends the session, and the lock with it.
        engine = engine_for(url, poolclass=NullPool)
        conn = engine.connect()
        conn.execute(text(f"SELECT pg_advisory_lock({_PG_KEY})"), {"run_id": run_id})
        conn.commit()
        lock = cls(conn=conn)
        lock._engine = engine
        return lock

    def release(self) -> None:
        if self._file is not None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            self._file.close()  # closing the last descriptor drops the flock
            self._file = None
        if self._conn is not None:
            self._conn.close()
            self._engine.dispose()
            self._conn = None


def _owner_gone(url: str, run_id: int, pg: Connection | None) -> bool:
    """True when no live process holds run `run_id`'s lock (the lock was free to take)."""
    db_file = _sqlite_file(url)
    if db_file is not None:
        path = _lock_path(db_file, run_id)
        try:
            handle = path.open("r")
        except FileNotFoundError:
            return True  # its process never took one (older code) or removed it on exit
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True
    if pg is None:
        return False  # an in-memory SQLite store: its runs live and die with this process
    taken = pg.execute(text(f"SELECT pg_try_advisory_lock({_PG_KEY})"), {"run_id": run_id})
    if not taken.scalar():
        return False
    pg.execute(text(f"SELECT pg_advisory_unlock({_PG_KEY})"), {"run_id": run_id})
    return True


def fail_abandoned_runs(url: str) -> list[int]:
    """Mark failed every `running` run whose process is gone (and drop its staged rows);
    returns their ids. Safe to call while other runs are alive: theirs hold their locks."""
    engine = engine_for(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            running = [int(r) for r in conn.execute(
                select(runs.c.run_id).where(runs.c.status == "running").order_by(runs.c.run_id)
            ).scalars()]  # fmt: skip
            conn.commit()
            pg = conn if engine.dialect.name == "postgresql" else None
            gone = [run_id for run_id in running if _owner_gone(url, run_id, pg)]
            for run_id in gone:
                conn.execute(
                    update(runs)
                    .where(runs.c.run_id == run_id, runs.c.status == "running")
                    .values(status="failed", finished_at=datetime.now(UTC), error=ABANDONED)
                )
                conn.execute(staged_status.delete().where(staged_status.c.run_id == run_id))
                conn.commit()
                db_file = _sqlite_file(url)
                if db_file is not None:
                    _lock_path(db_file, run_id).unlink(missing_ok=True)
    finally:
        engine.dispose()
    return gone
