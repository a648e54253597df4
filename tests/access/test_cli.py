from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from postloan.access.tables import audit_log
from postloan.cli.access_cmd import audit_app, user_app
from postloan.store.db import engine_for, ready

app = typer.Typer()
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
runner = CliRunner()
OPERATOR = f"cli:{getpass.getuser()}"  # no --as: the local operator, named by the OS user


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("POSTLOAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("POSTLOAN_DATA_DIR", str(tmp_path))
    return tmp_path


def _audit(data_dir: Path) -> list[tuple[str, str, str]]:
    engine = engine_for(ready())
    with engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    engine.dispose()
    return [(row.actor, row.action, row.target_id) for row in rows]


def _create(*extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "user",
            "create",
            "--username",
            "wang",
            "--role",
            "collector",
            "--branch",
            "BR01",
            "--new-branch",  # the store is empty: no customer has BR01 yet
            "--team",
            "T1",
            "--display-name",
            "王催收",
            *extra,
        ],
    )


def test_user_lifecycle(data_dir: Path) -> None:
    result = _create("--password", "secret-password")
    assert result.exit_code == 0, result.output
    assert "created user wang (collector" in result.output
    assert (data_dir / "postloan.sqlite").exists()

    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0, listed.output
    assert "wang" in listed.output and "collector" in listed.output and "王催收" in listed.output
    assert "argon2" not in listed.output

    again = _create("--password", "secret-password")
    assert again.exit_code == 1
    assert "exists" in again.output

    reset = runner.invoke(app, ["user", "reset-password", "wang", "--password", "tea-at-noon-8"])
    assert reset.exit_code == 0, reset.output
    disabled = runner.invoke(app, ["user", "disable", "wang"])
    assert disabled.exit_code == 0, disabled.output
    assert "no" in runner.invoke(app, ["user", "list"]).output

    assert runner.invoke(app, ["user", "disable", "nobody"]).exit_code == 1
    weak = runner.invoke(app, ["user", "reset-password", "wang", "--password", "short"])
    assert weak.exit_code == 1

    assert _audit(data_dir) == [
        (OPERATOR, "user.create", "wang"),
        (OPERATOR, "user.reset_password", "wang"),
        (OPERATOR, "user.disable", "wang"),
    ]


def test_password_prompt(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["user", "create", "--username", "li", "--role", "auditor"],
        input="prompted-password\nprompted-password\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted-password" not in result.output


def test_bad_role(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["user", "create", "--username", "x", "--role", "janitor", "--password", "12345678"]
    )
    assert result.exit_code == 2


def test_audit_verify(data_dir: Path) -> None:
    empty = runner.invoke(app, ["audit", "verify"])
    assert empty.exit_code == 0, empty.output
    assert empty.output.startswith("OK")
    _create("--password", "secret-password")
    runner.invoke(app, ["user", "disable", "wang"])
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0
    assert "OK: audit log intact (2 entries)" in ok.output

    engine = engine_for(ready())
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_log SET detail = :d WHERE seq = 1"),
            {"d": json.dumps({"role": "admin"})},
        )
    engine.dispose()
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "seq 1: altered" in bad.output
