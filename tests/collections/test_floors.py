"""Weekly contact floors (OD-5) as scheduled contact tasks.

- `due_contacts` equals a plain per-case rule, and following it day by day meets every bucket's
  floor in every 7-day window without exceeding the spacing it needs;
- in the store: open contact tasks exist for the latest date only, for the open cases whose
  bucket has a floor; a recorded contact completes the task and survives re-runs.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from postloan.collections.casework_tables import case_strategies
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.floors import due_contacts, weekly_floor
from postloan.collections.tables import cases, tasks
from postloan.policy import default_policy
from postloan.runs.service import date_range, run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from tests.collections.test_case_store import _store
from tests.store.conftest import AS_OF, BACKENDS

POLICY = default_policy()
D = date(2026, 3, 16)


def _reference_floor(dpd: int, target: int = 0) -> int:
    """Plainly: the larger of the bucket's floor and the strategy's target, each capped by what
    the call caps allow in a week and by one a day."""
    floor = max(POLICY.collections.min_contacts_per_week.get(POLICY.bucket_for(dpd), 0), target)
    rules = POLICY.contact.jurisdictions[POLICY.contact.default_jurisdiction]
    if rules.weekly_call_capacity is not None:
        floor = min(floor, rules.weekly_call_capacity)
    return min(floor, 7)


def _reference_due(dpd: int, last: date | None, as_of: date, target: int = 0) -> bool:
    """Due when the last contact is at least 7 // floor days old (or there was none)."""
    floor = _reference_floor(dpd, target)
    if floor == 0:
        return False
    return last is None or (as_of - last).days >= 7 // floor


def _frames(
    rows: list[tuple[int, int | None]], targets: list[int] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    open_cases = pl.DataFrame(
        {"customer_id": [f"C{i}" for i in range(len(rows))],
         "account_id": [f"L{i}" for i in range(len(rows))],
         "dpd": [dpd for dpd, _ in rows], "overdue_amount": [100] * len(rows),
         "target": targets or [0] * len(rows)},
        schema={"customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
                "overdue_amount": pl.Int64, "target": pl.Int32},
    )  # fmt: skip
    last = pl.DataFrame(
        [(f"C{i}", D - timedelta(days=ago)) for i, (_, ago) in enumerate(rows) if ago is not None],
        schema={"customer_id": pl.String, "last_day": pl.Date},
        orient="row",
    )
    return open_cases, last


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 400), st.none() | st.integers(0, 20), st.integers(0, 10)),
        max_size=40,
    )
)
def test_due_contacts_equals_the_plain_rule(rows: list[tuple[int, int | None, int]]) -> None:
    open_cases, last = _frames([(dpd, ago) for dpd, ago, _ in rows], [t for *_, t in rows])
    due = due_contacts(open_cases, last, POLICY, D)
    expected = {
        f"C{i}"
        for i, (dpd, ago, target) in enumerate(rows)
        if _reference_due(dpd, None if ago is None else D - timedelta(days=ago), D, target)
    }
    assert set(due["customer_id"].to_list()) == expected
    for row in due.iter_rows(named=True):
        dpd, _, target = rows[int(row["customer_id"][1:])]
        assert row["floor"] == _reference_floor(dpd, target)


@pytest.mark.parametrize("dpd", [15, 45, 75, 120])
def test_following_the_tasks_meets_the_floor_every_week(dpd: int) -> None:
    floor = weekly_floor(POLICY, POLICY.bucket_for(dpd))
    contacted: list[date] = []
    days = [D + timedelta(days=i) for i in range(42)]
    for day in days:
        open_cases, _ = _frames([(dpd, None)])
        last = pl.DataFrame(
            {"customer_id": ["C0"] * bool(contacted), "last_day": contacted[-1:]},
            schema={"customer_id": pl.String, "last_day": pl.Date},
        )
        if due_contacts(open_cases, last, POLICY, day).height:
            contacted.append(day)  # the collector does the task that day
    for start in range(len(days) - 6):
        week = [d for d in contacted if days[start] <= d <= days[start + 6]]
        assert len(week) >= floor, (dpd, days[start], week)
    if floor:  # and no more than the spacing needs: never two contacts closer than it
        gaps = {(b - a).days for a, b in itertools.pairwise(contacted)}
        assert gaps == {7 // floor}
    else:
        assert contacted == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_contact_tasks_in_the_store(make_store: Any, backend: str, tmp_path: Path) -> None:
    url = _store(make_store, backend, tmp_path / "files")
    days = date_range(AS_OF - timedelta(days=20), AS_OF)
    run_dates(url, days, POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        worst = dict(
            conn.execute(
                select(account_status.c.customer_id, func.max(account_status.c.dpd))
                .join(cases, (cases.c.customer_id == account_status.c.customer_id)
                      & (cases.c.status == "open"))
                .where(account_status.c.as_of == AS_OF)
                .group_by(account_status.c.customer_id)
            ).all()
        )  # fmt: skip
        latest: dict[str, tuple[Any, str]] = {}
        opened = dict(
            conn.execute(
                select(cases.c.customer_id, cases.c.opened_on).where(cases.c.status == "open")
            ).all()
        )
        for r in conn.execute(select(case_strategies)).all():
            this_case = (
                r.customer_id in opened
                and str(r.case_opened_on)[:10] == str(opened[r.customer_id])[:10]
            )
            later = r.customer_id not in latest or str(r.entered_on) > str(latest[r.customer_id][0])
            if this_case and later:
                latest[r.customer_id] = (r.entered_on, r.strategy)
        strategy = {c: name for c, (_, name) in latest.items()}
        open_tasks = conn.execute(
            select(tasks.c.customer_id, tasks.c.due_by, tasks.c.dpd).where(
                tasks.c.kind == "contact", tasks.c.status == "open"
            )
        ).all()
    # No contacts were recorded: every open case whose bucket or strategy asks for contacts
    # has a task today.
    expected = {
        c
        for c, dpd in worst.items()
        if _reference_floor(dpd, POLICY.strategies.catalogue[strategy[c]].contacts_per_week)
    }
    assert any(not weekly_floor(POLICY, POLICY.bucket_for(worst[c])) for c in expected), (
        "some tasks come from a strategy alone (M1 has no floor)"
    )
    assert expected, "the synthetic portfolio has cases in buckets with a floor"
    assert {r.customer_id for r in open_tasks} == expected
    assert all(str(r.due_by)[:10] == str(AS_OF) for r in open_tasks)
    assert all(r.dpd == worst[r.customer_id] for r in open_tasks)

    customer = sorted(expected)[0]
    at = datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)  # 11:00 BJ
    with engine.begin() as conn:
        record_contact(
            conn, Contact(customer, at, "phone", ("wang",), "no_answer"), POLICY,
            recorded_by="wang",
        )  # fmt: skip
    # Re-running today: the done task stays, none is added. (A pooled sqlite3 connection must
    # not outlive a run: the run writes through ADBC's own SQLite library.)
    engine.dispose()
    run_dates(url, [AS_OF], POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        mine = conn.execute(
            select(tasks.c.status, tasks.c.done_by, tasks.c.channel).where(
                tasks.c.kind == "contact", tasks.c.customer_id == customer
            )
        ).all()
        others = conn.execute(
            select(func.count()).where(tasks.c.kind == "contact", tasks.c.status == "open")
        ).scalar()
    assert [tuple(r) for r in mine] == [("done", "wang", "phone")]
    assert others == len(expected) - 1
    engine.dispose()
