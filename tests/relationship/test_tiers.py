"""The tiers area's tiers in relationship (read from `tier_assignments` by SQL), on SQLite and
PostgreSQL, each against a plain recomputation from the same table: a contact plan for a tier
(and a branch) reaches exactly the customers held in it on the day; the `tier_months` earning
rule awards the customers held in its tiers at each of the last month ends; the satisfaction
report's figures by tier count each answer under the tier on the latest tiered date on or
before it. And the daily run orders tiering's step before relationship's."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from sqlalchemy import select, true

from postloan import areas
from postloan.policy import PolicyError, default_policy
from postloan.policy.relationship import EarningRule
from postloan.relationship import contact_plans, surveys
from postloan.relationship.rules.loyalty import last_month_ends
from postloan.relationship.rules.surveys import csat, nps
from postloan.relationship.tables import loyalty_ledger, planned_contacts
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from postloan.tiering.tables import tier_assignments
from tests.relationship.conftest import AS_OF, DATES, NOW

POLICY = default_policy()


def _tiers(conn) -> dict[tuple[date, str], str]:  # type: ignore[no-untyped-def]
    t = tier_assignments.c
    return {
        (date.fromisoformat(str(r.as_of)[:10]), r.customer_id): r.tier
        for r in conn.execute(select(t.as_of, t.customer_id, t.tier))
    }


def test_tiering_runs_before_relationship_in_the_daily_run() -> None:
    names = [s.name for s in areas.daily_steps()]
    assert names.index("tiering.assign") < names.index("relationship.loyalty")
    assert names.index("tiering.assign") < names.index("relationship.contacts")


def test_a_tier_earning_rule_names_its_tiers() -> None:
    with pytest.raises(ValueError):
        EarningRule(kind="tier_months", every=3, points=30)
    with pytest.raises(ValueError):
        EarningRule(kind="tenure_years", every=1, points=10, tiers=["premium"])
    with pytest.raises((ValueError, PolicyError)):
        EarningRule(kind="tier_months", every=3, points=30, tiers=["gold"])  # type: ignore[list-item]


def test_tiers_in_contact_plans_points_and_survey_figures(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        tiers = _tiers(conn)
        on_day = {c: t for (d, c), t in tiers.items() if d == AS_OF}
        assert {"premium", "low"} <= set(on_day.values()), "the portfolio has several tiers"
        branch_of = dict(conn.execute(select(customers.c.customer_id, customers.c.branch_id)).all())
        with_status = set(
            conn.execute(
                select(account_status.c.customer_id).where(account_status.c.as_of == AS_OF)
            ).scalars()
        )
        premium = {c for c, t in on_day.items() if t == "premium" and c in with_status}
        a_branch = branch_of[sorted(premium)[0]]
        tier_only = contact_plans.create_plan(
            conn, name="优质客户关怀", branch_id=None, channel="phone", purpose="service",
            cadence_days=1, starts_on=DATES[0], actor="cs1", now=NOW, tier="premium",
        )  # fmt: skip
        both = contact_plans.create_plan(
            conn, name="低风险 回访", branch_id=a_branch, channel="sms", purpose="service",
            cadence_days=1, starts_on=DATES[0], actor="cs1", now=NOW, tier="low",
        )  # fmt: skip
        with pytest.raises(Exception) as bad:
            contact_plans.create_plan(
                conn, name="x", branch_id=None, channel="sms", purpose="service",
                cadence_days=1, starts_on=DATES[0], actor="cs1", now=NOW, tier="gold",
            )  # fmt: skip
        assert "tier" in str(bad.value)
        # survey answers across the run's dates
        vid = surveys.add_version(conn, "v1", surveys.DEFAULT_QUESTIONS, actor="cs1", now=NOW)
        people = sorted(c for (d, c) in tiers if d == DATES[0])[:60]
        answers = []
        for i, customer in enumerate(people):
            day = [date(2026, 4, 15), DATES[0], date(2026, 5, 20), AS_OF][i % 4]
            score = (1 + i % 5, i % 11)
            surveys.record_response(
                conn, version_id=vid, customer_id=customer, answered_on=day,
                csat_score=score[0], nps_score=score[1], answers={}, source="workbench",
                actor="cs1", today=AS_OF, policy=POLICY, now=NOW,
            )  # fmt: skip
            answers.append((customer, day, score))
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)

    engine = engine_for(store)
    with engine.begin() as conn:
        got = defaultdict(set)
        pc = planned_contacts.c
        for plan_id, customer in conn.execute(
            select(pc.plan_id, pc.customer_id).where(pc.due_on == AS_OF)
        ):
            got[plan_id].add(customer)
        assert got[tier_only] == premium
        low_in_branch = {c for c, t in on_day.items() if t == "low" and c in with_status
                         and branch_of[c] == a_branch}  # fmt: skip
        assert got[both] == low_in_branch

        # the tier earning rule (default policy: premium at the last 3 month ends)
        rule = POLICY.relationship.loyalty.earning["premium_quarter"]
        ends = last_month_ends(AS_OF, rule.every)
        want = {c for c in {c for (_, c) in tiers}
                if all(tiers.get((d, c)) in rule.tiers for d in ends)}  # fmt: skip
        assert want, "some customers are premium at every month end"
        ledger = loyalty_ledger.c
        earned = conn.execute(
            select(ledger.customer_id, ledger.points).where(ledger.rule == "premium_quarter")
        ).all()
        assert {c for c, _ in earned} == want and {p for _, p in earned} == {rule.points}
        assert len(earned) == len(want), "once per block of months"

        # survey figures by tier: plain — each answer under the latest tier on or before it
        dated = defaultdict(list)
        for (d, c), t in tiers.items():
            dated[c].append((d, t))
        groups: dict[str | None, list[tuple[int, int]]] = defaultdict(list)
        for customer, day, score in answers:
            before = [(d, t) for d, t in dated[customer] if d <= day]
            groups[max(before)[1] if before else None].append(score)
        cfg = POLICY.relationship.surveys
        report = surveys.figures_by_tier(conn, POLICY, date(2026, 4, 1), AS_OF, true())
        assert None in groups and len(groups) >= 3
        assert {r["tier"] for r in report} == set(groups)
        for row in report:
            scores = groups[row["tier"]]
            c = csat([s for s, _ in scores], cfg.csat_satisfied_from, cfg.confidence)
            n = nps([s for _, s in scores], cfg.confidence)
            assert row["csat"] == {"n": c.n, "value": c.value, "low": c.low, "high": c.high}
            assert row["nps"] == {"n": n.n, "value": n.value, "low": n.low, "high": n.high}
        assert report[-1]["tier"] is None  # tiers best first, then answers without a tier
    engine.dispose()
