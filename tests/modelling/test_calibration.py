"""Calibration per band: binomial test and Jeffreys interval against hand references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from postloan.modelling import calibrate
from postloan.modelling.calibration import jeffreys_interval


def _hand_binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided exact test: the probability of every outcome no likelier than k."""
    pmf = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[k] * (1 + 1e-7)))


def _beta_cdf_by_integration(x: float, a: float, b: float) -> float:
    """Beta(a, b) CDF by the midpoint rule after t = u² (removes the 1/√t singularity)."""
    grid = 200_000

    def integral(upper: float) -> float:
        u = (np.arange(grid) + 0.5) * (math.sqrt(upper) / grid)
        t = u * u
        return float(np.sum(2 * u * t ** (a - 1) * (1 - t) ** (b - 1)) * math.sqrt(upper) / grid)

    return integral(x) / (math.gamma(a) * math.gamma(b) / math.gamma(a + b))


def test_jeffreys_interval_ends_are_the_beta_quantiles() -> None:
    k, n = 7, 120
    low, high = jeffreys_interval(k, n, alpha=0.05)
    assert _beta_cdf_by_integration(low, k + 0.5, n - k + 0.5) == pytest.approx(0.025, abs=2e-4)
    assert _beta_cdf_by_integration(high, k + 0.5, n - k + 0.5) == pytest.approx(0.975, abs=2e-4)
    assert jeffreys_interval(0, 50)[0] == 0.0 and jeffreys_interval(50, 50)[1] == 1.0


def test_calibration_per_band() -> None:
    bands = np.array([0] * 40 + [1] * 60)
    bad = np.array([1] * 10 + [0] * 30 + [1] * 3 + [0] * 57)
    pd = np.array([0.25] * 40 + [0.30] * 60)  # band 0 is right, band 1 far too pessimistic
    first, second = calibrate(bands, pd, bad)
    assert (first.n, first.bads, first.observed) == (40, 10, 0.25)
    assert first.binomial_p == pytest.approx(_hand_binomial_p(10, 40, 0.25), rel=1e-9)
    assert second.binomial_p == pytest.approx(_hand_binomial_p(3, 60, 0.30), rel=1e-9)
    assert first.passed and not second.passed
    # the one-sided Jeffreys p: P(true rate ≤ PD | data) — near 1 when the PD is too high
    assert second.jeffreys_p == pytest.approx(_beta_cdf_by_integration(0.30, 3.5, 57.5), abs=2e-4)
    assert second.jeffreys_p > 0.999
