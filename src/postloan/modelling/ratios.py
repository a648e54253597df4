"""Ratio characteristics: a/b of two numeric columns, found by information value.

An additive scorecard cannot see an interaction: the loan amount and the price of what it buys
each say little, their ratio (loan-to-value) a lot — and so for debt to income, instalment to
income… Such ratios are the standard credit-scoring remedy, so the fit searches them: every
unordered pair of numeric columns (a before b in column order, a/b), binned by optbinning like
any characteristic on the training data only, kept when its information value beats both of
its parts' by at least `min_gain`; the best `max_ratios` by that gain become characteristics.
A zero or missing denominator makes the ratio missing (the missing bin).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str

    @property
    def name(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def ratio_values(frame: pd.DataFrame, ratio: Ratio) -> pd.Series:
    num = frame[ratio.numerator].to_numpy(dtype=np.float64)
    den = frame[ratio.denominator].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den == 0, np.nan, num / den)
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=frame.index, name=ratio.name)


def information_value(
    values: pd.Series, y: npt.NDArray[np.int8], binning: dict[str, object]
) -> float:
    from optbinning import OptimalBinning  # fitting only: scoring must not load it

    optb = OptimalBinning(name=str(values.name), dtype="numerical", **binning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optb.fit(values.to_numpy(dtype=np.float64), y)
        table = optb.binning_table
        table.build()
    return float(table.iv)


def search_ratios(
    frame: pd.DataFrame,
    y: npt.NDArray[np.int8],
    numeric: list[str],
    *,
    max_ratios: int,
    min_gain: float,
    binning: dict[str, object],
) -> list[Ratio]:
    """The ratios worth adding, best first (ties: column order)."""
    if max_ratios <= 0 or len(numeric) < 2:
        return []
    iv = {c: information_value(frame[c], y, binning) for c in numeric}
    gains = []
    for i, (a, b) in enumerate(combinations(numeric, 2)):
        ratio = Ratio(a, b)
        if ratio.name in frame.columns:
            continue
        values = ratio_values(frame, ratio)
        if values.notna().sum() < 2:
            continue
        gain = information_value(values, y, binning) - max(iv[a], iv[b])
        if gain >= min_gain:
            gains.append((-gain, i, ratio))
    return [ratio for _, _, ratio in sorted(gains, key=lambda g: (g[0], g[1]))[:max_ratios]]
