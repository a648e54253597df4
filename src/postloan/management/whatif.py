"""The policy what-if (issue 16 item 6; `postloan whatif`, `POST /api/management/whatif`,
`/management/whatif`): the stored data replayed under a candidate policy beside the policy in
force, without writing anything.

How (docs/management.md, "Policy what-if"):
1. The range is checked: both ends must be stored business dates, at most `max_dates()`
   stored dates between them (`POSTLOAN_WHATIF_MAX_DATES`, default 370).
2. The engine computes every stored date of the range from the stored contract data twice —
   under the policy in force and under the candidate (`runs.replay`: no run record, no
   status row, no area step). The policy in force is recomputed too, not read from the
   stored rows: a stored date may have been run under an older policy, or before a late
   import, and then the differences would mix those with the candidate's. The stored runs'
   policy versions are reported beside it.
3. Every area with an `Area.whatif` hook gets both frames (`area.WhatIfInputs`) and a
   read-only connection and answers its figures under both; this area's own hook gives the
   portfolio's (classes, buckets, NPL and DPD30+ ratios). Areas without a hook are listed as
   not replayed. The connection is rolled back at the end: nothing a hook did could stay.
4. Each figure is put side by side (`rules.whatif.side_by_side`).
The audit entry (who, range, candidate version) is the caller's: `audit_whatif`.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from postloan import areas
from postloan.access import audit
from postloan.area import WhatIfFigure, WhatIfFigures, WhatIfInputs
from postloan.errors import ConflictError, DomainError, InvalidError
from postloan.management.rules.whatif import (
    by_bucket,
    by_class,
    long_rows,
    ratios,
    side_by_side,
)
from postloan.policy import Policy
from postloan.policy.loader import parse_policy
from postloan.reports.summary import split_disposed, stored_disposals
from postloan.runs.replay import replay_status
from postloan.store.db import engine_for
from postloan.store.schema import account_status, runs
from postloan.store.values import as_date

log = logging.getLogger(__name__)
MAX_DATES_ENV = "POSTLOAN_WHATIF_MAX_DATES"
DEFAULT_MAX_DATES = 370
MAX_POLICY_BYTES = 256 * 1024  # a candidate policy file (the default one is ~40 KB)

# (what, done, total): "in_force"/"candidate" dates computed, then "area" hooks done
Progress = Callable[[str, int, int], None]


class WhatIfError(InvalidError):
    """A what-if that cannot be made as asked (the range; the message says why)."""


def max_dates() -> int:
    """The most stored dates one what-if replays (`POSTLOAN_WHATIF_MAX_DATES`, default 370)."""
    raw = os.environ.get(MAX_DATES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DATES
    try:
        value = int(raw)
    except ValueError:
        raise WhatIfError(f"{MAX_DATES_ENV} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise WhatIfError(f"{MAX_DATES_ENV} must be at least 1")
    return value


@dataclass(frozen=True)
class Figure:
    area: str
    name: str
    keys: tuple[str, ...]
    about: str
    table: pl.DataFrame  # side by side (rules.whatif.side_by_side)


@dataclass(frozen=True)
class WhatIf:
    start: date
    end: date
    dates: tuple[date, ...]
    in_force_version: str
    candidate_version: str
    # per stored date: the runs whose rows are stored and their policy versions
    stored: list[dict[str, Any]]
    figures: list[Figure]
    notes: dict[str, list[str]] = field(default_factory=dict)
    not_replayed: list[str] = field(default_factory=list)

    def long(self) -> pl.DataFrame:
        """Every figure as (area, figure, key, measure, in_force, candidate, diff) rows."""
        return pl.concat([long_rows(f.area, f.name, f.keys, f.table) for f in self.figures])


def stored_dates_between(conn: Connection, start: date, end: date) -> list[date]:
    query = (
        select(account_status.c.as_of)
        .where(account_status.c.as_of.between(start, end))
        .group_by(account_status.c.as_of)
        .order_by(account_status.c.as_of)
    )
    return [d for d in (as_date(v) for v in conn.execute(query).scalars()) if d is not None]


def checked_dates(conn: Connection, start: date, end: date, limit: int | None = None) -> list[date]:
    """The stored dates of [start, end], or a WhatIfError naming the field at fault."""
    if start > end:
        raise WhatIfError("from must be on or before to", field="from")
    found = stored_dates_between(conn, start, end)
    stored = set(found)
    for name, day in (("from", start), ("to", end)):
        if day not in stored:
            raise WhatIfError(
                f"no account status is stored for {day.isoformat()}: a what-if replays stored"
                " dates only (run the date first, or choose a stored one)",
                field=name,
            )
    most = max_dates() if limit is None else limit
    if len(found) > most:
        raise WhatIfError(
            f"{len(found)} stored dates between from and to: a what-if replays at most {most}"
            f" ({MAX_DATES_ENV}); choose a shorter range",
            field="to",
        )
    return found


def stored_runs(conn: Connection, dates: list[date]) -> list[dict[str, Any]]:
    """Per date: the runs whose status rows are stored and their policy versions."""
    query = (
        select(account_status.c.as_of, runs.c.run_id, runs.c.policy_version)
        .join(runs, runs.c.run_id == account_status.c.run_id)
        .where(account_status.c.as_of.between(dates[0], dates[-1]))
        .group_by(account_status.c.as_of, runs.c.run_id, runs.c.policy_version)
    )
    per: dict[date, dict[str, set[Any]]] = {}
    for as_of, run_id, version in conn.execute(query).all():
        day = as_date(as_of)
        assert day is not None
        found = per.setdefault(day, {"runs": set(), "versions": set()})
        found["runs"].add(int(run_id))
        found["versions"].add(str(version))
    return [
        {"as_of": day.isoformat(), "runs": sorted(per[day]["runs"]),
         "policy_versions": sorted(per[day]["versions"])}
        for day in dates if day in per
    ]  # fmt: skip


def compute(
    url: str,
    in_force: Policy,
    candidate: Policy,
    start: date,
    end: date,
    progress: Progress | None = None,
    limit: int | None = None,
) -> WhatIf:
    """The what-if of [start, end] (module doc). Writes nothing."""
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            dates = checked_dates(conn, start, end, limit)
            stored = stored_runs(conn, dates)
            conn.rollback()
        names = ("in_force", "candidate")
        frames = replay_status(
            url, dates, [in_force, candidate],
            None if progress is None else (lambda p, done, n: progress(names[p], done, n)),
        )  # fmt: skip
        hooks = areas.whatif_hooks()
        figures: list[Figure] = []
        notes: dict[str, list[str]] = {}
        with engine.connect() as conn:
            try:
                inputs = WhatIfInputs(conn, tuple(dates), frames[0], frames[1], in_force,
                                      candidate)  # fmt: skip
                for i, (name, hook) in enumerate(hooks.items()):
                    answer: WhatIfFigures = hook(inputs)
                    for figure_name, figure in answer.figures.items():
                        table = side_by_side(figure.keys, figure.in_force, figure.candidate)
                        figures.append(Figure(name, figure_name, tuple(figure.keys),
                                              figure.about, table))  # fmt: skip
                    if answer.notes:
                        notes[name] = list(answer.notes)
                    if progress:
                        progress("areas", i + 1, len(hooks))
            finally:
                conn.rollback()  # read only: nothing a hook did may stay
    finally:
        engine.dispose()
    versions = {v for s in stored for v in s["policy_versions"]}
    if versions - {in_force.version}:
        notes.setdefault("management", []).append(
            "some stored dates were run under another policy version than the one in force"
            " (see `stored`); both sides here are recomputed, so the differences are the"
            " candidate's alone"
        )
    return WhatIf(start, end, tuple(dates), in_force.version, candidate.version, stored,
                  figures, notes, areas.without_whatif())  # fmt: skip


def audit_whatif(conn: Connection, actor: str, found: WhatIf, source: str) -> int:
    """The audit entry of a what-if: who, the range, the candidate's version (and where it
    came from: a file name, the API, the workbench)."""
    return audit.record(
        conn,
        actor=actor,
        action="management.whatif",
        target_type="policy_whatif",
        target_id=f"{found.start.isoformat()}..{found.end.isoformat()}",
        detail={
            "candidate_version": found.candidate_version,
            "in_force_version": found.in_force_version,
            "dates": len(found.dates),
            "source": source,
        },
        now=datetime.now(UTC),
    )


# The management area's own hook: the portfolio's figures (the core summary's definitions).


def _performing(conn: Connection, status: pl.DataFrame, last: date) -> pl.DataFrame:
    kept, _ = split_disposed(status, stored_disposals(conn, last))
    return kept


def portfolio_hook(inputs: WhatIfInputs) -> WhatIfFigures:
    """Classes, buckets, NPL and DPD30+ ratios per date under both policies; written-off and
    disposed accounts out of the pool from their effective date (as `report summary`)."""
    last = inputs.dates[-1]
    a = _performing(inputs.conn, inputs.in_force, last)
    b = _performing(inputs.conn, inputs.candidate, last)
    a_buckets = [x.name for x in inputs.in_force_policy.dpd_buckets]
    b_buckets = [x.name for x in inputs.candidate_policy.dpd_buckets]
    keys_date = ("as_of",)
    return WhatIfFigures(
        {
            "ratios": WhatIfFigure(
                keys_date,
                ratios(a),
                ratios(b),
                "NPL and DPD30+ ratios, accounts and principal per date",
            ),
            "classes": WhatIfFigure(
                ("as_of", "risk_class"),
                by_class(a),
                by_class(b),
                "five-category classes (五级分类): accounts and principal",
            ),
            "buckets": WhatIfFigure(
                ("as_of", "bucket"),
                by_bucket(a, a_buckets),
                by_bucket(b, b_buckets),
                "DPD buckets: accounts, principal, overdue amount",
            ),
        }
    )


# The what-if in a worker process, for the server (API and workbench): the engine's load reads
# through ADBC, whose SQLite driver is a second copy of SQLite that must not share a process
# with the server's sqlite3 connections (`api.workers`). One worker, started on first use,
# and one what-if at a time: a second is refused at once rather than queued — each waiting
# request would hold one of the server's threads (40 in all) for minutes, so a few impatient
# clicks, or a script, could stall every other page.

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()
_running = threading.Semaphore(1)


class WhatIfFailed(ConflictError):
    """The worker stopped or failed for another reason than the request (the log says why)."""


class WhatIfBusy(ConflictError):
    """Another what-if is running on this server process."""

    code = "whatif_running"


def _compute_safe(
    url: str, in_force: Policy, candidate: Policy, start: date, end: date
) -> tuple[str, Any, str | None]:
    try:
        return "ok", compute(url, in_force, candidate, start, end), None
    except DomainError as exc:  # re-raised in the server with its field (pickling drops it)
        return "invalid", exc.message, exc.field


def compute_in_worker(
    url: str, in_force: Policy, candidate: Policy, start: date, end: date
) -> WhatIf:
    """`compute` in the server's what-if worker process (module comment above); `WhatIfBusy`
    while another is running."""
    if not _running.acquire(blocking=False):
        raise WhatIfBusy(
            "another what-if is running on this server: try again when it has finished "
            "(or run `postloan whatif` on the command line)"
        )
    try:
        return _compute_in_pool(url, in_force, candidate, start, end)
    finally:
        _running.release()


def _compute_in_pool(
    url: str, in_force: Policy, candidate: Policy, start: date, end: date
) -> WhatIf:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
        pool = _pool
    try:
        kind, value, name = pool.submit(_compute_safe, url, in_force, candidate, start,
                                        end).result()  # fmt: skip
    except BrokenProcessPool as exc:
        with _pool_lock:
            _pool = None
        log.error("what-if worker died", exc_info=exc)
        raise WhatIfFailed(
            "the what-if worker stopped before it finished (it may have run out of memory);"
            " try a shorter range, or `postloan whatif` on the command line"
        ) from None
    except Exception as exc:
        log.error("what-if failed in the worker", exc_info=exc)
        raise WhatIfFailed("the what-if could not be computed (the server log has why)") from None
    if kind != "ok":
        raise WhatIfError(str(value), field=name)
    found: WhatIf = value
    return found


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def as_data(found: WhatIf) -> dict[str, Any]:
    """The JSON shape of a what-if (the API's answer, the page's context)."""
    return {
        "from": found.start.isoformat(),
        "to": found.end.isoformat(),
        "dates": [d.isoformat() for d in found.dates],
        "in_force_version": found.in_force_version,
        "candidate_version": found.candidate_version,
        "stored": found.stored,
        "figures": [
            {
                "area": f.area,
                "name": f.name,
                "keys": list(f.keys),
                "about": f.about,
                "columns": f.table.columns,
                "rows": [{k: _cell(v) for k, v in r.items()} for r in f.table.to_dicts()],
            }
            for f in found.figures
        ],
        "notes": found.notes,
        "not_replayed": found.not_replayed,
    }


def parse_candidate(text: bytes | str, source: str) -> Policy:
    """The candidate policy from TOML text (size-limited); a PolicyError names the parameter
    and the reason, as the policy loader does."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_POLICY_BYTES:
        raise WhatIfError(
            f"the candidate policy is {len(raw):,} bytes: at most {MAX_POLICY_BYTES:,}",
            field="policy",
        )
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WhatIfError("the candidate policy is not UTF-8 text", field="policy") from None
    return parse_policy(decoded, source)


def served(
    conn: Connection, url: str, in_force: Policy, candidate: Policy, start: date, end: date,
    actor: str, source: str,
) -> WhatIf:  # fmt: skip
    """The server's what-if (API and workbench): the range checked here (a clear refusal
    without starting the worker), computed in the worker, audited on `conn` (committed)."""
    checked_dates(conn, start, end)
    conn.rollback()
    found = compute_in_worker(url, in_force, candidate, start, end)
    audit_whatif(conn, actor, found, source)
    conn.commit()
    return found
