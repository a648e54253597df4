"""The login rate limits counted in the store, for several server processes
(`postloan serve --workers N`): the same limits, sliding windows and answers as the in-memory
`ratelimit.LoginLimiter`, but every worker sees every attempt, so N workers do not give a
client N times the limit.

Each admission is one short write transaction: prune attempts older than the longest window,
count the two keys' attempts in their windows, then record the attempt — or refuse it. The
transaction is serialised across processes (PostgreSQL: a transaction-scoped advisory lock;
SQLite: the prune's write lock, taken first), so parallel attempts cannot all slip under the
limit. A sign-in costs an Argon2 hash (tens of milliseconds); this adds one round trip.

Time is the machine's clock in epoch seconds (`time.time`): shared by the processes, unlike
`time.monotonic`. A refusal is audited once per flood: a `refused:` row marks a key already
refused since its last admitted attempt, for every process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from postloan.access.ratelimit import PER_CLIENT, PER_USERNAME, Limit, Refused, Ticket, keys_of
from postloan.access.tables import login_attempts

LOCK_ID = 0x706C_6C6D  # the advisory lock's number ("pllm"): one lock for every admission
REFUSED = "refused:"
A = login_attempts.c


class SharedLoginLimiter:
    """`LoginLimiter`'s interface over the store's `login_attempts` table."""

    def __init__(
        self,
        engine: Engine,
        per_client: Limit = PER_CLIENT,
        per_username: Limit = PER_USERNAME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.limits = {"client": per_client, "username": per_username}
        self._clock = clock

    def admit(self, client: str, username: str) -> Ticket | Refused:
        """Count one sign-in attempt, or refuse it when either limit is reached."""
        keys = keys_of(client, username)
        now = self._clock()
        longest = max(limit.window_s for limit in self.limits.values())
        with self.engine.begin() as conn:
            self._serialise(conn)
            conn.execute(delete(login_attempts).where(A.at <= now - longest))
            for scope, key in keys.items():
                limit = self.limits[scope]
                count, oldest = conn.execute(
                    select(func.count(), func.min(A.at)).where(
                        A.key == key, A.at > now - limit.window_s
                    )
                ).one()
                if count >= limit.attempts:
                    marker = REFUSED + key
                    first = not conn.execute(
                        select(func.count()).where(A.key == marker, A.at > now - limit.window_s)
                    ).scalar_one()
                    if first:
                        conn.execute(insert(login_attempts).values(key=marker, at=now))
                    wait = math.ceil(oldest + limit.window_s - now)
                    return Refused(retry_after=max(1, wait), scope=scope, first=first)
            markers = [REFUSED + key for key in keys.values()]
            conn.execute(delete(login_attempts).where(A.key.in_(markers)))
            ids = tuple(self._record(conn, key, now) for key in keys.values())
        return Ticket(keys=tuple(keys.values()), at=now, ids=ids)

    def forgive(self, ticket: Ticket) -> None:
        """The attempt succeeded: it no longer counts against the limits."""
        if ticket.ids:
            with self.engine.begin() as conn:
                conn.execute(delete(login_attempts).where(A.attempt_id.in_(ticket.ids)))

    @staticmethod
    def _record(conn: Connection, key: str, at: float) -> int:
        row = conn.execute(insert(login_attempts).values(key=key, at=at)).inserted_primary_key
        assert row is not None
        return int(row[0])

    def _serialise(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
