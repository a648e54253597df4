"""Issue 10, defect 7: the login rate limiter — per client address and per username, counted
when an attempt starts, forgiven when it succeeds, refusing with the seconds to wait."""

from __future__ import annotations

import threading
import time

from postloan.access.ratelimit import PER_CLIENT, PER_USERNAME, Limit, LoginLimiter, Refused, Ticket


def test_defaults_leave_room_for_the_lockout() -> None:
    assert PER_USERNAME.attempts > 5  # the lock-out (5) acts first on one account
    assert PER_CLIENT.attempts > PER_USERNAME.attempts


def test_per_username_limit_across_addresses() -> None:
    limiter = LoginLimiter(per_client=Limit(100, 60), per_username=Limit(3, 60))
    admitted = [limiter.admit(f"10.0.0.{n}", "amy") for n in range(3)]
    assert all(isinstance(a, Ticket) for a in admitted)
    refused = limiter.admit("10.0.0.9", "AMY")  # case does not make a new username
    assert isinstance(refused, Refused)
    assert refused.scope == "username" and refused.first
    assert 59 <= refused.retry_after <= 60
    again = limiter.admit("10.0.0.9", "amy")
    assert isinstance(again, Refused) and not again.first  # audit the first refusal only
    assert isinstance(limiter.admit("10.0.0.9", "bob"), Ticket)  # other users are unaffected


def test_per_client_limit_across_usernames() -> None:
    limiter = LoginLimiter(per_client=Limit(4, 60), per_username=Limit(100, 60))
    for n in range(4):
        assert isinstance(limiter.admit("10.0.0.1", f"user{n}"), Ticket)
    refused = limiter.admit("10.0.0.1", "someone-else")
    assert isinstance(refused, Refused) and refused.scope == "client"
    assert isinstance(limiter.admit("10.0.0.2", "someone-else"), Ticket)


def test_a_successful_sign_in_is_forgiven() -> None:
    limiter = LoginLimiter(per_client=Limit(2, 60), per_username=Limit(2, 60))
    for _ in range(10):  # staff signing in all day never meet the limit
        ticket = limiter.admit("10.0.0.1", "amy")
        assert isinstance(ticket, Ticket)
        limiter.forgive(ticket)


def test_the_window_slides() -> None:
    limiter = LoginLimiter(per_client=Limit(2, 0.3), per_username=Limit(2, 0.3))
    limiter.admit("10.0.0.1", "amy")
    limiter.admit("10.0.0.1", "amy")
    assert isinstance(limiter.admit("10.0.0.1", "amy"), Refused)
    time.sleep(0.35)
    assert isinstance(limiter.admit("10.0.0.1", "amy"), Ticket)


def test_parallel_attempts_cannot_all_slip_under_the_limit() -> None:
    limiter = LoginLimiter(per_client=Limit(100, 60), per_username=Limit(10, 60))
    start = threading.Barrier(40, timeout=30)
    results: list[object] = []

    def attempt() -> None:
        start.wait()
        results.append(limiter.admit("10.0.0.1", "amy"))

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, Ticket) for r in results) == 10
