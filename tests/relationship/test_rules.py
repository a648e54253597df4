"""Hardship-plan checks, loyalty arithmetic and the survey figures against a plain
recomputation — pure rules, no database."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from postloan.policy import default_policy
from postloan.relationship.rules.hardship import (
    PlanDraft,
    approval_refusals,
    pauses_collection,
    plan_refusals,
    transition_refusal,
)
from postloan.relationship.rules.loyalty import (
    add_months,
    completed_years,
    cutoff,
    expiring,
    last_month_ends,
    streak_period,
    tenure_period,
)
from postloan.relationship.rules.surveys import csat, nps

LIMITS = default_policy().relationship.hardship


def codes(refusals: list) -> set[str]:  # type: ignore[type-arg]
    return {r.code for r in refusals}


def test_card_plan_at_most_five_years() -> None:
    assert plan_refusals(PlanDraft("card_instalment", "card", 60, "written"), LIMITS) == []
    over = plan_refusals(PlanDraft("card_instalment", "card", 61, "written"), LIMITS)
    assert codes(over) == {"over_limit"} and "60" in over[0].message


def test_loan_limits_and_the_original_term() -> None:
    assert plan_refusals(PlanDraft("loan_deferral", "loan", 6, "written"), LIMITS) == []
    assert codes(plan_refusals(PlanDraft("loan_deferral", "loan", 7, "written"), LIMITS)) == {
        "over_limit"
    }
    ext = PlanDraft("loan_extension", "loan", 12, "written", original_term_months=6)
    assert codes(plan_refusals(ext, LIMITS)) == {"over_original_term"}
    wrong = PlanDraft("loan_deferral", "card", 3, "written")
    assert codes(plan_refusals(wrong, LIMITS)) == {"account_type"}


def test_oral_agreement_needs_its_record() -> None:
    assert codes(plan_refusals(PlanDraft("card_instalment", "card", 24, "oral"), LIMITS)) == {
        "oral_record"
    }
    recorded = PlanDraft("card_instalment", "card", 24, "oral", "REC-1: agreed 24 x 500")
    assert plan_refusals(recorded, LIMITS) == []


def test_maker_checker_and_states() -> None:
    assert codes(approval_refusals("a", "a", True)) == {"maker_checker"}
    assert codes(approval_refusals("a", "b", False)) == {"not_approver"}
    assert approval_refusals("a", "b", True) == []
    assert transition_refusal("proposed", "approved") is None
    assert transition_refusal("broken", "approved") is not None
    assert pauses_collection("approved") and not pauses_collection("broken")


def test_loyalty_dates() -> None:
    assert last_month_ends(date(2026, 3, 31), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert cutoff(date(2026, 6, 30), 24) == date(2024, 6, 30)
    assert streak_period(date(2026, 3, 31), 3) == streak_period(date(2026, 1, 31), 3)
    assert streak_period(date(2026, 4, 30), 3) != streak_period(date(2026, 3, 31), 3)
    assert completed_years(date(2020, 7, 1), date(2026, 6, 30)) == 5
    assert completed_years(date(2020, 6, 30), date(2026, 6, 30)) == 6
    assert tenure_period(date(2026, 1, 1), date(2026, 6, 30), 1) is None


def test_expiry_is_first_in_first_out() -> None:
    # 300 earned before the cutoff, 250 redeemed since: 50 of the old points are left to expire.
    assert expiring(300, 250, 0) == 50
    assert expiring(300, 250, 50) == 0  # already expired: nothing more
    assert expiring(100, 250, 0) == 0  # spent more than the old points: nothing expires


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z / d * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


Z95 = 1.959963984540054


@given(st.lists(st.integers(1, 5), min_size=1, max_size=300))
def test_csat_equals_a_plain_recomputation(scores: list[int]) -> None:
    got = csat(scores, 4, 0.95)
    k = len([s for s in scores if s in (4, 5)])
    low, high = _wilson(k, len(scores), Z95)
    assert got.n == len(scores)
    assert got.value is not None and math.isclose(got.value, 100 * k / len(scores))
    assert got.low is not None and math.isclose(got.low, 100 * low, abs_tol=1e-9)
    assert got.high is not None and math.isclose(got.high, 100 * high, abs_tol=1e-9)


@given(st.lists(st.integers(0, 10), min_size=2, max_size=300))
def test_nps_equals_a_plain_recomputation(scores: list[int]) -> None:
    got = nps(scores, 0.95)
    each = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
    n = len(each)
    mean = sum(each) / n
    var = sum((x - mean) ** 2 for x in each) / n  # the multinomial variance of one answer
    half = Z95 * math.sqrt(var / n)
    assert got.value is not None and math.isclose(got.value, 100 * mean, abs_tol=1e-9)
    assert got.low is not None and math.isclose(got.low, 100 * max(-1, mean - half), abs_tol=1e-9)
    assert got.high is not None and math.isclose(got.high, 100 * min(1, mean + half), abs_tol=1e-9)


def test_nps_by_hand() -> None:
    # 5 promoters, 3 passives, 2 detractors: NPS = 50 % - 20 % = 30.
    got = nps([10, 10, 9, 9, 9, 8, 7, 7, 0, 6], 0.95)
    assert got.value is not None and math.isclose(got.value, 30.0)
    assert csat([], 4, 0.95).value is None and nps([7], 0.95).low is None
