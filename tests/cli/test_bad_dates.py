"""Issue 10, defects 5 and 9 on the command line: a date outside the business range or the
policy's run window is a usage error naming the option (exit 2), never a traceback, and
nothing is written."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path


def _postloan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postloan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "POSTLOAN_DATA_DIR": str(cwd / "data")},
    )


def _refused(result: subprocess.CompletedProcess[str], option: str, reason: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert option in result.stderr and reason in result.stderr, result.stderr


def _runs(cwd: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(cwd / "data" / "postloan.sqlite")
    rows = db.execute("SELECT kind, status FROM runs").fetchall()
    db.close()
    return rows


def test_report_compliance_far_date(tmp_path: Path) -> None:
    _refused(_postloan("report", "compliance", "--as-of", "9999-12-31", cwd=tmp_path),
             "--as-of", "outside 1900-01-01 .. 2199-12-31")  # fmt: skip
    _refused(_postloan("report", "collections", "--from", "0001-01-01", "--to", "2026-06-30",
                       cwd=tmp_path), "--from", "outside")  # fmt: skip


def test_run_dates_outside_the_window(tmp_path: Path) -> None:
    _refused(_postloan("run", "--as-of", "9999-12-31", cwd=tmp_path), "--as-of", "outside")
    ahead = (date.today() + timedelta(days=30)).isoformat()
    _refused(_postloan("run", "--as-of", ahead, cwd=tmp_path), "--as-of",
             "security.run_dates.max_days_ahead")  # fmt: skip
    _refused(_postloan("run", "--from", "2026-06-01", "--to", ahead, cwd=tmp_path), "--to",
             "security.run_dates.max_days_ahead")  # fmt: skip
    assert _runs(tmp_path) == [], "refused before anything is written"
    _refused(_postloan("runs", "delete-date", "--as-of", "9999-12-31", cwd=tmp_path), "--as-of",
             "no status is stored")  # fmt: skip


def test_demo_refuses_a_future_date_before_replacing_the_store(tmp_path: Path) -> None:
    ahead = (date.today() + timedelta(days=30)).isoformat()
    demo = _postloan("demo", "--as-of", ahead, "--customers", "50", "--days", "2", "--no-serve",
                     cwd=tmp_path)  # fmt: skip
    _refused(demo, "--as-of", "security.run_dates.max_days_ahead")
    assert not (tmp_path / "data" / "demo").exists()
