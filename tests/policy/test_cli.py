"""`postloan policy validate|show` against the Typer app (the lead mounts it as `policy`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postloan.cli.policy_cmd import app
from postloan.policy import POLICY_ENV_VAR, default_policy, load_policy, parse_policy

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_env_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(POLICY_ENV_VAR, raising=False)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_ok(tmp_path: Path, default_text: str) -> None:
    result = runner.invoke(app, ["validate", str(_write(tmp_path, default_text))])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"OK: policy {default_policy().version[:12]}"


def test_validate_reports_each_problem_on_stderr(tmp_path: Path, default_text: str) -> None:
    text = default_text.replace("doubtful = 270", "doubtful = 80").replace(
        "card_overdue_times = 6", "card_overdue_times = -6"
    )
    result = runner.invoke(app, ["validate", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "2 problems" in result.stderr
    assert "classification.loan.doubtful: must be greater than substandard (90)" in result.stderr
    assert "churn.card_overdue_times: " in result.stderr


def test_validate_min_contacts_above_cap(tmp_path: Path, default_text: str) -> None:
    text = default_text.replace('"M3+" = 7 ', '"M3+" = 8 ')
    assert text != default_text
    result = runner.invoke(app, ["validate", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    assert "collections.min_contacts_per_week.M3+" in result.stderr
    assert "contact.jurisdictions.US.max_call_attempts_per_7_days" in result.stderr


def test_validate_toml_syntax_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(_write(tmp_path, "[churn\nx = 1\n"))])
    assert result.exit_code == 1
    assert "line 1" in result.stderr


def test_validate_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr


def test_show_default_round_trips_as_toml() -> None:
    result = runner.invoke(app, ["show"])
    assert result.exit_code == 0
    assert default_policy().version in result.stdout
    assert parse_policy(result.stdout).version == default_policy().version


def test_show_file_round_trips(tmp_path: Path, default_text: str) -> None:
    path = _write(tmp_path, default_text.replace("loss = 180", "loss = 240"))
    result = runner.invoke(app, ["show", "--file", str(path)])
    assert result.exit_code == 0
    shown = parse_policy(result.stdout)
    assert shown.classification.card.loss == 240
    assert shown.version == load_policy(path).version != default_policy().version


def test_show_honours_env_and_file_overrides_it(
    tmp_path: Path, default_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_path = _write(
        tmp_path, default_text.replace("technical_grace_days = 7", "technical_grace_days = 2")
    )
    monkeypatch.setenv(POLICY_ENV_VAR, str(env_path))
    result = runner.invoke(app, ["show"])
    assert result.exit_code == 0
    assert parse_policy(result.stdout).classification.technical_grace_days == 2
    other = tmp_path / "other.toml"
    other.write_text(default_text, encoding="utf-8")
    result = runner.invoke(app, ["show", "--file", str(other)])
    assert parse_policy(result.stdout).version == default_policy().version


def test_show_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", "--format", "json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["version"] == default_policy().version
    assert document["policy"] == default_policy().model_dump(mode="json")


def test_show_invalid_file_fails(tmp_path: Path, default_text: str) -> None:
    path = _write(tmp_path, default_text + "\nsurprise = 1\n")
    result = runner.invoke(app, ["show", "--file", str(path)])
    assert result.exit_code == 1
    assert "surprise: unknown parameter" in result.stderr


def test_show_rejects_unknown_format() -> None:
    result = runner.invoke(app, ["show", "--format", "yaml"])
    assert result.exit_code != 0
