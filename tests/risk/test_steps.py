"""Risk's daily steps on real stores (SQLite always, PostgreSQL with
POSTLOAN_TEST_DATABASE_URL): running the stored dates in any order, in one backfill or one by
one, or re-running a date, leaves the same scores, hits, tasks and watch list; deleting the
latest date is as if it was never run; the stored score is the rules' over the stored status;
worked tasks survive re-runs; overrides are maker-checker and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, insert, select

from postloan.access.audit import audit_log
from postloan.errors import ConflictError, InvalidError, RefusedError
from postloan.policy import default_policy
from postloan.risk.rules.score import SCORE_INPUTS, score
from postloan.risk.service import decide_override, propose_override, record_outcome
from postloan.risk.tables import risk_hits, risk_overrides, risk_scores, risk_tasks, risk_watch
from postloan.runs.service import run_dates
from postloan.runs.stored_dates import delete_latest_date
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from tests.risk.conftest import DATES, filled, table_rows

POLICY = default_policy()
NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)


def state(url: str) -> dict[str, Any]:
    return {
        "scores": table_rows(url, risk_scores, skip=("run_id",)),
        "hits": table_rows(url, risk_hits),
        "tasks": table_rows(url, risk_tasks, skip=("task_id",)),
        "watch": table_rows(url, risk_watch),
    }


ORDERS = {
    "backfill": [DATES],
    "one by one": [[d] for d in DATES],
    "reversed": [[d] for d in reversed(DATES)],
    "shuffled with re-runs": [[DATES[2]], [DATES[0], DATES[4]], [DATES[2]], [DATES[1]],
                              [DATES[3]], [DATES[0]]],
}  # fmt: skip


def test_any_order_gives_the_same_rows(make_store: Any, backend: str, risk_files: Path) -> None:
    states = {}
    for name, runs in ORDERS.items():
        url = filled(make_store, backend, risk_files)
        for dates in runs:
            run_dates(url, dates, POLICY)
        states[name] = state(url)
    first = states["backfill"]
    assert first["scores"] and first["hits"] and first["tasks"] and first["watch"]
    assert any(r[2] is not None for r in first["watch"]), "some customer left the watch list"
    signals = {r[2] for r in first["hits"]}
    assert {"early_arrears", "score_drop", "industry_listed"} <= signals, signals
    for name, found in states.items():
        for key in first:
            assert found[key] == first[key], (name, key)


def test_deleting_the_latest_date_is_as_if_it_was_never_run(
    make_store: Any, backend: str, risk_files: Path
) -> None:
    once = filled(make_store, backend, risk_files)
    run_dates(once, DATES[:-1], POLICY)
    twice = filled(make_store, backend, risk_files)
    run_dates(twice, DATES, POLICY)
    delete_latest_date(twice, DATES[-1], POLICY, "tester")
    assert state(twice) == state(once)


def test_the_stored_score_is_the_rules_over_the_stored_status(
    make_store: Any, risk_files: Path
) -> None:
    url = filled(make_store, "sqlite", risk_files)
    run_dates(url, DATES[-2:], POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        s = account_status
        rows = conn.execute(
            select(s.c.customer_id, func.max(s.c.dpd), func.max(s.c.cumulative_overdue_periods),
                   func.sum(s.c.overdue_amount))
            .where(s.c.as_of == DATES[-1]).group_by(s.c.customer_id)
        ).all()  # fmt: skip
        files = {r.customer_id: r for r in conn.execute(select(customers))}
        stored = {r.customer_id: r for r in conn.execute(
            select(risk_scores).where(risk_scores.c.as_of == DATES[-1]))}  # fmt: skip
    engine.dispose()
    # No income events or churn grades in this check: customers with either are compared on
    # the credit and industry parts only.
    frame = pl.DataFrame(
        [{"as_of": DATES[-1], "customer_id": c, "worst_dpd": dpd, "times_late": late,
          "overdue_amount": int(amount), "monthly_income": files[c].monthly_income,
          "total_assets": files[c].total_assets, "total_liabilities": files[c].total_liabilities,
          "industry": files[c].industry, "income_reported": None, "income_reported_on": None,
          "churn_grade": None} for c, dpd, late, amount in rows],
        schema=SCORE_INPUTS,
    )  # fmt: skip
    want = score(frame, POLICY.risk.score)
    assert set(stored) == set(want["customer_id"])
    for row in want.iter_rows(named=True):
        got = stored[row["customer_id"]]
        assert (got.worst_dpd, got.times_late, got.overdue_amount) == (
            row["worst_dpd"], row["times_late"], row["overdue_amount"])  # fmt: skip
        assert (got.credit_points, got.industry_points, got.debt_ratio) == (
            row["credit_points"], row["industry_points"], row["debt_ratio"])  # fmt: skip
        if got.income_reported_on is None and got.churn_grade is None:
            assert (got.score, got.grade) == (row["score"], row["grade"])


def _count(conn: Any, action: str) -> int:
    return int(conn.execute(
        select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
    ).scalar_one())  # fmt: skip


def test_overrides_are_maker_checker_and_audited(make_store: Any, backend: str,
                                                 risk_files: Path) -> None:  # fmt: skip
    url = filled(make_store, backend, risk_files)
    run_dates(url, DATES[-1:], POLICY)
    engine = engine_for(url)
    with engine.begin() as conn:
        customer = conn.execute(select(risk_scores.c.customer_id).limit(1)).scalar_one()
        with pytest.raises(InvalidError, match="reason_code"):
            propose_override(conn, POLICY, customer, "C", "gut_feeling", "x", "maker", NOW)
        with pytest.raises(InvalidError, match="grade"):
            propose_override(conn, POLICY, customer, "Z", "other", "x", "maker", NOW)
        done = propose_override(conn, POLICY, customer, "C", "new_information",
                                "site visit: shop closed", "maker", NOW)  # fmt: skip
        with pytest.raises(ConflictError, match="awaits a decision"):
            propose_override(conn, POLICY, customer, "D", "other", "again", "maker", NOW)
        with pytest.raises(RefusedError, match="maker-checker"):
            decide_override(conn, done.override_id, True, "my own", "maker", NOW)
        assert decide_override(conn, done.override_id, True, "agreed", "checker", NOW) == "approved"
        with pytest.raises(ConflictError, match="already approved"):
            decide_override(conn, done.override_id, False, "changed my mind", "checker2", NOW)
        row = conn.execute(select(risk_overrides)).one()
        assert (row.status, row.proposed_by, row.decided_by, row.grade) == (
            "approved", "maker", "checker", "C")  # fmt: skip
        assert _count(conn, "risk.override") == 1
        assert _count(conn, "risk.override.approved") == 1
    engine.dispose()


def test_worked_tasks_survive_re_runs(make_store: Any, backend: str, risk_files: Path) -> None:
    url = filled(make_store, backend, risk_files)
    run_dates(url, DATES, POLICY)
    engine = engine_for(url)
    with engine.begin() as conn:
        task = conn.execute(select(risk_tasks).order_by(risk_tasks.c.task_id).limit(1)).one()
        record_outcome(conn, task.task_id, "risk_confirmed", "called: lost job", "officer", NOW)
        with pytest.raises(ConflictError, match="already done"):
            record_outcome(conn, task.task_id, "no_risk", "again", "officer", NOW)
        with pytest.raises(InvalidError, match="outcome"):
            record_outcome(conn, task.task_id, "shrug", "x", "officer", NOW)
        assert _count(conn, "risk.task") == 1
    engine.dispose()  # no pooled connection across a run (it rewrites the store)
    before = state(url)
    run_dates(url, DATES, POLICY)  # every date again, from the first
    assert state(url) == before
    engine = engine_for(url)
    with engine.connect() as conn:
        kept = conn.execute(select(risk_tasks).where(risk_tasks.c.task_id == task.task_id)).one()
    engine.dispose()
    assert (kept.status, kept.outcome, kept.done_by) == ("done", "risk_confirmed", "officer")


def test_broken_promises_raise_the_signal(make_store: Any, backend: str, risk_files: Path) -> None:
    # Collections' promises (its table, read by risk by SQL): two broken within 60 days of D.
    from postloan.collections.tables import contacts, promises

    url = filled(make_store, backend, risk_files)
    day = DATES[-1]
    engine = engine_for(url)
    with engine.begin() as conn:
        customer = conn.execute(
            select(account_status.c.customer_id).limit(1)
        ).scalar()  # fmt: skip
        if customer is None:  # no status stored yet: any customer with an account
            from postloan.store.schema import loans

            customer = conn.execute(select(loans.c.customer_id).limit(1)).scalar_one()
        contact = conn.execute(insert(contacts).values(
            customer_id=customer, at=NOW, channel="phone", recorded_by="collector1", staff="[]",
            outcome="promise", jurisdiction="CN")).inserted_primary_key  # fmt: skip
        assert contact is not None
        for ago in (10, 59):
            made = date.fromordinal(day.toordinal() - ago - 5)
            conn.execute(insert(promises).values(
                contact_id=contact[0], customer_id=customer, amount=10**12, made_on=made,
                due_on=date.fromordinal(day.toordinal() - ago),
                status="broken", decided_on=date.fromordinal(day.toordinal() - ago)))  # fmt: skip
    engine.dispose()
    run_dates(url, [day], POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        hit = conn.execute(select(risk_hits.c.value).where(
            risk_hits.c.customer_id == customer, risk_hits.c.signal_id == "broken_promises"
        )).scalar()  # fmt: skip
    engine.dispose()
    assert hit == 2


def test_scores_need_stored_dates(make_store: Any, risk_files: Path) -> None:
    url = filled(make_store, "sqlite", risk_files)
    assert table_rows(url, risk_scores) == []
    run_dates(url, [date(2026, 6, 30)], POLICY)
    assert table_rows(url, risk_scores)
