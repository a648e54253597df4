"""Alembic environment: migrations run against the URL handed in by `postloan.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import postloan.access.tables
import postloan.areas  # noqa: F401  (every registered area's tables, on the same metadata)
from postloan.store.schema import metadata

config = context.config


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section) or {},
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        ).connect()
    with connectable.begin():
        context.configure(
            connection=connectable,
            target_metadata=metadata,
            render_as_batch=True,  # SQLite can only ALTER by copying tables
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
