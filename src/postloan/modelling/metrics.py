"""Discrimination and stability figures: AUC, Gini, KS, PSI.

AUC and KS come from scikit-learn and scipy; the tests check them against hand formulas.
Convention: a higher score means a *better* customer (scorecard points), so AUC is computed
on the score's negation against "is bad"; for a PD pass `higher_is_riskier=True`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

# A bin empty on one side makes PSI infinite; its share is floored here instead (documented
# in docs/modelling.md). Bins populated on both sides are untouched, so the figure equals
# optbinning's wherever optbinning's is finite.
EMPTY_SHARE = 1e-4


def _bad_and_risk(
    bad: npt.ArrayLike, value: npt.ArrayLike, higher_is_riskier: bool
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float64]]:
    y = np.asarray(bad).astype(np.int8)
    v = np.asarray(value, dtype=np.float64)
    if y.shape != v.shape:
        raise ValueError("outcomes and values differ in length")
    if y.min(initial=0) < 0 or y.max(initial=0) > 1 or len(np.unique(y)) != 2:
        raise ValueError("outcomes must hold both 0 (good) and 1 (bad)")
    return y, (v if higher_is_riskier else -v)


def auc(bad: npt.ArrayLike, value: npt.ArrayLike, *, higher_is_riskier: bool = False) -> float:
    """Area under the ROC curve: the chance a random bad ranks riskier than a random good."""
    y, risk = _bad_and_risk(bad, value, higher_is_riskier)
    return float(roc_auc_score(y, risk))


def gini(bad: npt.ArrayLike, value: npt.ArrayLike, *, higher_is_riskier: bool = False) -> float:
    """Gini (accuracy ratio) = 2·AUC − 1."""
    return 2.0 * auc(bad, value, higher_is_riskier=higher_is_riskier) - 1.0


def ks(bad: npt.ArrayLike, value: npt.ArrayLike) -> float:
    """Kolmogorov–Smirnov: the largest gap between the bads' and goods' cumulative
    distributions of the value (direction-free)."""
    y, v = _bad_and_risk(bad, value, True)
    return float(ks_2samp(v[y == 1], v[y == 0]).statistic)


def psi(expected_counts: npt.ArrayLike, actual_counts: npt.ArrayLike) -> float:
    """Population stability index over the same bins: Σ (a − e) · ln(a / e) on shares."""
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.shape != a.shape or e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("PSI needs two non-empty count vectors over the same bins")
    pe = np.maximum(e / e.sum(), np.where(e == 0, EMPTY_SHARE, 0.0))
    pa = np.maximum(a / a.sum(), np.where(a == 0, EMPTY_SHARE, 0.0))
    both_empty = (e == 0) & (a == 0)
    terms = np.where(both_empty, 0.0, (pa - pe) * np.log(pa / pe))
    return float(terms.sum())
