"""Real databases for store tests: SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL is
set (CI sets it). Each PostgreSQL test gets its own schema, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from postloan.contract import write_contract_files
from postloan.store.db import ready
from postloan.synth import SyntheticPortfolio, generate

PG_URL = os.environ.get("POSTLOAN_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
AS_OF = date(2026, 6, 30)


def _pg_schema_url(schema: str) -> str:
    assert PG_URL
    url = make_url(PG_URL)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture
def make_store(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Factory: a fresh, migrated store of the given backend; returns its URL."""
    made: list[tuple[str, str]] = []

    def factory(backend: str) -> str:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'store-{len(made)}.sqlite'}"
            made.append((backend, url))
            return ready(url)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        made.append((backend, schema))
        return ready(_pg_schema_url(schema))

    yield factory
    for backend, name in made:
        if backend == "postgresql":
            admin = create_engine(PG_URL)  # type: ignore[arg-type]
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
            admin.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, make_store) -> str:  # type: ignore[no-untyped-def]
    return make_store(request.param)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def small_portfolio() -> SyntheticPortfolio:
    return generate(accounts=400, seed=11, as_of=AS_OF)


@pytest.fixture
def contract_folder(tmp_path: Path, small_portfolio: SyntheticPortfolio) -> Path:
    folder = tmp_path / "files"
    write_contract_files(small_portfolio, folder, fmt="csv")
    return folder


IMPORT_ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


def import_all(url: str, folder: Path, suffix: str = ".csv") -> dict[str, int]:
    from postloan.imports.service import import_file

    accepted = {}
    for kind in IMPORT_ORDER:
        path = folder / f"{kind.replace('-', '_')}{suffix}"
        if path.exists():
            result = import_file(kind, path, url)
            assert result.rejected == 0, (kind, result.rejects_file)
            accepted[kind] = result.accepted
    return accepted
