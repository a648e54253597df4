"""`postloan report complaints|satisfaction` end to end (Typer's runner on a real SQLite store
in a data folder): the JSON equals the report the API serves; the text names each breach;
bad periods are refused with exit code 2."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, true
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.policy import default_policy
from postloan.relationship import complaints, surveys
from postloan.relationship.feedback import department_report
from postloan.relationship.report import complaint_report, satisfaction_report
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from tests.relationship.conftest import NOW
from tests.store.conftest import import_all

runner = CliRunner()
POLICY = default_policy()


def test_reports_from_the_command_line(
    tmp_path: Path, rel_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSTLOAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTLOAN_DATA_DIR", str(tmp_path))
    url = ready()
    import_all(url, rel_files)
    engine = engine_for(url)
    with engine.begin() as conn:
        ids = list(conn.execute(select(customers.c.customer_id).limit(12)).scalars())
        for i, customer in enumerate(ids[:3]):
            complaints.receive(
                conn,
                POLICY,
                customer_id=customer,
                received_on=date(2026, 5, 1 + i),
                channel="phone",
                business_type="loans",
                reason="service",
                summary="慢",
                complained_about=[],
                account_id=None,
                actor="admin",
                today=date(2026, 6, 30),
                now=NOW,
            )
        vid = surveys.add_version(conn, "v1", surveys.DEFAULT_QUESTIONS, actor="admin", now=NOW)
        for i, customer in enumerate(ids):
            surveys.record_response(
                conn,
                version_id=vid,
                customer_id=customer,
                answered_on=date(2026, 6, 1),
                csat_score=1 + i % 5,
                nps_score=i % 11,
                answers={"attitude": 1 + i % 5, "products": 5 - i % 5},
                source="import",
                actor="admin",
                today=date(2026, 6, 30),
                policy=POLICY,
                now=NOW,
                comment=f"回电 1391234{i:04d}" if i % 2 else None,
            )
        want_c = complaint_report(
            conn, POLICY, date(2026, 4, 1), date(2026, 6, 30), date(2026, 6, 30), true()
        )
        want_s = satisfaction_report(conn, POLICY, date(2026, 4, 1), date(2026, 6, 30), true())
        want_d = department_report(
            conn, POLICY, date(2026, 4, 1), date(2026, 6, 30), "quarter", true(), "manager"
        )
    engine.dispose()
    env = {
        "POSTLOAN_DATA_DIR": str(tmp_path),
        "POSTLOAN_CLI_REQUIRE_LOGIN": "",
        "POSTLOAN_USER": "",
        "POSTLOAN_DATABASE_URL": "",
    }
    period = ["--from", "2026-04-01", "--to", "2026-06-30"]
    got = runner.invoke(
        app, ["report", "complaints", *period, "--as-of", "2026-06-30", "--json"], env=env
    )
    assert got.exit_code == 0, got.output
    assert json.loads(got.output) == want_c and len(want_c["breaches"]) == 3
    text = runner.invoke(app, ["report", "complaints", *period, "--as-of", "2026-06-30"], env=env)
    assert text.exit_code == 0 and text.output.count("breach: complaint") == 3
    sat = runner.invoke(app, ["report", "satisfaction", *period, "--json"], env=env)
    assert sat.exit_code == 0 and json.loads(sat.output) == want_s
    assert runner.invoke(app, ["report", "satisfaction", *period], env=env).exit_code == 0
    by = ["--by", "department", "--period", "quarter"]
    dept = runner.invoke(app, ["report", "satisfaction", *period, *by, "--json"], env=env)
    assert dept.exit_code == 0 and json.loads(dept.output) == want_d
    assert any(d["comments"] for d in want_d["departments"]) and "13912340" not in dept.output
    plain = runner.invoke(app, ["report", "satisfaction", *period, *by], env=env)
    assert plain.exit_code == 0 and "customer_service" in plain.output
    bad = runner.invoke(app, ["report", "satisfaction", *period, "--by", "tier"], env=env)
    assert bad.exit_code == 2
    backwards = runner.invoke(
        app, ["report", "complaints", "--from", "2026-06-30", "--to", "2026-04-01"], env=env
    )
    assert backwards.exit_code == 2
