"""The migrations build exactly the schema the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import postloan.access.tables
import postloan.collections.tables  # noqa: F401  (and the collections tables)
from postloan.store.db import engine_for
from postloan.store.migrate import current_revision, head_revision, upgrade
from postloan.store.schema import metadata


def test_migrated_schema_equals_the_models(store_url: str) -> None:
    engine = engine_for(store_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert upgrade(engine) is False, "upgrading an up-to-date store does nothing"
    finally:
        engine.dispose()
