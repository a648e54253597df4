"""SQLAlchemy engines for the store, and `ready()`: any command upgrades the schema itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from postloan.store.config import database_url
from postloan.store.migrate import upgrade


def engine_for(url: str | None = None, **pool: Any) -> Engine:
    """An engine for the store; `pool` passes pool settings (pool_size, max_overflow, ...)."""
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the daily run's writer
            cur.execute("PRAGMA foreign_keys=ON")
            # Reads through a memory map skip a copy per page: ~10 % off a 360° view. Pages
            # are shared with the OS cache, so this reserves address space, not memory.
            cur.execute("PRAGMA mmap_size=1073741824")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


def ready(url: str | None = None) -> str:
    """The database URL, with the schema upgraded to the latest migration."""
    url = url or database_url()
    engine = engine_for(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url
