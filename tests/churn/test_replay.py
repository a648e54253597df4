"""The pool replays (issue 12): running the stored dates in any order, in one backfill or one
by one, or re-running a date, leaves the same identification rows, the same episodes (with
their exit reasons), the same screenings and byte-identical exports — on SQLite and
PostgreSQL. Deleting the latest date is as if it had never been run. And identification in
the daily run equals identification computed straight from the contract files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from postloan.churn.export import write_churn
from postloan.churn.rules.frames import EVENTS, RULES
from postloan.churn.rules.identify import ChurnInputs, identify
from postloan.churn.tables import (
    churn_dates,
    churn_episodes,
    churn_grades,
    churn_identified,
    churn_screenings,
)
from postloan.contract import read_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.runs.stored_dates import delete_latest_date
from tests.churn.conftest import DATES, filled, table_rows

POLICY = default_policy()


def all_grades(url: str) -> list[tuple[Any, ...]]:
    """Per episode, the first identified date at each grade, from the whole stored history
    (SQL written apart from `rules.pool.first_grades`)."""
    from sqlalchemy import text

    from postloan.store.db import engine_for
    from postloan.store.values import stored_date

    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT i.customer_id, e.entered_on, i.grade, MIN(i.as_of) FROM churn_identified i"
            " JOIN churn_episodes e ON e.customer_id = i.customer_id"
            " AND i.as_of >= e.entered_on AND (e.left_on IS NULL OR i.as_of < e.left_on)"
            " GROUP BY i.customer_id, e.entered_on, i.grade")).all()  # fmt: skip
    engine.dispose()
    return sorted(((r[0], stored_date(r[1]), int(r[2]), stored_date(r[3])) for r in rows),
                  key=repr)  # fmt: skip


def pool_state(url: str, out: Path) -> dict[str, Any]:
    state: dict[str, Any] = {
        "identified": table_rows(url, churn_identified, skip=("run_id",)),
        "dates": table_rows(url, churn_dates, skip=("run_id",)),
        "episodes": table_rows(url, churn_episodes),
        "screenings": table_rows(url, churn_screenings),
        "grades": table_rows(url, churn_grades),
    }
    # The grades kept run by run equal the grades recomputed from every stored day.
    assert state["grades"] == all_grades(url)
    for day in sorted({r[0] for r in state["dates"]}):
        path = out / f"churn-{day}.csv"
        write_churn(url, path, day)
        state[f"export {day}"] = path.read_bytes()
    return state


ORDERS = {
    "backfill": [DATES],
    "one by one": [[d] for d in DATES],
    "reversed": [[d] for d in reversed(DATES)],
    "shuffled with re-runs": [[DATES[2]], [DATES[0], DATES[4]], [DATES[2]], [DATES[1]],
                              [DATES[3]], [DATES[0]]],
}  # fmt: skip


def test_any_order_gives_the_same_pool(
    make_store: Any, backend: str, churn_files: Path, tmp_path: Path
) -> None:
    states = {}
    for name, runs in ORDERS.items():
        url = filled(make_store, backend, churn_files)
        for dates in runs:
            run_dates(url, dates, POLICY)
        out = tmp_path / name.replace(" ", "-")
        out.mkdir()
        states[name] = pool_state(url, out)
    first = states["backfill"]
    assert first["identified"] and first["episodes"] and first["screenings"]
    assert any(e[3] is not None for e in first["episodes"]), "some customer left the pool"
    for name, state in states.items():
        assert state.keys() == first.keys(), name
        for key in first:
            assert state[key] == first[key], (name, key)


def test_deleting_the_latest_date_is_as_if_it_was_never_run(
    make_store: Any, backend: str, churn_files: Path, tmp_path: Path
) -> None:
    once = filled(make_store, backend, churn_files)
    run_dates(once, DATES[:-1], POLICY)
    twice = filled(make_store, backend, churn_files)
    run_dates(twice, DATES, POLICY)
    delete_latest_date(twice, DATES[-1], POLICY, "tester")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert pool_state(twice, tmp_path / "a") == pool_state(once, tmp_path / "b")


def test_the_run_identifies_what_the_rules_say_from_the_contract_files(
    make_store: Any, backend: str, churn_files: Path
) -> None:
    url = filled(make_store, backend, churn_files)
    run_dates(url, DATES, POLICY)
    portfolio, _, events = read_contract_files(churn_files)
    events = events.select(list(EVENTS)).cast(EVENTS)  # type: ignore[arg-type]
    expected = identify(ChurnInputs(portfolio, events), DATES, POLICY)
    stored = pl.DataFrame(
        table_rows(url, churn_identified),
        schema=[c.name for c in churn_identified.columns],
        orient="row",
    )
    got = sorted((r[0].isoformat()[:10], r[1], *r[2:7]) for r in stored.rows())
    want = sorted((r["as_of"].isoformat(), r["customer_id"], *(r[k] for k in RULES))
                  for r in expected.to_dicts())  # fmt: skip
    assert got == want


@pytest.mark.parametrize("day", [date(2000, 1, 1)])
def test_exporting_a_date_without_churn_is_refused(
    make_store: Any, churn_files: Path, tmp_path: Path, day: date
) -> None:
    from postloan.errors import NotFoundError

    url = filled(make_store, "sqlite", churn_files)
    with pytest.raises(NotFoundError, match="no churn identification stored for 2000-01-01"):
        write_churn(url, tmp_path / "x.csv", day)
