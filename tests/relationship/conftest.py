"""Stores for the relationship area's integration tests: a synthetic portfolio's contract
files (written once per session) imported into fresh stores and run for three month ends —
SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set (a schema per store)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from postloan.access.users import create_user
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.synth import generate
from tests.store.conftest import BACKENDS, import_all, make_store  # noqa: F401

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 4, 30), date(2026, 5, 31), AS_OF]
NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
STAFF = {
    "cs1": "customer_service",
    "cs2": "customer_service",
    "senior": "manager",
    "credit1": "credit_officer",
    "credit2": "credit_officer",
    "risk": "risk_manager",
}


@pytest.fixture(scope="session")
def rel_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("relationship-files")
    write_contract_files(generate(accounts=200, seed=15, as_of=AS_OF), folder, fmt="csv")
    return folder


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(make_store: Any, backend: str, rel_files: Path) -> str:  # noqa: F811
    """A store with the portfolio run for DATES and one user per STAFF name."""
    url: str = make_store(backend)
    import_all(url, rel_files)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        for name, role in STAFF.items():
            create_user(conn, username=name, password=PASSWORD, role=role, now=NOW)
    engine.dispose()
    return url
