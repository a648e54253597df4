"""AUC, KS, Gini, PSI and the PDO scaling against plain hand-written formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postloan.modelling import PdoScaling, auc, gini, ks, psi
from postloan.modelling.metrics import EMPTY_SHARE


def _hand_auc(bad: np.ndarray, risk: np.ndarray) -> float:
    """Mann–Whitney: the share of (bad, good) pairs where the bad is riskier, ties half."""
    wins = 0.0
    for r_bad in risk[bad == 1]:
        for r_good in risk[bad == 0]:
            wins += 1.0 if r_bad > r_good else 0.5 if r_bad == r_good else 0.0
    return wins / ((bad == 1).sum() * (bad == 0).sum())


def _hand_ks(bad: np.ndarray, value: np.ndarray) -> float:
    best = 0.0
    for t in np.unique(value):
        cdf_bad = (value[bad == 1] <= t).mean()
        cdf_good = (value[bad == 0] <= t).mean()
        best = max(best, abs(cdf_bad - cdf_good))
    return best


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    bad = rng.integers(0, 2, 300)
    score = np.round(rng.normal(500 - 30 * bad, 40), 0)  # rounded: ties on purpose
    return bad, score


def test_auc_gini_ks_match_hand_formulas(sample: tuple[np.ndarray, np.ndarray]) -> None:
    bad, score = sample
    expected = _hand_auc(bad, -score)  # a higher score is a better customer
    assert auc(bad, score) == pytest.approx(expected, abs=1e-12)
    assert auc(bad, -score, higher_is_riskier=True) == pytest.approx(expected, abs=1e-12)
    assert gini(bad, score) == pytest.approx(2 * expected - 1, abs=1e-12)
    assert ks(bad, score) == pytest.approx(_hand_ks(bad, score), abs=1e-12)
    assert 0.6 < expected < 0.8  # the sample separates, but not perfectly


def test_metrics_refuse_a_single_class() -> None:
    with pytest.raises(ValueError, match="both"):
        auc([0, 0, 0], [1.0, 2.0, 3.0])


def test_psi_matches_the_hand_formula() -> None:
    expected, actual = [120, 300, 380, 200], [90, 280, 400, 230]
    pe = [e / sum(expected) for e in expected]
    pa = [a / sum(actual) for a in actual]
    hand = sum((a - e) * math.log(a / e) for a, e in zip(pa, pe, strict=True))
    assert psi(expected, actual) == pytest.approx(hand, abs=1e-15)
    assert psi(expected, expected) == 0.0


def test_psi_floors_a_bin_empty_on_one_side_and_skips_one_empty_on_both() -> None:
    got = psi([50, 50, 0, 0], [40, 50, 10, 0])
    pe = [0.5, 0.5, EMPTY_SHARE]
    pa = [0.4, 0.5, 0.1]
    hand = sum((a - e) * math.log(a / e) for a, e in zip(pa, pe, strict=True))
    assert math.isfinite(got)
    assert got == pytest.approx(hand, abs=1e-12)


def test_pdo_scaling() -> None:
    s = PdoScaling(base_points=600, base_odds=50, pdo=20)
    pd_at_base = 1 / (1 + 50)  # odds good:bad 50 → PD 1/51
    assert s.score_of(pd_at_base) == pytest.approx(600)
    pd_double = 1 / (1 + 100)  # twice the odds → PDO more points
    assert s.score_of(pd_double) == pytest.approx(620)
    assert s.pd_of(640) == pytest.approx(1 / (1 + 200))
    with pytest.raises(ValueError):
        PdoScaling(pdo=0)
