"""Complaints feed churn's suggested reason and risk's non-financial signal (issue 15, CR-3),
on SQLite and PostgreSQL: each area reads relationship's `complaints` table by SQL (no import
— contracts). After a complaint is recorded and the date re-run, a churned customer's
suggested reason is "service" with the complaint's date among the signals read; a customer
with two complaints in 90 days hits the `complaints` early-warning signal with value 2, and one
with a single complaint does not — checked against a plain count of the complaints and the
contract's complaint events."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from postloan.churn.tables import churn_identified
from postloan.policy import default_policy
from postloan.relationship import complaints
from postloan.risk.tables import risk_hits, risk_scores
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import events
from tests.relationship.conftest import AS_OF, NOW

POLICY = default_policy()


def _complain(conn, customer: str, day: date) -> int:  # type: ignore[no-untyped-def]
    return complaints.receive(
        conn, POLICY, customer_id=customer, received_on=day, channel="phone",
        business_type="loans", reason="service", summary="服务差", complained_about=[],
        account_id=None, actor="cs1", today=AS_OF, now=NOW,
    )  # fmt: skip


def test_complaints_feed_churn_reasons_and_early_warning(store: str) -> None:
    signal = next(s for s in POLICY.risk.signals if s.id == "complaints")
    engine = engine_for(store)
    with engine.begin() as conn:
        with_events = set(
            conn.execute(select(events.c.customer_id).where(events.c.type == "complaint")).scalars()
        )
        ci = churn_identified.c
        churned = conn.execute(
            select(ci.customer_id, ci.suggested_reason).where(ci.as_of == AS_OF)
        ).all()
        x = next(c for c, reason in churned if reason != "service" and c not in with_events)
        scored = set(
            conn.execute(
                select(risk_scores.c.customer_id).where(risk_scores.c.as_of == AS_OF)
            ).scalars()
        )
        quiet = sorted(scored - with_events - {x})
        y, z = quiet[0], quiet[1]
        _complain(conn, x, AS_OF - timedelta(days=5))
        _complain(conn, y, AS_OF - timedelta(days=80))
        _complain(conn, y, AS_OF - timedelta(days=3))
        _complain(conn, z, AS_OF - timedelta(days=3))
        _complain(conn, z, AS_OF - timedelta(days=signal.lookback_days))  # just outside
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)

    engine = engine_for(store)
    with engine.begin() as conn:
        row = conn.execute(
            select(ci.suggested_reason, ci.signals).where(ci.as_of == AS_OF, ci.customer_id == x)
        ).one()
        assert row.suggested_reason == "service"
        assert json.loads(row.signals)["complaint_on"] == (AS_OF - timedelta(days=5)).isoformat()
        h = risk_hits.c
        hits = dict(
            conn.execute(
                select(h.customer_id, h.value).where(h.as_of == AS_OF, h.signal_id == "complaints")
            ).all()
        )
        # plain: complaints (relationship's and the contract's events) in (D − 90, D]
        counted: dict[str, int] = {}
        window = (AS_OF - timedelta(days=signal.lookback_days), AS_OF)
        for customer, day in [
            *conn.execute(select(events.c.customer_id, events.c.date).where(
                events.c.type == "complaint")).all(),
            *((c.customer_id, c.received_on) for c in conn.execute(select(
                complaints.complaints.c.customer_id, complaints.complaints.c.received_on))),
        ]:  # fmt: skip
            d = date.fromisoformat(str(day)[:10])
            if window[0] < d <= window[1] and customer in scored:
                counted[customer] = counted.get(customer, 0) + 1
        assert hits == {c: n for c, n in counted.items() if n >= signal.threshold}
        assert hits[y] == 2 and z not in hits
    engine.dispose()
