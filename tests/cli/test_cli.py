"""The `postloan` command end to end, in a subprocess like a user runs it."""

from __future__ import annotations

import sqlite3
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
        env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "POSTLOAN_DATA_DIR": str(cwd / "data")},
    )


def test_demo_main_job_then_status_and_export(tmp_path: Path) -> None:
    demo = _postloan("demo", "--customers", "300", "--days", "10", "--no-serve", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    assert "M3+" in demo.stdout and "DPD30+ ratio" in demo.stdout
    assert "account status for 10 days" in demo.stdout
    assert "demo-collector-2026" in demo.stdout, "the demo prints one login per role"
    # The demo's run allocated every open case to a collector of its branch, the demo
    # collector's own queue included.
    db = sqlite3.connect(tmp_path / "data" / "postloan.sqlite")
    unallocated, mine = db.execute(
        "SELECT (SELECT count(*) FROM cases WHERE status = 'open' AND customer_id NOT IN "
        "(SELECT customer_id FROM case_collectors)), (SELECT count(*) FROM case_collectors "
        "JOIN users USING (user_id) WHERE username = 'collector')"
    ).fetchone()
    db.close()
    assert unallocated == 0 and mine > 0
    files = tmp_path / "data" / "demo"
    assert (files / "loans.csv").exists() and (tmp_path / "data" / "postloan.sqlite").exists()

    # What the demo stored for D equals the engine run straight on the files it wrote.
    stored = tmp_path / "stored.csv"
    exp = _postloan("export", "account-status", "--as-of", "2026-06-30", "--out", str(stored),
                    cwd=tmp_path)  # fmt: skip
    assert exp.returncode == 0, exp.stderr
    direct = tmp_path / "direct.csv"
    run = _postloan("status", str(files), "--as-of", "2026-06-30", "--out", str(direct),
                    cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert stored.read_bytes() == direct.read_bytes()
    portfolio, _, _ = read_contract_files(files)
    expected = account_status(portfolio, date(2026, 6, 30))
    written = pl.read_csv(direct, infer_schema=False)
    assert written["account_id"].to_list() == expected["account_id"].to_list()
    assert written["dpd"].cast(pl.Int32).to_list() == expected["dpd"].to_list()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        res = _postloan(
            "demo", "--customers", "200", "--days", "2", "--no-serve", cwd=tmp_path / name
        )
        assert res.returncode == 0, res.stderr
        outputs.append((tmp_path / name / "data" / "demo" / "payments.csv").read_bytes())
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


def test_store_commands_exit_codes(tmp_path: Path) -> None:
    from postloan.contract import write_contract_files
    from postloan.synth import generate

    files = tmp_path / "files"
    write_contract_files(generate(accounts=80, seed=3, as_of=date(2026, 6, 30)), files)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "postloan", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={"COLUMNS": "160", "PATH": "/usr/bin:/bin", "POSTLOAN_DATA_DIR": str(tmp_path)},
        )

    assert cli("db", "upgrade").returncode == 0
    # Payments before their accounts exist: rejected, exit 1, rejects file beside the input.
    early = cli("import", "payments", str(files / "payments.csv"))
    assert early.returncode == 1 and "rejected" in early.stdout
    assert (files / "payments.rejects.csv").exists()
    for kind in ("customers", "loans", "schedules", "cards", "card-statements", "payments"):
        res = cli("import", kind, str(files / f"{kind.replace('-', '_')}.csv"))
        assert res.returncode == 0, (kind, res.stdout, res.stderr)
    assert not (files / "payments.rejects.csv").exists()
    assert cli("import", "nonsense", str(files / "loans.csv")).returncode == 2
    assert cli("import", "loans", str(tmp_path / "missing.csv")).returncode == 2
    assert cli("run").returncode == 2  # a date is required
    assert cli("run", "--from", "2026-06-10", "--to", "2026-06-01").returncode == 2
    ran = cli("run", "--from", "2026-06-25", "--to", "2026-06-30")
    assert ran.returncode == 0 and "6 date(s)" in ran.stdout, ran.stderr
    # not a terminal (a log): one line per window of dates and per area step, in order
    from postloan import areas

    assert "run: 6/6 dates computed" in ran.stdout
    said = [line.split()[2] for line in ran.stdout.splitlines() if line.startswith("run: step ")]
    assert said == [step.name for step in areas.daily_steps()] and said
    out = tmp_path / "status.csv"
    exported = cli("export", "account-status", "--as-of", "2026-06-30", "--out", str(out))
    assert exported.returncode == 0 and out.exists()
    missing = cli("export", "account-status", "--as-of", "2026-01-01", "--out", str(out))
    assert missing.returncode == 1 and "no account status stored" in missing.stderr
    loans_out = tmp_path / "loans_out.csv"
    assert cli("export", "loans", "--out", str(loans_out)).returncode == 0
    assert pl.read_csv(loans_out).height == pl.read_csv(files / "loans.csv").height


def test_cli_import_run_and_personal_export_are_audited(tmp_path: Path) -> None:
    from postloan.access.audit import entries, verify
    from postloan.contract import write_contract_files
    from postloan.store.db import engine_for
    from postloan.synth import generate

    files = tmp_path / "files"
    write_contract_files(generate(accounts=40, seed=9, as_of=date(2026, 6, 30)), files)
    for args in (
        ("import", "customers", str(files / "customers.csv")),
        ("import", "loans", str(files / "loans.csv")),
        ("run", "--as-of", "2026-06-30"),
        ("export", "customers", "--out", str(tmp_path / "c.csv")),
    ):
        res = _postloan(*args, cwd=tmp_path)
        assert res.returncode == 0, (args, res.stderr)
    engine = engine_for(f"sqlite:///{tmp_path / 'data' / 'postloan.sqlite'}")
    with engine.connect() as conn:
        actions = [e.action for e in reversed(entries(conn))]  # newest first -> oldest first
        assert verify(conn) == []
    engine.dispose()
    assert actions == ["import.run", "import.run", "run.start", "export.personal"]
