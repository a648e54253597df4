"""Pure rules of churn measures (CH-6) and their evaluation (CH-7): the holdout draw, the
measures per grade, the win-back contact policy (consent, opt-outs, closed relationships), the
offers with their basis, and the statistics against hand-computed values."""

from __future__ import annotations

import math
from datetime import date

import pytest

from postloan.churn.rules.evaluation import effect, newcombe, verdict, wilson, z_value
from postloan.churn.rules.measures import (
    CALLBACK,
    FOLLOWUP,
    HANDOVER,
    MarketingFacts,
    Planned,
    check_winback,
    holdout_draw,
    in_holdout,
    planned_measures,
    propose_offers,
)
from postloan.policy import default_policy

POLICY = default_policy()
Z = z_value(0.95)


def test_z_value_is_the_normal_quantile() -> None:
    assert pytest.approx(1.959964, abs=1e-6) == Z
    assert z_value(0.90) == pytest.approx(1.644854, abs=1e-6)


def test_holdout_draw_is_stable_and_uniform_enough() -> None:
    d = date(2026, 3, 31)
    assert holdout_draw("C1", d, 7) == holdout_draw("C1", d, 7)
    assert holdout_draw("C1", d, 7) != holdout_draw("C1", date(2026, 4, 30), 7)
    assert holdout_draw("C1", d, 7) != holdout_draw("C1", d, 8)
    draws = [holdout_draw(f"C{i}", d, 7) for i in range(10_000)]
    assert all(0 <= x < 1 for x in draws)
    share = sum(x < 0.1 for x in draws) / len(draws)
    assert 0.09 < share < 0.11
    held = sum(in_holdout(f"C{i}", d, POLICY) for i in range(10_000)) / 10_000
    assert 0.09 < held < 0.11
    none = POLICY.model_copy(deep=True)
    object.__setattr__(none.churn.measures, "holdout_share", 0.0)
    assert not any(in_holdout(f"C{i}", d, none) for i in range(1000))


def test_measures_per_grade() -> None:
    assert planned_measures(1, POLICY) == [Planned(HANDOVER, "collections")]
    assert planned_measures(2, POLICY) == [Planned(FOLLOWUP, "phone")]
    assert planned_measures(3, POLICY) == [Planned(CALLBACK, "phone"), Planned(CALLBACK, "sms")]
    with pytest.raises(ValueError):
        planned_measures(4, POLICY)


def facts(
    consent: bool = True,
    since: date | None = date(2025, 1, 1),
    opted: tuple[str, ...] = (),
    closed: date | None = None,
) -> MarketingFacts:
    return MarketingFacts(consent, since, frozenset(opted), closed)


def rules(kind: str, channel: str, f: MarketingFacts) -> list[str]:
    return [v.rule for v in check_winback(kind, channel, f)]


def test_winback_needs_consent_and_honours_opt_outs() -> None:
    assert rules(CALLBACK, "sms", facts()) == []
    assert rules(CALLBACK, "sms", facts(consent=False)) == ["marketing_consent"]
    assert rules(CALLBACK, "sms", facts(opted=("sms",))) == ["channel_opt_out"]
    assert rules(CALLBACK, "phone", facts(opted=("sms",))) == []
    assert rules(FOLLOWUP, "phone", facts(consent=False, opted=("phone",))) == [
        "marketing_consent", "channel_opt_out"]  # fmt: skip
    # A hand-over to collections is not marketing.
    assert rules(HANDOVER, "collections", facts(consent=False, opted=("phone",))) == []


def test_closed_relationship_needs_a_new_basis() -> None:
    closed = date(2026, 2, 1)
    # Consent from before the closure: the ended relationship's data may not be used.
    assert rules(CALLBACK, "phone", facts(since=date(2026, 1, 31), closed=closed)) == [
        "closed_relationship"]  # fmt: skip
    assert rules(CALLBACK, "phone", facts(since=None, closed=closed)) == ["closed_relationship"]
    # Consent given on or after the closure is the new basis.
    assert rules(CALLBACK, "phone", facts(since=closed, closed=closed)) == []
    assert rules(CALLBACK, "phone", facts(since=date(2026, 3, 1), closed=closed)) == []
    # Without consent only the consent rule is named (the closure adds nothing to it).
    assert rules(CALLBACK, "phone", facts(consent=False, closed=closed)) == ["marketing_consent"]
    v = check_winback(CALLBACK, "phone", facts(since=None, closed=closed))[0]
    assert v.params == {"closed_on": "2026-02-01"} and "2026-02-01" in v.message


def test_offers_carry_their_basis() -> None:
    o = POLICY.churn.measures.offers
    got = propose_offers(["transferred_out"], "competition", 0, POLICY)
    assert [x.kind for x in got] == ["rate_discount", "limit_increase"]
    assert got[0].terms == {"rate_discount_bps": o.rate_discount_bps}
    assert got[0].basis["rule"] == "price_sensitive"
    assert got[0].basis["rules"] == ["transferred_out"] and got[0].basis["grade"] == 2
    assert got[0].basis["policy"] == POLICY.version
    got = propose_offers(["loan_overdue"], "macro", 5_000_00, POLICY)
    assert [(x.kind, x.basis["rule"]) for x in got] == [("term_extension", "capacity_strain")]
    assert got[0].terms == {"term_extra_months": o.term_extra_months}
    got = propose_offers(["inactive"], None, 0, POLICY)
    assert [(x.kind, x.basis["rule"]) for x in got] == [("limit_increase", "good_standing")]
    assert '"rule":"good_standing"' in got[0].basis_json()


def test_wilson_against_newcombe_1998() -> None:
    # Newcombe (1998a) Table I: 81/263 -> 0.2553, 0.3662; 0/10 -> 0, 0.2775.
    lo, up = wilson(81, 263, Z)
    assert (round(lo, 4), round(up, 4)) == (0.2553, 0.3662)
    lo, up = wilson(0, 10, Z)
    assert lo == pytest.approx(0, abs=1e-12) and round(up, 4) == 0.2775
    with pytest.raises(ValueError):
        wilson(1, 0, Z)


def test_newcombe_against_newcombe_1998() -> None:
    # Newcombe (1998b) Table II, method 10: 56/70 - 48/80 -> +0.0524 to +0.3339;
    # 9/10 - 3/10 -> 0.1705 to 0.8090.
    d, lo, up = newcombe(56, 70, 48, 80, Z)
    assert (round(d, 4), round(lo, 4), round(up, 4)) == (0.2, 0.0524, 0.3339)
    d, lo, up = newcombe(9, 10, 3, 10, Z)
    assert (round(d, 4), round(lo, 4), round(up, 4)) == (0.6, 0.1705, 0.8090)


def test_newcombe_by_hand() -> None:
    # 6/10 - 2/10 by the formulas written out: Wilson for each, then the hybrid.
    z = Z

    def w(x: int, n: int) -> tuple[float, float]:
        p = x / n
        c = (2 * n * p + z * z) / (2 * (n + z * z))
        h = z * math.sqrt(z * z + 4 * n * p * (1 - p)) / (2 * (n + z * z))
        return c - h, c + h

    (l1, u1), (l2, u2) = w(6, 10), w(2, 10)
    d, lo, up = newcombe(6, 10, 2, 10, z)
    assert d == pytest.approx(0.4)
    assert lo == pytest.approx(0.4 - math.sqrt((0.6 - l1) ** 2 + (u2 - 0.2) ** 2))
    assert up == pytest.approx(0.4 + math.sqrt((u1 - 0.6) ** 2 + (0.2 - l2) ** 2))


def test_effect_and_verdict() -> None:
    e = effect("won_back", (56, 70), (48, 80), Z)
    assert e.treated_rate == 0.8 and e.holdout_rate == 0.6
    assert verdict(e, 30) == ("keep", "effect")
    assert verdict(e, 71) == ("adjust", "too_few")
    flat = effect("won_back", (40, 80), (38, 80), Z)
    assert flat.lower is not None and flat.lower < 0
    assert verdict(flat, 30) == ("adjust", "no_effect")
    empty = effect("won_back", (3, 10), (0, 0), Z)
    assert empty.difference is None and empty.holdout_rate is None
    assert verdict(empty, 1) == ("adjust", "too_few")
    assert verdict(empty, 0) == ("adjust", "no_effect")
