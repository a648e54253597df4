"""Lock-out policy: the constants in one place, the rule as a pure function of `now`."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_FAILED_ATTEMPTS = 5  # consecutive wrong passwords …
LOCK_DURATION = timedelta(minutes=15)  # … lock the account this long


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(failed_attempts: int, now: datetime) -> tuple[int, datetime | None]:
    """(failed attempts, locked until) after one more failure. Locking restarts the count."""
    failed = failed_attempts + 1
    if failed >= MAX_FAILED_ATTEMPTS:
        return 0, now + LOCK_DURATION
    return failed, None
