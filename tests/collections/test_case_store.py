"""Cases in the store after real runs (SQLite, and PostgreSQL when configured).

- the case tables agree with the stored status on every date (one open case per overdue
  customer, its stage the stage of the customer's worst bucket, stage history contiguous,
  closures on the first date with nothing overdue);
- one backfill = the same dates run one by one = a re-run of an old date (replayed): identical.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postloan.collections.reminders import complete
from postloan.collections.tables import case_accounts, case_stages, cases, tasks
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import date_range, run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from postloan.synth import generate
from tests.store.conftest import AS_OF, BACKENDS, import_all

POLICY = default_policy()
FIRST = AS_OF - timedelta(days=44)
DATES = date_range(FIRST, AS_OF)


def _store(make_store: Any, backend: str, folder: Path) -> str:
    url: str = make_store(backend)
    if not (folder / "loans.csv").exists():
        write_contract_files(generate(accounts=300, seed=21, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    return url


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The case tables without ids or run ids (ids depend on insertion order)."""
    engine = engine_for(url)
    with engine.connect() as conn:
        case_rows = conn.execute(select(cases)).all()
        key = {r.case_id: (r.customer_id, str(r.opened_on)[:10]) for r in case_rows}
        out = {
            "cases": sorted(
                (
                    r.customer_id,
                    str(r.opened_on)[:10],
                    r.status,
                    r.stage,
                    str(r.closed_on)[:10] if r.closed_on else None,
                    r.close_reason,
                    r.opened_max_dpd,
                    r.opened_overdue_amount,
                )
                for r in case_rows
            ),
            "stages": sorted(
                (
                    key[r.case_id],
                    str(r.entered_on)[:10],
                    r.stage,
                    str(r.left_on)[:10] if r.left_on else None,
                )
                for r in conn.execute(select(case_stages)).all()
            ),
            "accounts": sorted(
                (key[r.case_id], r.account_id, str(r.added_on)[:10])
                for r in conn.execute(select(case_accounts)).all()
            ),
            "reminders": sorted(
                _reminder_row(r)
                for r in conn.execute(select(tasks).where(tasks.c.kind == "reminder")).all()
            ),
            "contact_tasks": sorted(
                (r.customer_id, r.account_id, str(r.due_by)[:10], r.dpd, r.status)
                for r in conn.execute(select(tasks).where(tasks.c.kind == "contact")).all()
            ),
        }
    engine.dispose()
    return out


def _reminder_row(r: Any) -> tuple[Any, ...]:
    days = (r.overdue_from, r.created_on, r.window_start, r.due_by)
    return (r.account_id, *(str(d)[:10] for d in days), r.dpd, r.status)


def _overdue(url: str) -> dict[str, dict[str, tuple[str, int]]]:
    """date -> overdue account -> (customer, DPD), from the stored status."""
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                account_status.c.as_of,
                account_status.c.account_id,
                account_status.c.customer_id,
                account_status.c.dpd,
            )
        ).all()
    engine.dispose()
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for r in rows:
        day = out.setdefault(str(r.as_of)[:10], {})
        if r.dpd > 0:
            day[r.account_id] = (r.customer_id, r.dpd)
    return out


def _worst_by_customer(overdue: dict[str, dict[str, tuple[str, int]]]) -> dict[str, dict[str, int]]:
    """date -> customer -> worst DPD."""
    out: dict[str, dict[str, int]] = {}
    for day, accounts in overdue.items():
        worst = out.setdefault(day, {})
        for customer, dpd in accounts.values():
            worst[customer] = max(worst.get(customer, 0), dpd)
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_cases_agree_with_stored_status(make_store: Any, backend: str, tmp_path: Path) -> None:
    url = _store(make_store, backend, tmp_path / "files")
    run_dates(url, DATES, POLICY)
    dump = _dump(url)
    by_account = _overdue(url)
    overdue = _worst_by_customer(by_account)
    assert dump["cases"], "the synthetic portfolio has overdue customers"
    stage_of = {c: POLICY.collections.stages[POLICY.bucket_for(d)] for c, d in
                overdue[str(AS_OF)].items()}  # fmt: skip
    open_cases = {c[0]: c for c in dump["cases"] if c[2] == "open"}
    assert len(open_cases) == sum(1 for c in dump["cases"] if c[2] == "open")  # one per customer
    assert set(open_cases) == set(stage_of)
    for customer, case in open_cases.items():
        assert case[3] == stage_of[customer]
    for customer, opened_on, status, _stage, closed_on, reason, max_dpd, _ in dump["cases"]:
        assert customer in overdue[opened_on] and overdue[opened_on][customer] == max_dpd
        day_before = str(date.fromisoformat(opened_on) - timedelta(days=1))
        if opened_on != str(FIRST):
            assert customer not in overdue[day_before]  # opened on the first overdue date
        if status == "closed":
            assert reason == "cured" and customer not in overdue[closed_on]
            before_close = str(date.fromisoformat(closed_on) - timedelta(days=1))
            assert customer in overdue[before_close]
    # One reminder per account that went overdue after the first date (and, on the first date,
    # for those whose window was still open), created on the day it went overdue.
    accounts = {d: {a: dpd for a, (_, dpd) in rows.items()} for d, rows in by_account.items()}
    reminded = {(r[0], r[1]): r for r in dump["reminders"]}
    assert len(reminded) == len(dump["reminders"])
    expected = set()
    for day in DATES[1:]:
        d, before = str(day), str(day - timedelta(days=1))
        for account, dpd in accounts[d].items():
            if account not in accounts[before]:
                expected.add((account, str(day - timedelta(days=dpd))))
    assert expected and expected <= set(reminded)
    for (account, overdue_from), row in reminded.items():
        created_on, _start, due_by = row[2], row[3], row[4]
        assert account in accounts[created_on]
        assert (
            str(date.fromisoformat(created_on) - timedelta(days=accounts[created_on][account]))
            == overdue_from
        )
        if created_on == str(FIRST):
            assert due_by >= created_on
    by_case: dict[Any, list[tuple[Any, ...]]] = {}
    for case_key, entered, stage, left in dump["stages"]:
        by_case.setdefault(case_key, []).append((entered, stage, left))
    for (_customer, opened_on), history in by_case.items():
        history.sort()
        assert history[0][0] == opened_on
        for (_, stage_a, left_a), (entered_b, stage_b, _) in itertools.pairwise(history):
            assert left_a == entered_b and stage_a != stage_b


@pytest.mark.parametrize("backend", BACKENDS)
def test_backfill_equals_daily_runs_equals_rerun(
    make_store: Any, backend: str, tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    at_once = _store(make_store, backend, folder)
    run_dates(at_once, DATES, POLICY)
    expected = _dump(at_once)

    daily = _store(make_store, backend, folder)
    run_dates(daily, DATES[:20], POLICY)
    for day in DATES[20:]:
        run_dates(daily, [day], POLICY)
    assert _dump(daily) == expected

    # a reminder done stays done through re-runs (work is not rebuilt away)
    engine = engine_for(daily)
    with engine.begin() as conn:
        task_id = conn.execute(select(tasks.c.task_id).order_by(tasks.c.task_id)).scalars().first()
        assert task_id is not None
        complete(conn, task_id, "wang", "sms", datetime(2026, 6, 29, 2, 0, tzinfo=UTC))
    engine.dispose()
    expected = _dump(daily)
    assert sum(1 for r in expected["reminders"] if r[-1] == "done") == 1

    run_dates(daily, [DATES[10]], POLICY)  # an old date again: later dates are replayed
    assert _dump(daily) == expected
    run_dates(daily, [AS_OF], POLICY)  # the latest date again
    assert _dump(daily) == expected
