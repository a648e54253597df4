"""PD calibration per score band: is the bad rate observed in a band what the model said?

Per band: rows n, bads k, observed rate k/n, predicted PD (the mean of the rows' PDs),
- the exact binomial test of k against Binomial(n, PD), two-sided (scipy's `binomtest`);
- the Jeffreys interval: the (α/2, 1 − α/2) quantiles of Beta(k + ½, n − k + ½), with the
  lower end 0 when k = 0 and the upper end 1 when k = n (Brown, Cai & DasGupta 2001);
- the one-sided Jeffreys p-value Beta(k + ½, n − k + ½).cdf(PD), the ECB/EBA validation test:
  small means the PD is too low for what was observed.
A band passes when its predicted PD lies inside the Jeffreys interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import beta, binomtest


@dataclass(frozen=True)
class BandCalibration:
    band: int
    n: int
    bads: int
    observed: float
    predicted: float
    binomial_p: float
    jeffreys_p: float
    jeffreys_low: float
    jeffreys_high: float

    @property
    def passed(self) -> bool:
        return self.jeffreys_low <= self.predicted <= self.jeffreys_high


def jeffreys_interval(bads: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    a, b = bads + 0.5, n - bads + 0.5
    low = 0.0 if bads == 0 else float(beta.ppf(alpha / 2, a, b))
    high = 1.0 if bads == n else float(beta.ppf(1 - alpha / 2, a, b))
    return low, high


def calibrate(
    band: npt.ArrayLike, pd: npt.ArrayLike, bad: npt.ArrayLike, alpha: float = 0.05
) -> list[BandCalibration]:
    """One row per band that has rows, in band order."""
    bands = np.asarray(band, dtype=np.int64)
    pds = np.asarray(pd, dtype=np.float64)
    y = np.asarray(bad, dtype=np.int64)
    out = []
    for b in np.unique(bands):
        mask = bands == b
        n, k = int(mask.sum()), int(y[mask].sum())
        predicted = float(pds[mask].mean())
        low, high = jeffreys_interval(k, n, alpha)
        out.append(
            BandCalibration(
                band=int(b),
                n=n,
                bads=k,
                observed=k / n,
                predicted=predicted,
                binomial_p=float(binomtest(k, n, predicted).pvalue),
                jeffreys_p=float(beta.cdf(predicted, k + 0.5, n - k + 0.5)),
                jeffreys_low=low,
                jeffreys_high=high,
            )
        )
    return out
