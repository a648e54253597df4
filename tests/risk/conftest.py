"""Stores for risk's integration tests: a synthetic portfolio's contract files (written once
per session) imported into fresh stores — SQLite always, PostgreSQL when
POSTLOAN_TEST_DATABASE_URL is set (a schema per store, dropped afterwards)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from postloan.contract import write_contract_files
from postloan.synth import generate
from tests.churn.conftest import filled, table_rows  # noqa: F401
from tests.store.conftest import BACKENDS, import_all, make_store  # noqa: F401

AS_OF = date(2026, 6, 30)
# Month ends and a mid-month date: windows of 30 days have something to compare with.
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 31), AS_OF]


@pytest.fixture(scope="session")
def risk_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("risk-files")
    write_contract_files(generate(accounts=300, seed=13, as_of=AS_OF), folder, fmt="csv")
    return folder


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def run_all(url: str, dates: list[date], policy: Any) -> None:
    from postloan.runs.service import run_dates

    run_dates(url, dates, policy)
