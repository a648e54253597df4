"""Measures per grade (CH-6) on a real store (SQLite and PostgreSQL): created by the daily step
for every non-holdout episode and grade, win-back contacts refused naming the contact-policy
rule (consent, opt-out, closed relationship), level 1 handed over to collections through its
interface, offers with their basis; replays in any order leave the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from postloan.churn.rules.measures import in_holdout
from postloan.churn.tables import churn_episodes, churn_measures, churn_offers
from postloan.collections.handover_tables import handovers
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.values import stored_date
from tests.churn.conftest import DATES, filled, table_rows

POLICY = default_policy()
MEASURE_STATE = ("measure_id", "handover_id")


def measure_state(url: str) -> dict[str, Any]:
    return {
        "measures": table_rows(url, churn_measures, skip=MEASURE_STATE),
        "offers": len(table_rows(url, churn_offers)),
        "handovers": table_rows(url, handovers, skip=("handover_id",)),
    }


def test_measures_replay_in_any_order(make_store: Any, backend: str, churn_files: Path) -> None:
    states = []
    for order in (
        [DATES],
        [[d] for d in reversed(DATES)],
        [[DATES[2]], [DATES[0], DATES[4]], [DATES[2]], [DATES[1]], [DATES[3]]],
    ):
        url = filled(make_store, backend, churn_files)
        for days in order:
            run_dates(url, days, POLICY)
        states.append(measure_state(url))
    assert states[0]["measures"], "the demo portfolio has graded episodes"
    assert states[1] == states[0]
    assert states[2] == states[0]


def test_every_non_holdout_episode_gets_its_grade_measures(
    make_store: Any, backend: str, churn_files: Path
) -> None:
    url = filled(make_store, backend, churn_files)
    run_dates(url, DATES, POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        episodes = conn.execute(select(churn_episodes)).all()
        measures = conn.execute(select(churn_measures)).all()
        hos = conn.execute(select(handovers)).all()
    engine.dispose()
    by_episode: dict[tuple[str, Any], set[int]] = {}
    for m in measures:
        by_episode.setdefault((m.customer_id, stored_date(m.entered_on)), set()).add(m.grade)
    for e in episodes:
        key = (e.customer_id, stored_date(e.entered_on))
        if in_holdout(e.customer_id, key[1], POLICY):
            assert key not in by_episode
        else:
            assert key in by_episode
    kinds = {(m.grade, m.kind) for m in measures}
    assert kinds <= {(1, "recovery_handover"), (2, "winback_followup"), (3, "winback_callback")}
    level1 = [m for m in measures if m.grade == 1]
    assert all(m.handover_id is not None for m in level1)
    assert len(hos) == len(level1) and all(h.source == "churn" for h in hos)
    refused = [m for m in measures if m.status == "refused"]
    assert all(m.refused_rules and m.grade > 1 for m in refused)
