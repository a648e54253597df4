"""Deleting a stored business date: the operator's way out of a date that should never have
been run (a typo like 9999-12-31 once made every later run fail).

Only the **latest** stored date can be deleted. Account status of one date never depends on
another (the engine recomputes from the data), but the collections state does: cases, their
stages, reminders, ratings, strategies, legal proposals and promise decisions are the replay
of every stored date in order (`collections.service`). Removing a date in the middle would
rewrite the collections history of every later date behind the operator's back; removing the
latest is exactly undoing its run. To remove several dates, delete them newest first.

Deleting D, in one transaction:
- D's rows leave `account_status`;
- the collections state is rebuilt from the date before D (the state a run of that date
  leaves), or, when no date is left, everything derived from D on is undone;
- a `runs` record of kind `delete` keeps the history (and moves the data version on, so no
  cached 360° view still shows D);
- the audit log names who deleted D and how many rows went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, insert, select, update

from postloan.access import audit
from postloan.policy import Policy
from postloan.runs.service import record_policy, take_write_lock
from postloan.runs.steps import run_area_steps
from postloan.store.dates import latest_stored_date
from postloan.store.db import engine_for
from postloan.store.schema import account_status, runs

DELETE_KIND = "delete"  # runs.kind of a deleted date


class DateNotDeletable(ValueError):
    """Refused: the date is not stored (`stored` False), or a later one is."""

    field = "as_of"

    def __init__(self, message: str, *, stored: bool) -> None:
        super().__init__(message)
        self.stored = stored


@dataclass(frozen=True)
class DeletedDate:
    as_of: date
    rows: int
    run_id: int  # the `delete` record in runs
    latest: date | None  # the latest stored date now


def delete_latest_date(
    url: str, day: date, policy: Policy, actor: str, now: datetime | None = None
) -> DeletedDate:
    """Delete stored date `day`, which must be the latest (module doc); `policy` is the one
    the collections state is rebuilt under."""
    at = now or datetime.now(UTC)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            take_write_lock(conn)  # the latest date cannot change under us
            latest = latest_stored_date(conn)
            if latest != day:
                stored = conn.execute(
                    select(account_status.c.as_of).where(account_status.c.as_of == day).limit(1)
                ).first()
                if stored is None:
                    raise DateNotDeletable(
                        f"as_of: no status is stored for {day.isoformat()}", stored=False
                    )
                assert latest is not None
                raise DateNotDeletable(
                    f"as_of: {day.isoformat()} is not the latest stored date "
                    f"({latest.isoformat()}); only the latest can be deleted (the collections "
                    f"history of every later date is built on it): delete newer dates first",
                    stored=True,
                )
            record_policy(conn, policy)
            run_id = _record(conn, day, policy, at)
            rows = conn.execute(delete(account_status).where(account_status.c.as_of == day))
            removed = int(rows.rowcount or 0)
            previous = latest_stored_date(conn, before=day)
            run_area_steps(conn, previous or day, policy, run_id, now=at)
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(status="succeeded", rows=removed, finished_at=datetime.now(UTC))
            )
            audit.record(
                conn, actor=actor, action="run.delete_date", target_type="status_date",
                target_id=day.isoformat(),
                detail={"rows": removed, "run_id": run_id,
                        "replayed_from": previous.isoformat() if previous else None,
                        "policy_version": policy.version},
                now=at,
            )  # fmt: skip
    finally:
        engine.dispose()
    return DeletedDate(day, removed, run_id, previous)


def _record(conn: Connection, day: date, policy: Policy, at: datetime) -> int:
    key = conn.execute(
        insert(runs).values(
            kind=DELETE_KIND, date_from=day, date_to=day, policy_version=policy.version,
            status="running", started_at=at,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    return int(key[0])
