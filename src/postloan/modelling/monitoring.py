"""Stability of a fitted scorecard on new data: PSI of the score and of each characteristic.

Characteristics are compared on the model's own bins (regular bins, then "missing", then
"unknown category"); the score on given split points with bins (a, b] — optbinning's
`ScorecardMonitoring` convention, so both figures equal its own on the same bins.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from postloan.modelling.metrics import psi
from postloan.modelling.model import ScorecardModel


def bin_counts(index: npt.NDArray[np.int64], n_bins: int) -> npt.NDArray[np.int64]:
    return np.bincount(index, minlength=n_bins)


def characteristic_psi(model: ScorecardModel, expected: Any, actual: Any) -> pd.DataFrame:
    """One row per characteristic: its PSI between `expected` (e.g. the training data) and
    `actual` on the model's bins."""
    exp_idx = model.bin_indices(expected)
    act_idx = model.bin_indices(actual)
    rows = []
    for c in model.characteristics:
        size = c.n_bins + 2  # regular bins, missing, unknown category
        value = psi(bin_counts(exp_idx[c.name], size), bin_counts(act_idx[c.name], size))
        rows.append({"characteristic": c.name, "psi": value})
    return pd.DataFrame(rows, columns=["characteristic", "psi"])


def score_psi(
    expected_scores: npt.ArrayLike, actual_scores: npt.ArrayLike, splits: npt.ArrayLike
) -> float:
    """PSI of a score on bins (−∞, s₁], (s₁, s₂], …, (sₖ, ∞)."""
    edges = np.asarray(splits, dtype=np.float64)
    size = len(edges) + 1
    e = np.digitize(np.asarray(expected_scores, dtype=np.float64), edges, right=True)
    a = np.digitize(np.asarray(actual_scores, dtype=np.float64), edges, right=True)
    return psi(bin_counts(e, size), bin_counts(a, size))
