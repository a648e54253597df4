"""Heavy store work (imports, runs) in a child process, never in the API's own process.

Why a process and not a thread: imports and runs write through ADBC, whose SQLite driver links
its own copy of SQLite (3.5x) while SQLAlchemy uses Python's `sqlite3` (another copy). Two
copies of SQLite in one process do not see each other's POSIX locks — closing a file in one
drops the other's locks — which showed up as "database is locked" and lost updates when the
API read with SQLAlchemy while a run wrote with ADBC in a thread. In separate processes SQLite's
locking is sound; on PostgreSQL it costs only the start-up of the worker (once per app).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import polars as pl

from postloan.imports.service import ImportFileError, ImportResult, import_file
from postloan.policy import Policy

log = logging.getLogger(__name__)


def _context() -> Any:
    return mp.get_context("spawn")  # no fork of a process with threads and open connections


def new_import_pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=_context())


class ImportCrashed(Exception):
    """An import that failed in the worker for another reason than an unreadable file:
    `on` is "content" (values the validator could not process) or "store" (the database).
    Raised instead of the original exception because that may not survive the trip back to
    the server: a driver error that cannot be unpickled breaks the whole pool."""

    def __init__(self, on: str, detail: str) -> None:
        super().__init__(on, detail)
        self.on = on
        self.detail = detail  # for the server's log, never for the client


def _import_in_worker(kind: str, path: Path, url: str, encoding: str | None) -> ImportResult:
    try:
        return import_file(kind, path, url, encoding)
    except ImportFileError:
        raise
    except (ValueError, ArithmeticError, LookupError, pl.exceptions.PolarsError) as exc:
        log.error("import of %s failed on the file's content", kind, exc_info=exc)
        raise ImportCrashed("content", f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:
        log.error("import of %s failed in the store", kind, exc_info=exc)
        raise ImportCrashed("store", f"{type(exc).__name__}: {exc}") from None


def run_import(
    pool: ProcessPoolExecutor, kind: str, path: Path, url: str, encoding: str | None = None
) -> ImportResult:
    """`import_file` in the worker process (same validation as `postloan import`). Raises
    ImportFileError (the file), ImportCrashed (anything else in the worker) or, when the
    worker died, BrokenProcessPool; `api.routes.imports` words them for the client."""
    return pool.submit(_import_in_worker, kind, path, url, encoding).result()


def run_child(url: str, dates: list[Any], policy: Policy, queue: Queue[Any]) -> None:
    """Entry point of a run's process: reports ("progress", done, total), then ("done",
    run_id) or ("error", message)."""
    from postloan.runs.service import run_dates

    try:
        result = run_dates(
            url, dates, policy, progress=lambda done, total: queue.put(("progress", done, total))
        )
        queue.put(("done", result.run_id))
    except BaseException as exc:
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def start_run_process(url: str, dates: list[Any], policy: Policy) -> tuple[Any, Queue[Any]]:
    ctx = _context()
    queue: Queue[Any] = ctx.Queue()
    process = ctx.Process(
        target=run_child, args=(url, dates, policy, queue), name="postloan-run", daemon=True
    )
    process.start()
    return process, queue
