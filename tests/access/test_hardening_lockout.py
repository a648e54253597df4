"""Issue 10, defect 2 and the login answers: the lock-out counts every wrong guess even when
they arrive in parallel (twelve at once used to leave `failed_attempts = 1`), and a refused
login looks the same — message and time — whatever the account's state."""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from postloan.access import audit
from postloan.access.errors import AccountLocked, AuthenticationFailed
from postloan.access.lockout import LOCK_DURATION, MAX_FAILED_ATTEMPTS
from postloan.access.tables import audit_log, users
from postloan.access.users import authenticate, create_user, disable_user
from tests.access.conftest import NOW

PASSWORD = "correct horse battery"
PARALLEL = 12


def _make(engine: Engine, username: str = "target") -> None:
    with engine.begin() as conn:
        create_user(conn, username=username, password=PASSWORD, role="admin", now=NOW)


def _attempt(engine: Engine, username: str, password: str, now: datetime = NOW) -> str:
    """One login in its own transaction, committed either way; its outcome as a word."""
    with engine.connect() as conn:
        try:
            authenticate(conn, username, password, now)
        except AccountLocked:
            return "locked"
        except AuthenticationFailed:
            return "failed"
        finally:
            conn.commit()
    return "signed in"


def _guess_in_parallel(engine: Engine, username: str, guesses: int) -> list[str]:
    """`guesses` wrong passwords at once: each thread reads the account before any writes."""
    start = threading.Barrier(guesses, timeout=60)

    def guess(n: int) -> str:
        start.wait()
        return _attempt(engine, username, f"guess-{n}")

    with ThreadPoolExecutor(guesses) as pool:
        return list(pool.map(guess, range(guesses)))


@pytest.mark.usefixtures("production_argon2")  # real hashing time: the window of the race
def test_parallel_wrong_guesses_all_count_and_lock(engine: Engine) -> None:
    _make(engine)
    outcomes = _guess_in_parallel(engine, "target", PARALLEL)
    # the database counted each guess: four plain failures, the fifth locked, the rest
    # found the account locked (they do not count, nor extend the lock)
    assert outcomes.count("failed") == MAX_FAILED_ATTEMPTS - 1, outcomes
    assert outcomes.count("locked") == PARALLEL - MAX_FAILED_ATTEMPTS + 1, outcomes
    with engine.connect() as conn:
        row = conn.execute(select(users.c.failed_attempts, users.c.locked_until)).one()
    assert row.failed_attempts == 0  # locking restarts the count
    assert row.locked_until is not None
    # the lock holds: the right password is refused until it runs out
    assert _attempt(engine, "target", PASSWORD, NOW + timedelta(minutes=1)) == "locked"
    assert _attempt(engine, "target", PASSWORD, NOW + LOCK_DURATION) == "signed in"


@pytest.mark.usefixtures("production_argon2")
def test_four_rounds_of_parallel_guesses_get_no_more_than_the_limit(engine: Engine) -> None:
    """The reproduction's 4 x 12 guesses: only the first five are ever checked as guesses."""
    _make(engine)
    outcomes = [o for _ in range(4) for o in _guess_in_parallel(engine, "target", PARALLEL)]
    assert outcomes.count("failed") == MAX_FAILED_ATTEMPTS - 1
    assert "signed in" not in outcomes


@pytest.mark.usefixtures("production_argon2")
def test_a_locked_account_still_costs_one_hash(engine: Engine) -> None:
    """Answering a locked account at once would tell it apart by time (it did)."""
    _make(engine, "locked")
    _make(engine, "open")
    for _ in range(MAX_FAILED_ATTEMPTS):
        _attempt(engine, "locked", "wrong password")
    assert _attempt(engine, "locked", PASSWORD) == "locked"

    def seconds(username: str, password: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            _attempt(engine, username, password)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    wrong = seconds("open", "wrong password")  # a counted failure: one hash
    with engine.begin() as conn:  # (three failures: reset them, the account stays open)
        conn.execute(users.update().where(users.c.username == "open").values(failed_attempts=0))
    locked = seconds("locked", PASSWORD)
    unknown = seconds("nobody", PASSWORD)
    assert locked > 0.5 * wrong, (locked, wrong)
    assert unknown > 0.5 * wrong, (unknown, wrong)


def test_disabled_account_with_the_right_password_is_refused(engine: Engine) -> None:
    _make(engine)
    with engine.begin() as conn:
        disable_user(conn, "target")
    assert _attempt(engine, "target", PASSWORD) == "failed"
    with engine.connect() as conn:  # a right password does not count as a failure
        assert conn.execute(select(users.c.failed_attempts)).scalar() == 0


def test_every_refusal_answers_the_same_and_the_audit_keeps_the_reason(engine: Engine) -> None:
    from postloan.access.errors import LOGIN_REFUSED
    from postloan.access.signin import sign_in

    _make(engine, "locked")
    _make(engine, "gone")
    _make(engine, "open")
    for _ in range(MAX_FAILED_ATTEMPTS):
        _attempt(engine, "locked", "wrong password")
    with engine.begin() as conn:
        disable_user(conn, "gone")
    before = _audit_count(engine)
    answers = []
    for username, password in [
        ("nobody", PASSWORD),
        ("open", "wrong password"),
        ("locked", PASSWORD),
        ("gone", PASSWORD),
    ]:
        with engine.connect() as conn:
            with pytest.raises(AuthenticationFailed) as refused:
                sign_in(conn, username, password, NOW, via="test")
            conn.commit()
        answers.append((type(refused.value), str(refused.value)))
    assert answers == [(AuthenticationFailed, LOGIN_REFUSED)] * 4
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log.c.target_id, audit_log.c.detail).where(audit_log.c.seq > before)
        ).all()
    reasons = {row.target_id: json.loads(row.detail)["reason"] for row in rows}
    assert reasons == {
        "nobody": "unknown_user",
        "open": "wrong_password",
        "locked": "locked",
        "gone": "disabled",
    }


def _audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return audit.head(conn)[0]
