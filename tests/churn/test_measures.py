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


def _first(conn: Any, grade: int, status: str = "open") -> Any:
    return conn.execute(
        select(churn_measures).where(churn_measures.c.grade == grade,
                                     churn_measures.c.status == status)
        .order_by(churn_measures.c.customer_id, churn_measures.c.channel)
    ).first()  # fmt: skip


def test_scenario_per_grade(make_store: Any, backend: str, churn_files: Path) -> None:
    """Identified, graded, the right measure; consent and opt-out refusals named; the outcome
    recorded; the holdout comparison computed."""
    from datetime import UTC, datetime

    import pytest

    from postloan.access.consent import record_consent
    from postloan.churn.evaluation import evaluate, win_back_rates
    from postloan.churn.measures import ContactPolicyRefused, complete_measure, decide_offer
    from postloan.collections.handover import decide_handover, handover_states
    from postloan.collections.tables import contact_opt_outs

    url = filled(make_store, backend, churn_files)
    run_dates(url, DATES, POLICY)
    engine = engine_for(url)
    now = datetime(2026, 7, 1, 10, tzinfo=UTC)
    with engine.begin() as conn:
        # Level 1: handed over to collections, worked there.
        one = _first(conn, 1)
        assert one is not None and one.kind == "recovery_handover"
        state = handover_states(conn, "churn")
        key = f"{one.customer_id}|{stored_date(one.entered_on).isoformat()}|1"
        assert state[key] == "open"
        decide_handover(conn, one.handover_id, accept=True, user="rm", note=None, now=now)
        assert handover_states(conn, "churn")[key] == "accepted"
        # Level 2: a follow-up with offers and their basis; the officer decides one.
        two = _first(conn, 2)
        assert two is not None and two.kind == "winback_followup"
        offer = conn.execute(select(churn_offers).where(
            churn_offers.c.measure_id == two.measure_id)).first()  # fmt: skip
        assert offer is not None and '"rule"' in offer.basis
        decide_offer(conn, offer.offer_id, True, "customer took the better rate", user="co",
                     now=now)  # fmt: skip
        complete_measure(conn, two.measure_id, "interested", None, user="co", now=now,
                         policy=POLICY)  # fmt: skip
        # Level 3: callback and SMS; consent withdrawn since -> the contact is refused, named.
        three = _first(conn, 3)
        assert three is not None and three.kind == "winback_callback"
        record_consent(conn, three.customer_id, "marketing", False, now, "test")
        with pytest.raises(ContactPolicyRefused) as refused:
            complete_measure(conn, three.measure_id, "reached", None, user="cs", now=now,
                             policy=POLICY)  # fmt: skip
        assert "marketing_consent" in [v.rule for v in refused.value.violations]
        # An opt-out and a withdrawal dated before the measures: a re-run refuses them.
        other = conn.execute(select(churn_measures).where(
            churn_measures.c.grade == 3, churn_measures.c.status == "open",
            churn_measures.c.channel == "sms",
            churn_measures.c.customer_id != three.customer_id)).first()  # fmt: skip
        assert other is not None
        conn.execute(contact_opt_outs.insert().values(
            customer_id=other.customer_id, channel="sms", since=DATES[0]))  # fmt: skip
        record_consent(conn, three.customer_id, "marketing", False,
                       datetime(2026, 1, 1, tzinfo=UTC), "test")  # fmt: skip
        conn.execute(
            churn_measures.delete().where(  # replay from scratch for these
                churn_measures.c.measure_id.in_([three.measure_id, other.measure_id])
            )
        )
    engine.dispose()
    run_dates(url, DATES, POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        again = {(m.customer_id, m.channel): m for m in conn.execute(
            select(churn_measures).where(churn_measures.c.grade == 3))}  # fmt: skip
        assert "channel_opt_out" in again[(other.customer_id, "sms")].refused_rules
        assert again[(other.customer_id, "phone")].status in ("open", "refused")
        worked = conn.execute(select(churn_measures).where(
            churn_measures.c.measure_id == two.measure_id)).one()  # fmt: skip
        assert worked.status == "done" and worked.outcome == "interested"
        # The holdout comparison: per kind, arms counted from the episodes' draws.
        result = {r["kind"]: r for r in evaluate(conn, date_after(DATES[-1], 200), POLICY)}
        assert set(result) == {"recovery_handover", "winback_followup", "winback_callback"}
        for r in result.values():
            e = r["effects"][r["primary"]]
            assert e["treated_n"] == r["treated_n"] and e["holdout_n"] == r["holdout_n"]
            assert r["flag"] in ("keep", "adjust")
            if e["difference"] is not None:
                assert e["lower"] <= e["difference"] <= e["upper"]
        assert sum(r["treated_n"] + r["holdout_n"] for r in result.values()) > 0
        wb = win_back_rates(conn, DATES[0], DATES[-1], POLICY)
        assert wb["treated"]["exits"] + wb["holdout"]["exits"] >= 0
    engine.dispose()


def date_after(day: Any, days: int) -> Any:
    from datetime import timedelta

    return day + timedelta(days=days)


def test_a_new_policy_refreshes_untouched_offers_and_handovers_only(
    make_store: Any, backend: str, churn_files: Path
) -> None:
    """What a measure's offers and hand-over say comes from the policy: a re-run under another
    policy re-proposes the untouched follow-ups' offers and re-hands the open hand-overs (the
    measures themselves keep their ids: nothing else changed); a decided offer stays."""
    from datetime import UTC, datetime

    from postloan.churn.measures import decide_offer

    url = filled(make_store, backend, churn_files)
    run_dates(url, DATES, POLICY)
    m = POLICY.churn.measures
    offers = m.offers.model_copy(update={"term_extra_months": m.offers.term_extra_months + 6})
    churn = POLICY.churn.model_copy(update={"measures": m.model_copy(update={"offers": offers})})
    other = POLICY.model_copy(update={"churn": churn})
    assert other.version != POLICY.version
    engine = engine_for(url)
    with engine.begin() as conn:
        ids_before = {r.measure_id for r in conn.execute(select(churn_measures))}
        decided = conn.execute(select(churn_offers).order_by(churn_offers.c.offer_id)).first()
        assert decided is not None
        decide_offer(conn, decided.offer_id, True, "agreed", user="co",
                     now=datetime(2026, 7, 1, tzinfo=UTC))  # fmt: skip
    engine.dispose()
    run_dates(url, DATES, other)
    engine = engine_for(url)
    with engine.connect() as conn:
        assert {r.measure_id for r in conn.execute(select(churn_measures))} == ids_before
        rows = conn.execute(select(churn_offers)).all()
        kept = next(r for r in rows if r.offer_id == decided.offer_id)
        assert (kept.basis, kept.terms, kept.status) == (decided.basis, decided.terms,
                                                         "accepted")  # fmt: skip
        fresh = [r for r in rows if r.measure_id != decided.measure_id]
        assert fresh and all(other.version in r.basis for r in fresh)
        assert all(POLICY.version not in r.basis for r in fresh)
        terms = [r.terms for r in fresh if r.kind == "term_extension"]
        assert terms and all(str(offers.term_extra_months) in t for t in terms)
        hos = conn.execute(select(handovers)).all()
        assert hos and all(other.version in h.basis for h in hos if h.status == "open")
    engine.dispose()
