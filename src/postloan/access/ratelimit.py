"""Login rate limits: failed sign-ins per client address and per username, in a sliding
window, kept in the server process's memory.

The lock-out (`access.lockout`) stops guessing one account's password; these limits stop
what it cannot: one address trying many usernames (password spraying), and a flood of
attempts that would keep the server hashing (each attempt costs one Argon2 verification,
~64 MiB and tens of milliseconds of CPU, even against a locked account).

An attempt is counted when it starts — parallel attempts cannot all slip under the limit —
and forgiven when it succeeds, so staff who sign in normally never meet the limit. A refused
attempt is answered at once (HTTP 429 with Retry-After), before any hashing.

Per process by default; `postloan serve --workers N` (N > 1) counts in the store instead
(`access.shared_ratelimit`, the same limits and answers), so N workers do not give a client N
times the limit. Addresses are what the server sees: behind a reverse proxy, let uvicorn take
the client's address from X-Forwarded-For (`--forwarded-allow-ips`), or every client shares
the proxy's limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limit:
    attempts: int  # failed (or still running) sign-ins allowed …
    window_s: float  # … within this many seconds


PER_CLIENT = Limit(attempts=20, window_s=600.0)  # an office behind one address still signs in
PER_USERNAME = Limit(attempts=10, window_s=900.0)  # twice the lock-out's 5, over its 15 minutes
MAX_KEYS = 100_000  # memory bound: the least recently used keys are forgotten first


@dataclass(frozen=True)
class Ticket:
    """An attempt admitted and counted: `forgive` it when the sign-in succeeds. `ids`: the
    stored attempts' rows (the shared limiter's; none in memory)."""

    keys: tuple[str, ...]
    at: float
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Refused:
    """An attempt over a limit. `first`: the first refusal of this key since it was last
    admitted (audit that one, not every request of a flood)."""

    retry_after: int  # whole seconds until an attempt is admitted again
    scope: str  # "client" or "username"
    first: bool


class Limiter(Protocol):
    """What the login route needs of a limiter (in memory, or shared through the store)."""

    limits: dict[str, Limit]

    def admit(self, client: str, username: str) -> Ticket | Refused: ...

    def forgive(self, ticket: Ticket) -> None: ...


def keys_of(client: str, username: str) -> dict[str, str]:
    """The counted keys of an attempt, by scope (usernames case-folded and cut: a flood of
    long names must not grow the keys)."""
    return {"client": f"client:{client[:64]}", "username": f"username:{username.lower()[:64]}"}


class LoginLimiter:
    """Thread-safe sliding-window counters (the API's login runs in worker threads)."""

    def __init__(
        self,
        per_client: Limit = PER_CLIENT,
        per_username: Limit = PER_USERNAME,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"client": per_client, "username": per_username}
        self._clock = clock
        self._lock = threading.Lock()
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._refusing: set[str] = set()

    def admit(self, client: str, username: str) -> Ticket | Refused:
        """Count one sign-in attempt, or refuse it when either limit is reached."""
        keys = keys_of(client, username)
        now = self._clock()
        with self._lock:
            for scope, key in keys.items():
                limit = self.limits[scope]
                times = self._recent(key, now, limit.window_s)
                if len(times) >= limit.attempts:
                    first = key not in self._refusing
                    self._refusing.add(key)
                    wait = math.ceil(times[0] + limit.window_s - now)
                    return Refused(retry_after=max(1, wait), scope=scope, first=first)
            for key in keys.values():
                self._attempts.setdefault(key, deque()).append(now)
                self._attempts.move_to_end(key)
                self._refusing.discard(key)
            while len(self._attempts) > MAX_KEYS:
                forgotten, _ = self._attempts.popitem(last=False)
                self._refusing.discard(forgotten)
        return Ticket(keys=tuple(keys.values()), at=now)

    def forgive(self, ticket: Ticket) -> None:
        """The attempt succeeded: it no longer counts against the limits."""
        with self._lock:
            for key in ticket.keys:
                times = self._attempts.get(key)
                if times is not None and ticket.at in times:
                    times.remove(ticket.at)

    def _recent(self, key: str, now: float, window_s: float) -> deque[float]:
        times = self._attempts.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window_s:
            times.popleft()
        if not times:
            del self._attempts[key]
            self._refusing.discard(key)
        return times
