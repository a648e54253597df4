"""Stores for tiering's integration tests: a synthetic portfolio's contract files (written once
per session) imported into fresh stores — SQLite always, PostgreSQL when
POSTLOAN_TEST_DATABASE_URL is set (a schema per store, dropped afterwards)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postloan.contract import write_contract_files
from postloan.store.db import engine_for
from postloan.synth import generate
from tests.store.conftest import BACKENDS, import_all, make_store  # noqa: F401

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 31), AS_OF]


@pytest.fixture(scope="session")
def tier_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tier-files")
    write_contract_files(generate(accounts=300, seed=14, as_of=AS_OF), folder, fmt="csv")
    return folder


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def filled(make_store: Any, backend: str, files: Path) -> str:  # noqa: F811
    url: str = make_store(backend)
    import_all(url, files)
    return url


def table_rows(url: str, table: Any, skip: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        columns = [c for c in table.columns if c.name not in skip]
        rows = conn.execute(select(*columns)).all()
    engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)
