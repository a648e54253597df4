"""Schedules that change over time: the run's status for many dates (one pass plus one pass
over virtual accounts) equals computing each date on its own with the schedules in force on
it — and, for a date before every change, the contract schedule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.engine import account_status
from postloan.engine.frames import Portfolio
from postloan.engine.schedule_versions import (
    SCHEDULE_CHANGES,
    ScheduleVersions,
    in_force,
    status_history,
)
from postloan.ledger import add_months
from tests.conftest import examples
from tests.strategies import AS_OF_DATE, Case, cases


def _per_date(case: Case, changes: pl.DataFrame, dates: list[date], policy: Any) -> pl.DataFrame:
    """The obvious way: each date alone, with the schedules in force on it."""
    p = case.portfolio
    parts = [
        account_status(
            Portfolio(p.loans, in_force(p.instalments, changes, d), p.cards, p.statements,
                      p.payments),
            d,
            policy,
        )
        for d in dates
    ]  # fmt: skip
    return pl.concat(parts).sort("as_of", "account_id")


@st.composite
def changes_of(draw: st.DrawFn, case: Case) -> pl.DataFrame:
    """0-2 changes per loan: its schedule with due dates moved 0-3 months and amounts moved
    between instalments (the total kept), effective on a drawn date."""
    rows: list[dict[str, Any]] = []
    schedule = case.portfolio.instalments.to_dicts()
    for loan in case.portfolio.loans["account_id"].to_list():
        mine = sorted((r for r in schedule if r["account_id"] == loan), key=lambda r: r["period"])
        effective_dates = draw(st.lists(AS_OF_DATE, max_size=2, unique=True))
        for effective in effective_dates:
            months = draw(st.integers(0, 3))
            shift = draw(st.integers(0, 50_000))
            moved = min(shift, mine[0]["principal_due"]) if len(mine) > 1 else 0
            for i, r in enumerate(mine):
                principal = r["principal_due"] - (moved if i == 0 else 0)
                principal += moved if i == len(mine) - 1 else 0
                rows.append(
                    {
                        **r,
                        "due_date": add_months(r["due_date"], months),
                        "principal_due": principal,
                        "effective_date": effective,
                    }
                )
    return pl.DataFrame(rows, schema=SCHEDULE_CHANGES)


@settings(max_examples=examples(0.1))
@given(st.data(), cases(max_accounts=4, max_dates=6))
def test_many_dates_equal_each_date_alone(data: st.DataObject, case: Case) -> None:
    changes = data.draw(changes_of(case))
    policy = case.policy.build()
    around = {d + timedelta(days=k) for d in changes["effective_date"] for k in (-1, 0, 1)}
    dates = sorted(set(case.dates) | around)
    expected = _per_date(case, changes, dates, policy)
    got = status_history(case.portfolio, changes, dates, policy)
    assert got.sort("as_of", "account_id").equals(expected)
    versions = ScheduleVersions(case.portfolio, changes)  # windows one after the other
    halves = [dates[: len(dates) // 2], dates[len(dates) // 2 :]]
    windows = pl.concat([versions.status(w, policy) for w in halves if w])
    assert windows.sort("as_of", "account_id").equals(expected)
