"""Issue 10, hardening — a run killed mid-way (SIGKILL) stayed `running` forever. At the next
run's start a run whose process is gone is marked failed (its liveness lock is free) and what
it staged is dropped; a run still alive in another process is left alone. Real processes,
real databases (SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select

from postloan.policy import default_policy
from postloan.runs.liveness import ABANDONED, fail_abandoned_runs
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, runs, staged_status
from tests.store.conftest import AS_OF, import_all

ROOT = Path(__file__).resolve().parents[2]

# A backfill of two windows whose process dies right after the first window was staged
# (committed to staged_status): the machine goes down between windows.
DIE_BETWEEN_WINDOWS = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import date, timedelta
    from postloan.policy import default_policy
    from postloan.runs.service import date_range, run_dates

    def die(done, total):
        os.kill(os.getpid(), signal.SIGKILL)

    last = date.fromisoformat(sys.argv[2])
    run_dates(sys.argv[1], date_range(last - timedelta(days=40), last), default_policy(), die)
    """
)

# A backfill that stops after its first window until the test lets it go on.
PAUSE_AFTER_FIRST_WINDOW = textwrap.dedent(
    """
    import sys, time
    from datetime import date, timedelta
    from pathlib import Path
    from postloan.policy import default_policy
    from postloan.runs.service import date_range, run_dates

    def pause(done, total):
        if done < total:
            Path(sys.argv[3]).touch()
            while not Path(sys.argv[4]).exists():
                time.sleep(0.05)

    last = date.fromisoformat(sys.argv[2])
    run_dates(sys.argv[1], date_range(last - timedelta(days=40), last), default_policy(), pause)
    """
)


def _python(script: Path, *args: str) -> list[str]:
    return [sys.executable, str(script), *args]


def _state(url: str) -> tuple[list[tuple[str, str | None]], int, int]:
    """(status and error of every run, staged rows, stored status rows)."""
    engine = engine_for(url)
    with engine.connect() as conn:
        records = [
            (r.status, r.error)
            for r in conn.execute(select(runs.c.status, runs.c.error).order_by(runs.c.run_id))
        ]
        staged = conn.execute(select(func.count()).select_from(staged_status)).scalar_one()
        stored = conn.execute(select(func.count()).select_from(account_status)).scalar_one()
    engine.dispose()
    return records, int(staged), int(stored)


def test_a_run_killed_between_windows_is_failed_at_the_next_start(
    store_url: str, contract_folder: Path, tmp_path: Path
) -> None:
    import_all(store_url, contract_folder)
    run_dates(store_url, [AS_OF], default_policy())
    script = tmp_path / "die.py"
    script.write_text(DIE_BETWEEN_WINDOWS)
    proc = subprocess.run(_python(script, store_url, AS_OF.isoformat()), cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == -9, proc.stderr  # it really died by SIGKILL
    records, staged, stored = _state(store_url)
    assert [status for status, _ in records] == ["succeeded", "running"]
    assert staged > stored, "its first window (31 dates) was staged, and nothing published"

    assert fail_abandoned_runs(store_url) == [2]
    records, staged, after = _state(store_url)
    assert records[1] == ("failed", ABANDONED)
    assert staged == 0 and after == stored
    assert fail_abandoned_runs(store_url) == [], "once is enough"


def test_a_live_run_in_another_process_is_not_marked_failed(
    store_url: str, contract_folder: Path, tmp_path: Path
) -> None:
    import_all(store_url, contract_folder)
    script = tmp_path / "pause.py"
    script.write_text(PAUSE_AFTER_FIRST_WINDOW)
    paused, go = tmp_path / "paused", tmp_path / "go"
    proc = subprocess.Popen(
        _python(script, store_url, AS_OF.isoformat(), str(paused), str(go)), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not paused.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the run never reached its first window"
            time.sleep(0.05)
        # Another process's start (this one) checks the running run: its lock is held.
        assert fail_abandoned_runs(store_url) == []
        assert _state(store_url)[0] == [("running", None)]
        go.touch()
        _, err = proc.communicate(timeout=240)
    finally:
        go.touch()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert _state(store_url)[0] == [("succeeded", None)]
