"""The login rate limits shared through the store (`postloan serve --workers N`): the same
answers as the in-memory limiter, and one count for every process — two limiters on two
engines stand for two workers. SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from postloan.access.ratelimit import Limit, Refused, Ticket
from postloan.access.shared_ratelimit import SharedLoginLimiter
from postloan.access.tables import login_attempts
from postloan.store.db import engine_for


@pytest.fixture
def second(store_url: str) -> Iterator[Engine]:
    """Another worker's engine on the same store."""
    eng = engine_for(store_url)
    yield eng
    eng.dispose()


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(login_attempts)).scalar_one())


def test_per_username_limit_across_workers_and_addresses(engine: Engine, second: Engine) -> None:
    one = SharedLoginLimiter(engine, per_client=Limit(100, 60), per_username=Limit(3, 60))
    two = SharedLoginLimiter(second, per_client=Limit(100, 60), per_username=Limit(3, 60))
    admitted = [one.admit("10.0.0.1", "amy"), two.admit("10.0.0.2", "amy"),
                one.admit("10.0.0.3", "amy")]  # fmt: skip
    assert all(isinstance(a, Ticket) and len(a.ids) == 2 for a in admitted)
    refused = two.admit("10.0.0.9", "AMY")  # the other worker refuses; case is no new name
    assert isinstance(refused, Refused) and refused.scope == "username" and refused.first
    assert 59 <= refused.retry_after <= 60
    again = one.admit("10.0.0.9", "amy")
    assert isinstance(again, Refused) and not again.first  # audited once, whichever worker
    assert isinstance(two.admit("10.0.0.9", "bob"), Ticket)  # other users are unaffected


def test_per_client_limit_across_workers(engine: Engine, second: Engine) -> None:
    limiters = [SharedLoginLimiter(e, per_client=Limit(4, 60), per_username=Limit(100, 60))
                for e in (engine, second)]  # fmt: skip
    for n in range(4):
        assert isinstance(limiters[n % 2].admit("10.0.0.1", f"user{n}"), Ticket)
    refused = limiters[0].admit("10.0.0.1", "someone-else")
    assert isinstance(refused, Refused) and refused.scope == "client"
    assert isinstance(limiters[1].admit("10.0.0.2", "someone-else"), Ticket)


def test_a_successful_sign_in_is_forgiven(engine: Engine) -> None:
    limiter = SharedLoginLimiter(engine, per_client=Limit(2, 60), per_username=Limit(2, 60))
    for _ in range(6):  # staff signing in all day never meet the limit
        ticket = limiter.admit("10.0.0.1", "amy")
        assert isinstance(ticket, Ticket)
        limiter.forgive(ticket)
    assert _rows(engine) == 0


def test_the_window_slides_and_old_attempts_are_pruned(engine: Engine) -> None:
    limiter = SharedLoginLimiter(engine, per_client=Limit(2, 0.3), per_username=Limit(2, 0.3))
    limiter.admit("10.0.0.1", "amy")
    limiter.admit("10.0.0.1", "amy")
    assert isinstance(limiter.admit("10.0.0.1", "amy"), Refused)
    assert _rows(engine) == 5  # two attempts × two keys, one refusal mark
    time.sleep(0.35)
    assert isinstance(limiter.admit("10.0.0.1", "amy"), Ticket)
    assert _rows(engine) == 2  # the expired attempts and the mark are gone


def test_parallel_attempts_on_two_workers_cannot_all_slip_under(
    engine: Engine, second: Engine
) -> None:
    limiters = [SharedLoginLimiter(e, per_client=Limit(100, 60), per_username=Limit(10, 60))
                for e in (engine, second)]  # fmt: skip
    start = threading.Barrier(30, timeout=60)
    results: list[object] = []

    def attempt(n: int) -> None:
        start.wait()
        results.append(limiters[n % 2].admit("10.0.0.1", "amy"))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 30
    assert sum(isinstance(r, Ticket) for r in results) == 10
