"""Points scaled by PDO: score = offset + factor · ln(odds of good to bad).

With factor = PDO / ln 2 and offset = base_points − factor · ln(base_odds), a score of
`base_points` means good:bad odds of `base_odds`, and every `pdo` points the odds double.
Defaults (600 points at 50:1, 20 points to double) are the usual industry convention; they
only fix the scale, not the ranking.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class PdoScaling:
    base_points: float = 600.0
    base_odds: float = 50.0  # good:bad odds at base_points
    pdo: float = 20.0  # points to double the odds

    def __post_init__(self) -> None:
        if self.pdo <= 0 or self.base_odds <= 0:
            raise ValueError("pdo and base_odds must be positive")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def pd_of(self, score: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Probability of bad for a score: the inverse of the scaling (odds = (1 − PD) / PD)."""
        s = np.asarray(score, dtype=np.float64)
        return 1.0 / (1.0 + np.exp((s - self.offset) / self.factor))

    def score_of(self, pd: npt.ArrayLike) -> npt.NDArray[np.float64]:
        p = np.asarray(pd, dtype=np.float64)
        return self.offset + self.factor * np.log((1.0 - p) / p)
