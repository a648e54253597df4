"""A bounded in-process cache of finished 360° ledger views, keyed by the data they show.

The ledger part of a customer's 360° view (accounts, status history, schedules, payments,
events) changes only when an import lands, a run stores status, or the policy changes. Its key
carries the store's *data version* — the latest import id, the latest run id and the policy
version — so a cached view is never served after the data moved on: the next request simply
misses. While a run is in progress its date windows land one by one under the same run id, so
nothing is cached then.

Anything that changes the ledger outside imports and runs (issue 5's repayment agreements, which
replace schedules) must bump the version too; `data_version` is the one place to extend.

Each server worker process holds its own cache (least recently used out first, bounded in bytes,
`POSTLOAN_VIEW_CACHE_MB`, default 128). The masked customer record is never cached: it is read
and masked for the caller on every request.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable

from sqlalchemy import Connection, func, select

from postloan.store.schema import imports, runs
from postloan.views.sql import Query

DEFAULT_MB = 128
CACHE_ENV_VAR = "POSTLOAN_VIEW_CACHE_MB"

_VERSION = Query(
    select(
        select(func.max(imports.c.import_id)).scalar_subquery(),
        select(func.max(runs.c.run_id)).scalar_subquery(),
        select(func.count()).select_from(runs).where(runs.c.status == "running").scalar_subquery(),
    )
)


def data_version(conn: Connection, policy_version: str) -> tuple[object, ...] | None:
    """What the ledger views depend on; None while a run is storing status (do not cache)."""
    ((last_import, last_run, running),) = _VERSION.rows(conn, {})
    if running:
        return None
    return (last_import, last_run, policy_version)


class ViewCache:
    """Least-recently-used bytes, bounded by their total size. Thread-safe (the API runs
    sync routes in a thread pool)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def size(self) -> int:
        return self._size


def from_env() -> ViewCache:
    raw = os.environ.get(CACHE_ENV_VAR, "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MB
    except ValueError:
        raise ValueError(f"{CACHE_ENV_VAR}: not a number of megabytes: {raw!r}") from None
    if mb < 0:
        raise ValueError(f"{CACHE_ENV_VAR}: must be >= 0, got {raw!r}")
    return ViewCache(int(mb * 1024 * 1024))
