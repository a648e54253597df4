"""Lock-out policy: the constants in one place, and the rule as SQL the database applies.

The failure counter lives in `users.failed_attempts`. Parallel wrong guesses must each count,
so the count is never read into Python and written back (twelve guesses in flight at once
would all read 0 and all write 1): one UPDATE adds the failure and, at the limit, sets the
lock, and only on an account that is not locked at that moment. Both backends run it
atomically (PostgreSQL re-checks the WHERE on the newest row version after waiting for the
row lock; SQLite has one writer at a time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, update
from sqlalchemy.sql.dml import ReturningUpdate

from postloan.access.tables import users

MAX_FAILED_ATTEMPTS = 5  # consecutive wrong passwords …
LOCK_DURATION = timedelta(minutes=15)  # … lock the account this long


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def not_locked(now: datetime) -> ColumnElement[bool]:
    """SQL: the account is not locked at `now` (no lock, or the lock has run out)."""
    return or_(users.c.locked_until.is_(None), users.c.locked_until <= now)


def count_failure(user_id: int, now: datetime) -> ReturningUpdate[Any]:
    """One more failure, counted in the database. Returns the row's `locked_until` — set when
    this failure reached the limit (locking restarts the count) — or no row when the account
    was already locked (a parallel guess locked it first): that failure does not count."""
    failures = users.c.failed_attempts + 1
    reaches_limit = failures >= MAX_FAILED_ATTEMPTS
    return (
        update(users)
        .where(and_(users.c.user_id == user_id, not_locked(now)))
        .values(
            failed_attempts=case((reaches_limit, 0), else_=failures),
            locked_until=case((reaches_limit, now + LOCK_DURATION), else_=None),
        )
        .returning(users.c.locked_until)
    )
