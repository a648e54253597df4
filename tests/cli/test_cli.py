"""The `postloan` command end to end, in a subprocess like a user runs it."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl

from postloan.contract import read_contract_files
from postloan.engine import account_status


def _postloan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postloan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin"},
    )


def test_demo_then_status_export(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    demo = _postloan("demo", "--customers", "300", "--data", str(data), cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "M3+" in demo.stdout and "DPD30+ ratio" in demo.stdout
    assert (data / "loans.csv").exists() and (data / "payments.csv").exists()

    out = tmp_path / "status.csv"
    run = _postloan("status", str(data), "--as-of", "2026-06-30", "--out", str(out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    written = pl.read_csv(out, infer_schema=False)
    portfolio, _, _ = read_contract_files(data)
    expected = account_status(portfolio, date(2026, 6, 30))
    assert written["account_id"].to_list() == expected["account_id"].to_list()
    assert written["dpd"].cast(pl.Int32).to_list() == expected["dpd"].to_list()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        res = _postloan("demo", "--customers", "200", "--data", str(tmp_path / name), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        outputs.append((tmp_path / name / "payments.csv").read_bytes())
    assert outputs[0] == outputs[1]


def test_policy_commands_are_wired(tmp_path: Path) -> None:
    shown = _postloan("policy", "show", cwd=tmp_path)
    assert shown.returncode == 0 and "dpd_buckets" in shown.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(shown.stdout.replace("technical_grace_days = 7", "technical_grace_days = -1"))
    res = _postloan("policy", "validate", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    assert "classification.technical_grace_days" in res.stderr


def test_status_rejects_bad_date(tmp_path: Path) -> None:
    res = _postloan("status", str(tmp_path), "--as-of", "2026-13-01", cwd=tmp_path)
    assert res.returncode == 2
    assert "--as-of" in res.stderr and "2026-13-01" in res.stderr
    assert "Traceback" not in res.stderr
