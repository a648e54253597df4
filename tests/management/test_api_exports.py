"""The pack through the API, the workbook and the command line, on the hand-built history
(SQLite and PostgreSQL): the workbook read back with openpyxl equals the API's figures; CSV
and Parquet equal them too; drill-down is scoped and audited; bad input answers 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from postloan.access.roles import Role
from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.access.users import create_user
from postloan.api.app import create_app
from postloan.cli.main import app as cli_app
from postloan.management.export import AMOUNT_FORMAT, RATE_FORMAT
from postloan.store.db import engine_for
from tests.management.conftest import History

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


@dataclass
class Api:
    client: TestClient
    history: History
    tokens: dict[str, str]

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(
            path, params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"}
        )

    def audit(self, action: str) -> list[Any]:
        engine = engine_for(self.history.url)
        with engine.connect() as conn:
            rows = conn.execute(select(audit_log).where(audit_log.c.action == action)).all()
        engine.dispose()
        return list(rows)


@pytest.fixture
def api(history: History, tmp_path: Path) -> Iterator[Api]:
    engine = engine_for(history.url)
    tokens = {}
    with engine.begin() as conn:
        for name, role, branch in (
            ("boss", Role.MANAGER, None),
            ("super", Role.COLLECTION_SUPERVISOR, "B1"),
            ("coll", Role.COLLECTOR, None),
        ):
            user = create_user(
                conn,
                username=name,
                password="correct horse battery",
                role=role,
                branch_id=branch,
                display_name=name,
                now=NOW,
            )
            tokens[name] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
    engine.dispose()
    app = create_app(history.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, history, tokens)


def test_the_workbook_equals_the_api(api: Api) -> None:
    data = api.get("boss", "/api/management/pack", **PERIOD).json()
    reply = api.get("boss", "/api/management/pack.xlsx", **PERIOD)
    assert reply.status_code == 200, reply.text
    book = load_workbook(BytesIO(reply.content))
    assert book.sheetnames[:3] == ["pack", "portfolio", "account_type"]
    assert {"branch", "officer", "term_band", "roll", "vintage", "dormant", "staff"} <= set(
        book.sheetnames
    )
    about = {r[0]: r[1] for r in book["pack"].iter_rows(max_row=5, values_only=True)}
    assert about["definitions_version"] == data["definitions_version"]
    assert json.loads(about["runs"]) == data["runs"]
    for dimension in ("portfolio", "branch", "product", "officer"):
        sheet = book[dimension]
        header = [c.value for c in sheet[1]]
        assert sheet.freeze_panes == "E2"  # header row and the key columns stay in view
        assert all(c.font.bold for c in sheet[1])
        rows = [
            dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
        ]
        expected = [r for r in data["figures"] if r["dimension"] == dimension]
        assert len(rows) == len(expected) > 0
        for got, want in zip(rows, expected, strict=True):
            assert (got["as_of"], got["value"]) == (want["as_of"], want["value"])
            assert round(got["outstanding_principal"] * 100) == want["outstanding_principal"]
            for kpi in data["definitions"]:
                assert (
                    got[kpi] == pytest.approx(want[kpi])
                    if want[kpi] is not None
                    else got[kpi] is None
                )
        column = {name: i + 1 for i, name in enumerate(header)}
        assert sheet.cell(2, column["npl_ratio"]).number_format == RATE_FORMAT
        assert sheet.cell(2, column["outstanding_principal"]).number_format == AMOUNT_FORMAT
    assert api.audit("export")  # the workbook is an export: audited


def test_drill_down_is_scoped_audited_and_sums_to_the_cell(api: Api) -> None:
    data = api.get("boss", "/api/management/pack", **PERIOD).json()
    cell = next(
        r
        for r in data["figures"]
        if r["dimension"] == "branch" and r["value"] == "B1" and r["npl_ratio_numerator"]
    )
    found = api.get(
        "boss",
        "/api/management/drill",
        as_of=cell["as_of"],
        kpi="npl_ratio",
        dimension="branch",
        value="B1",
    ).json()
    assert found["numerator"] == cell["npl_ratio_numerator"]
    assert sum(a["counted"] for a in found["accounts"]) == cell["npl_ratio_numerator"]
    assert found["definitions_version"] == data["definitions_version"]
    assert api.audit("management.drill")
    # A branch supervisor: B1's accounts, none of B2's; the pack of B1 only.
    mine = api.get(
        "super",
        "/api/management/drill",
        as_of=cell["as_of"],
        kpi="npl_ratio",
        dimension="branch",
        value="B1",
    ).json()
    assert mine["numerator"] == cell["npl_ratio_numerator"]
    other = api.get(
        "super",
        "/api/management/drill",
        as_of=cell["as_of"],
        kpi="npl_ratio",
        dimension="portfolio",
        value="all",
    ).json()
    assert {a["branch"] for a in other["accounts"]} <= {"B1"}
    theirs = api.get("super", "/api/management/pack", **PERIOD).json()
    assert {r["value"] for r in theirs["figures"] if r["dimension"] == "branch"} == {"B1"}
    # Collectors hold no management action; supervisors export nothing.
    assert api.get("coll", "/api/management/pack", **PERIOD).status_code == 403
    assert api.get("super", "/api/management/pack.xlsx", **PERIOD).status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/management/drill", {"as_of": "2026-06-16"}, 404),  # not stored
        ("/api/management/drill", {"kpi": "no_such_kpi"}, 404),
        ("/api/management/drill", {"dimension": "planet"}, 422),
        ("/api/management/drill", {"as_of": "2026-02-30"}, 422),
        ("/api/management/pack", {"from": "2026-06-30", "to": "2026-01-01"}, 422),
        ("/api/management/pack", {"from": "2020-01-01", "to": "2020-03-31"}, 422),  # nothing stored
        ("/api/management/pack", {"dimension": "planet"}, 422),
        ("/api/management/drill", {"value": "x\x00y"}, 422),
    ],
)
def test_bad_input_is_a_4xx(api: Api, path: str, params: dict[str, str], status: int) -> None:
    reply = api.get("boss", path, **params)
    assert reply.status_code == status, reply.text


def test_the_command_line_writes_what_the_api_answers(api: Api, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "POSTLOAN_DATA_DIR": str(tmp_path / "data"),
        "POSTLOAN_CLI_REQUIRE_LOGIN": "",
        "POSTLOAN_USER": "",
        "POSTLOAN_DATABASE_URL": api.history.url,
    }
    out = runner.invoke(
        cli_app,
        [
            "report",
            "pack",
            "--from",
            PERIOD["from"],
            "--to",
            PERIOD["to"],
            "--json",
            "--xlsx",
            str(tmp_path / "p.xlsx"),
            "--parquet",
            str(tmp_path / "pq"),
            "--csv",
            str(tmp_path / "csv"),
        ],
        env=env,
    )
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout.strip().splitlines()[-1])
    data = api.get("boss", "/api/management/pack", **PERIOD).json()
    assert printed["figures"] == data["figures"]
    assert printed["roll"] == data["roll"]
    parquet = pl.read_parquet(tmp_path / "pq" / "figures.parquet")
    csv = pl.read_csv(tmp_path / "csv" / "figures.csv", try_parse_dates=True)
    for frame in (parquet, csv):
        whole = frame.filter(pl.col("dimension") == "portfolio").sort("as_of")
        want = [r for r in data["figures"] if r["dimension"] == "portfolio"]
        assert whole["npl_ratio_numerator"].to_list() == [r["npl_ratio_numerator"] for r in want]
    assert load_workbook(tmp_path / "p.xlsx").sheetnames[0] == "pack"
    assert json.loads((tmp_path / "pq" / "pack.json").read_text())["runs"] == data["runs"]
    assert api.audit("export")
    bad = runner.invoke(
        cli_app, ["report", "pack", "--from", "2026-06-30", "--to", "2026-01-01"], env=env
    )
    assert bad.exit_code == 2
