"""`postloan report warnings --from --to [--json]`: the back-test as the read model computes it
(the API's), a table by default, refusals for a bad or backwards period — SQLite (the command
reads the store of the data dir)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.policy import default_policy
from postloan.risk.read import backtest_report
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from tests.risk.conftest import DATES
from tests.store.conftest import import_all

runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory, risk_files: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("risk-cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("POSTLOAN_DATABASE_URL", raising=False)
        mp.setenv("POSTLOAN_DATA_DIR", str(folder))
        url = ready()
        import_all(url, risk_files)
        run_dates(url, DATES, default_policy())
        yield folder, url


def _invoke(folder: Path, *args: str) -> Any:
    env = {"POSTLOAN_DATA_DIR": str(folder), "POSTLOAN_CLI_REQUIRE_LOGIN": "",
           "POSTLOAN_USER": "", "POSTLOAN_DATABASE_URL": ""}  # fmt: skip
    return runner.invoke(app, list(args), env=env)


def test_report_warnings_json_is_the_read_model(data: tuple[Path, str]) -> None:
    folder, url = data
    result = _invoke(folder, "report", "warnings", "--from", "2026-03-31", "--to", "2026-06-30",
                     "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    engine = engine_for(url)
    with engine.connect() as conn:
        results, overlap = backtest_report(conn, default_policy(), DATES[0], DATES[-1])
    engine.dispose()
    assert got["results"] == json.loads(json.dumps(results.to_dicts()))
    assert got["overlap"] == json.loads(json.dumps(overlap.to_dicts()))
    assert {r["signal_id"] for r in got["results"]} == {s.id for s in default_policy().risk.signals}


def test_report_warnings_table_and_refusals(data: tuple[Path, str]) -> None:
    folder, _ = data
    table = _invoke(folder, "report", "warnings", "--from", "2026-03-31", "--to", "2026-06-30")
    assert table.exit_code == 0 and "early_arrears" in table.output
    backwards = _invoke(folder, "report", "warnings", "--from", "2026-06-30", "--to", "2026-03-31")
    assert backwards.exit_code == 2
    bad = _invoke(folder, "report", "warnings", "--from", "2026-02-30", "--to", "2026-03-31")
    assert bad.exit_code != 0
