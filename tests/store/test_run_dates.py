"""Issue 10, defect 5 — one bad run date poisoned the store: a run of 9999-12-31 failed in its
collections step yet kept its status rows, and every later run, the 360° view and agreements
broke. Now a run is all or nothing, dates outside the policy's window are refused before
anything is written, and the latest stored date can be deleted (audited). Real databases:
SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, DateTime, func, literal, select

import postloan.access.tables
import postloan.collections.tables  # noqa: F401  (every table on metadata)
from postloan.access.audit import verify
from postloan.access.tables import audit_log
from postloan.policy import Policy, default_policy
from postloan.runs.service import run_dates
from postloan.runs.stored_dates import DateNotDeletable, delete_latest_date
from postloan.runs.window import RunDateError, RunWindow, check_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, metadata, runs, staged_status
from tests.store.conftest import AS_OF, import_all

POISON = date(9999, 12, 31)


def allowing(days_ahead: int, policy: Policy | None = None) -> Policy:
    """The default policy with another `security.run_dates.max_days_ahead`."""
    base = policy or default_policy()
    security = base.security
    window = security.run_dates.model_copy(update={"max_days_ahead": days_ahead})
    return base.model_copy(update={"security": security.model_copy(update={"run_dates": window})})


# Bookkeeping a run keeps whatever happens: its own record, and the policy it named.
BOOKKEEPING = {"runs", "policy_versions"}


def snapshot(url: str, skip: set[str] = BOOKKEEPING) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    engine = engine_for(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    engine.dispose()
    return out


def run_records(url: str) -> list[tuple[str, str, str | None]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.kind, runs.c.status, runs.c.error).order_by(runs.c.run_id)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def imported(store_url: str, contract_folder: Path) -> str:
    import_all(store_url, contract_folder)
    return store_url


# --- (a) a failed run leaves nothing ----------------------------------------------------------


def test_a_run_failing_in_its_collections_step_leaves_the_store_unchanged(imported: str) -> None:
    """9999-12-31 passes the engine and the status write, then fails in the collections step
    (the weekly contact floors overflow the calendar). Before: its 400 status rows stayed."""
    url = imported
    wide = allowing(3_000_000)  # the window check would refuse the date up front
    run_dates(url, [AS_OF - timedelta(days=1), AS_OF], default_policy())
    before = snapshot(url)
    with pytest.raises(OverflowError):
        run_dates(url, [POISON], wide)
    assert snapshot(url) == before
    assert run_records(url)[-1][:2] == ("daily", "failed")
    # And the store is not poisoned: the next run works.
    assert run_dates(url, [AS_OF], default_policy()).rows > 0


def test_a_failed_rerun_of_stored_dates_keeps_their_old_rows(imported: str) -> None:
    """A backfill that re-runs stored dates and fails late keeps those dates' old rows and
    cases (before: the old rows were replaced, window by window, then the run failed)."""
    url = imported
    run_dates(url, [AS_OF - timedelta(days=1), AS_OF], default_policy())
    before = snapshot(url)
    with pytest.raises(OverflowError):
        run_dates(url, [AS_OF - timedelta(days=1), AS_OF, POISON], allowing(3_000_000))
    assert snapshot(url) == before
    engine = engine_for(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(staged_status)).scalar() == 0
        assert conn.execute(select(func.max(account_status.c.as_of))).scalar() is not None
        run_ids = set(conn.execute(select(account_status.c.run_id).distinct()).scalars())
    engine.dispose()
    assert run_ids == {1}, "the stored rows are still the first run's"


# --- (b) the window ---------------------------------------------------------------------------


def test_dates_outside_the_window_are_refused_before_anything_is_written(imported: str) -> None:
    url = imported
    before = snapshot(url, skip=set())
    with pytest.raises(RunDateError) as far:
        run_dates(url, [POISON], default_policy())
    assert far.value.field == "as_of" and "max_days_ahead" in str(far.value)
    ahead = date.today() + timedelta(days=default_policy().security.run_dates.max_days_ahead + 1)
    with pytest.raises(RunDateError, match=r"as_of: .* is after"):
        run_dates(url, [ahead], default_policy())
    with pytest.raises(RunDateError) as early:
        run_dates(url, [date(1900, 1, 1)], default_policy())
    assert early.value.field == "as_of" and "first disbursement" in str(early.value)
    with pytest.raises(RunDateError) as backfill:
        run_dates(url, [date(1990, 1, 1), AS_OF], default_policy())
    assert backfill.value.field == "from"
    with pytest.raises(RunDateError) as backfill_end:
        run_dates(url, [AS_OF, POISON], default_policy())
    assert backfill_end.value.field == "to"
    assert snapshot(url, skip=set()) == before, "a refused run leaves not even a run record"


def test_the_window_bounds_come_from_the_policy_and_never_overflow() -> None:
    today = date(2026, 12, 2)
    window = RunWindow(earliest=date(2021, 7, 25), latest=today + timedelta(days=7),
                       first_opened=date(2021, 8, 25))  # fmt: skip
    check_dates(window, date(2021, 7, 25), date(2026, 12, 9), ("from", "to"))  # both edges in
    with pytest.raises(RunDateError, match="to: 2026-12-10"):
        check_dates(window, date(2026, 12, 1), date(2026, 12, 10), ("from", "to"))
    with pytest.raises(RunDateError, match="from: 2021-07-24"):
        check_dates(window, date(2021, 7, 24), date(2026, 12, 1), ("from", "to"))
    # A policy allowing millions of days clamps to the calendar instead of overflowing.
    from postloan.runs.window import upper_window

    assert upper_window(allowing(10**9), today).latest == date.max


def test_an_empty_store_has_only_the_upper_bound(store_url: str) -> None:
    """No loans or cards: nothing can be stored (so nothing poisoned); the upper bound holds."""
    assert run_dates(store_url, [date(2000, 1, 3)], default_policy()).rows == 0
    with pytest.raises(RunDateError):
        run_dates(store_url, [POISON], default_policy())


# --- (c) deleting the latest stored date ------------------------------------------------------


WORK_TABLES = (
    "account_status", "cases", "case_stages", "case_accounts", "tasks", "case_strategies",
    "case_ratings", "alerts", "legal_proposals", "promises",
)  # fmt: skip


def _work_state(url: str, ignore: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """What the runs derived, without surrogate keys and wall-clock stamps (a rebuilt case
    gets a new id; the same history is what must match)."""
    surrogate = {"case_id", "task_id", "alert_id", "proposal_id", "opened_run_id", *ignore}
    tables = WORK_TABLES
    engine = engine_for(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in tables:
            table = metadata.tables[name]
            columns = [c for c in table.columns
                       if c.name not in surrogate and not isinstance(c.type, DateTime)]  # fmt: skip
            rows = conn.execute(select(*columns)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    engine.dispose()
    return out


def test_deleting_the_latest_date_is_as_if_it_was_never_run(
    make_store, contract_folder: Path, store_url: str
) -> None:  # type: ignore[no-untyped-def]
    backend = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    first, latest = AS_OF - timedelta(days=30), AS_OF
    once = make_store(backend)
    import_all(once, contract_folder)
    run_dates(once, [first], default_policy())
    import_all(store_url, contract_folder)
    run_dates(store_url, [first], default_policy())
    run_dates(store_url, [latest], default_policy())
    assert _work_state(store_url) != _work_state(once)

    deleted = delete_latest_date(store_url, latest, default_policy(), "risk-1")
    assert deleted.rows > 0 and deleted.latest == first
    assert _work_state(store_url) == _work_state(once)
    assert run_records(store_url)[-1][:2] == ("delete", "succeeded")
    engine = engine_for(store_url)
    with engine.connect() as conn:
        entry = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).one()
        assert verify(conn) == []
    engine.dispose()
    assert (entry.actor, entry.action, entry.target_id) == ("risk-1", "run.delete_date",
                                                           latest.isoformat())  # fmt: skip
    # Running the date again gives back what was deleted.
    run_dates(store_url, [latest], default_policy())
    run_dates(once, [latest], default_policy())
    assert _work_state(store_url, ("run_id",)) == _work_state(once, ("run_id",))


def test_only_the_latest_stored_date_can_be_deleted(imported: str) -> None:
    url = imported
    run_dates(url, [AS_OF - timedelta(days=1), AS_OF], default_policy())
    before = snapshot(url, skip=set())
    with pytest.raises(DateNotDeletable, match="not the latest") as middle:
        delete_latest_date(url, AS_OF - timedelta(days=1), default_policy(), "risk-1")
    assert middle.value.stored
    with pytest.raises(DateNotDeletable, match="no status is stored") as missing:
        delete_latest_date(url, AS_OF + timedelta(days=1), default_policy(), "risk-1")
    assert not missing.value.stored
    assert snapshot(url, skip=set()) == before


def test_deleting_the_only_date_undoes_everything_it_derived(imported: str) -> None:
    url = imported
    empty = _work_state(url)
    run_dates(url, [AS_OF], default_policy())
    assert _work_state(url) != empty
    assert delete_latest_date(url, AS_OF, default_policy(), "risk-1").latest is None
    assert _work_state(url) == empty


def test_a_store_poisoned_by_the_old_code_is_recovered_by_deleting_the_date(
    imported: str,
) -> None:
    """The store as the old code left it: a failed 9999-12-31 run's status rows. Every run
    failed on them (the cases replay every stored date from the run's first on); deleting the
    date — allowed although new runs of it are refused — makes runs work again."""
    url = imported
    run_dates(url, [AS_OF], default_policy())
    columns = list(account_status.columns)
    engine = engine_for(url)
    with engine.begin() as conn:  # what the old run committed before its collections failed
        copied = [literal(POISON, Date()) if c.name == "as_of" else c for c in columns]
        poisoned = select(*copied).where(account_status.c.as_of == AS_OF)
        conn.execute(account_status.insert().from_select([c.name for c in columns], poisoned))
    engine.dispose()
    with pytest.raises(OverflowError):
        run_dates(url, [AS_OF], default_policy())
    deleted = delete_latest_date(url, POISON, default_policy(), "risk-1")
    assert deleted.rows > 0 and deleted.latest == AS_OF
    assert run_dates(url, [AS_OF], default_policy()).rows == deleted.rows


OVERLAPPING_BACKFILL = """
import sys
from datetime import date, timedelta
from postloan.policy import default_policy
from postloan.runs.service import date_range, run_dates
last = date.fromisoformat(sys.argv[2])
run_dates(sys.argv[1], date_range(last - timedelta(days=39), last), default_policy())
"""


def test_overlapping_runs_at_once_all_succeed(imported: str, tmp_path: Path) -> None:
    """Three processes backfill overlapping dates at once: their publishing transactions take
    turns (before, on PostgreSQL the later ones failed on the first one's rows)."""
    url = imported
    script = tmp_path / "backfill.py"
    script.write_text(OVERLAPPING_BACKFILL)
    root = Path(__file__).resolve().parents[2]
    ends = [AS_OF - timedelta(days=k) for k in (0, 10, 20)]
    procs = [
        subprocess.Popen([sys.executable, str(script), url, end.isoformat()], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for end in ends
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert [status for _, status, _ in run_records(url)] == ["succeeded"] * 3
    engine = engine_for(url)
    with engine.connect() as conn:
        dates = conn.execute(select(func.count(func.distinct(account_status.c.as_of)))).scalar()
    engine.dispose()
    assert dates == 60
