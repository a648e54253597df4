"""Satisfaction figures (CR-2) with confidence intervals.

- CSAT: the share of answers at or above `satisfied_from` on the 1-5 scale; its interval is
  Wilson's score interval for a binomial proportion (good coverage for small n and for shares
  near 0 or 1, where the plain normal interval fails).
- NPS: % promoters (9-10) − % detractors (0-6) on the 0-10 scale, i.e. 100 × the mean of a
  per-answer score of +1 / 0 / −1. Its interval is the normal interval of that mean, with
  variance (p₊ + p₋ − (p₊ − p₋)²) / n (the multinomial variance of the difference of two
  shares), clipped to [−100, 100]. With fewer than 2 answers there is no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Figure:
    n: int
    value: float | None  # CSAT in %, NPS in points; None with no answers
    low: float | None
    high: float | None


def z_for(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def csat(scores: Sequence[int], satisfied_from: int, confidence: float) -> Figure:
    n = len(scores)
    if n == 0:
        return Figure(0, None, None, None)
    k = sum(1 for s in scores if s >= satisfied_from)
    p, z = k / n, z_for(confidence)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Figure(n, 100 * p, 100 * max(0.0, centre - half), 100 * min(1.0, centre + half))


def nps(scores: Sequence[int], confidence: float) -> Figure:
    n = len(scores)
    if n == 0:
        return Figure(0, None, None, None)
    promoters = sum(1 for s in scores if s >= 9) / n
    detractors = sum(1 for s in scores if s <= 6) / n
    value = promoters - detractors
    if n < 2:
        return Figure(n, 100 * value, None, None)
    se = math.sqrt(max(0.0, promoters + detractors - value * value) / n)
    half = z_for(confidence) * se
    return Figure(n, 100 * value, 100 * max(-1.0, value - half), 100 * min(1.0, value + half))
