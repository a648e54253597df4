"""Validation requests and the job that measures them (`risk.validation_jobs`) on a real store
(SQLite, and PostgreSQL with the env var): a request is refused at once for what is cheap to
check, recorded `queued` otherwise (one open request per model: asking again answers it); the
job claims requests oldest first, records a refusal with its reason (and an audit entry), takes
over a request a dead job left running after `STALE`, and a fault inside the job leaves the
request failed — never open forever."""

# ruff: noqa: F811 — the store fixtures imported below are requested by name.
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update

from postloan.access.tables import audit_log
from postloan.errors import ConflictError
from postloan.modelling import FitParams, fit_scorecard
from postloan.policy import default_policy
from postloan.risk import registry, validation_jobs
from postloan.risk.model_tables import risk_model_validations
from postloan.store.db import engine_for
from tests.store.conftest import make_store, store_url  # noqa: F401

NOW = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def _fitted(seed: int, **changes: Any) -> Any:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, 300)
    frame = pd.DataFrame({"dpd": x, "bad": (rng.uniform(0, 70, 300) < x).astype(int)})
    model = fit_scorecard(frame, "bad", params=FitParams(max_ratios=0))
    return replace(model, **changes)


def _register(url: str, model: Any, kind: str = "behaviour") -> str:
    engine = engine_for(url)
    with engine.begin() as conn:
        mid = registry.register(conn, model, kind, "m", "fit", "maker", NOW).model_id
    engine.dispose()
    return mid


def _ask(url: str, mid: str, note: str = "please", who: str = "asker") -> tuple[dict[str, Any],
                                                                                bool]:  # fmt: skip
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            return validation_jobs.request(conn, default_policy(), mid, note, who, NOW)
    finally:
        engine.dispose()


def test_requests_are_checked_recorded_once_and_failed_with_a_reason(store_url: str) -> None:
    windowed = _register(store_url, _fitted(1, data_window="2025-01-31..2025-03-31"))
    no_window = _register(store_url, _fitted(2))
    generic = _register(store_url, _fitted(3, data_window="2025-01-31..2025-03-31"), "generic")
    other_target = _register(store_url, _fitted(4, data_window="2025-01-31..2025-03-31",
                                                 source={"outcome_months": 6}))  # fmt: skip
    # the cheap checks refuse at once, nothing recorded
    for mid, why in ((no_window, "training window"), (generic, "held-out data"),
                     (other_target, "outcome_months 6")):  # fmt: skip
        with pytest.raises(ConflictError, match=why):
            _ask(store_url, mid)
    first, created = _ask(store_url, windowed)
    assert created and first["status"] == "queued" and first["requested_by"] == "asker"
    again, created = _ask(store_url, windowed, "again", "someone else")
    assert not created and again == first  # the open request, unchanged
    engine = engine_for(store_url)
    finished = validation_jobs.run_pending(engine, default_policy(), "cli:job", lambda: NOW)
    # a store without history: measured, refused with the reason, the model still a draft
    assert [(r["request_id"], r["status"], r["run_by"]) for r in finished] == [
        (first["request_id"], "failed", "cli:job")]  # fmt: skip
    assert "no history" in finished[0]["error"]
    with engine.connect() as conn:
        assert registry.row(conn, windowed).status == "draft"
        trail = conn.execute(select(audit_log.c.actor, audit_log.c.action)
                             .where(audit_log.c.target_id == windowed)
                             .order_by(audit_log.c.seq)).all()  # fmt: skip
        assert [tuple(t) for t in trail] == [
            ("maker", "risk.model.register"),
            ("asker", "risk.model.validate_request"),
            ("asker", "risk.model.validate_failed"),
        ]
    assert validation_jobs.run_pending(engine, default_policy(), "cli:job", lambda: NOW) == []
    engine.dispose()
    # closed: a new request may be made, and is listed first
    fresh, created = _ask(store_url, windowed)
    assert created and fresh["request_id"] != first["request_id"]
    engine = engine_for(store_url)
    with engine.connect() as conn:
        listed = validation_jobs.requests(conn, windowed)
    engine.dispose()
    assert [r["request_id"] for r in listed] == [fresh["request_id"], first["request_id"]]


def test_a_dead_jobs_request_is_taken_over_after_stale(store_url: str) -> None:
    mid = _register(store_url, _fitted(5, data_window="2025-01-31..2025-03-31"))
    asked, _ = _ask(store_url, mid)
    engine = engine_for(store_url)
    with engine.begin() as conn:  # a job claimed it and died
        conn.execute(update(risk_model_validations)
                     .where(risk_model_validations.c.request_id == asked["request_id"])
                     .values(status="running", run_by="cli:dead", started_at=NOW))  # fmt: skip
    policy = default_policy()
    soon = NOW + validation_jobs.STALE - timedelta(minutes=1)
    assert validation_jobs.run_pending(engine, policy, "cli:next", lambda: soon) == []
    later = NOW + validation_jobs.STALE + timedelta(minutes=1)
    taken = validation_jobs.run_pending(engine, policy, "cli:next", lambda: later)
    assert [(r["status"], r["run_by"]) for r in taken] == [("failed", "cli:next")]
    engine.dispose()


def test_a_fault_in_the_job_fails_the_request_and_is_raised(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postloan.risk import behaviour

    mid = _register(store_url, _fitted(6, data_window="2025-01-31..2025-03-31"))
    asked, _ = _ask(store_url, mid)

    def broken(*_: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(behaviour, "measure_on_history", broken)
    engine = engine_for(store_url)
    with pytest.raises(RuntimeError):
        validation_jobs.run_pending(engine, default_policy(), "cli:job", lambda: NOW)
    with engine.connect() as conn:
        (row,) = validation_jobs.requests(conn, mid)
    engine.dispose()
    assert row["request_id"] == asked["request_id"] and row["status"] == "failed"
    assert "RuntimeError" in row["error"] and "ask again" in row["error"]
    assert _ask(store_url, mid)[1]  # no longer open: a new request is recorded
