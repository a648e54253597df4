"""Evaluation of the measures (CH-7) against the random holdout — pure statistics.

Each measure kind is compared by *assignment* (intention to treat): the treated arm is every
evaluated episode that was assigned the measure (whatever became of the task: refused for want
of consent, not reached, done), the holdout arm every holdout episode that reached the grade
that would have assigned it. Randomisation makes the arms alike, so the difference of their
outcome rates is the measure's effect; comparing before and after instead credits the measure
with the recovery that regression to the mean brings anyway.

The interval is Newcombe's hybrid score interval for a difference of two independent
proportions (Newcombe 1998, method 10): Wilson score intervals for each rate, combined. It keeps
its coverage for small arms and rates near 0 or 1, where the Wald interval does not.

A measure is flagged **keep** when the lower bound of its primary outcome's interval is above 0
and each arm has at least `min_arm_size` evaluated episodes; otherwise **adjust** (with why:
`no_effect` — the interval reaches 0 or below — or `too_few`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


def z_value(confidence: float) -> float:
    """The two-sided normal quantile for `confidence` (1.959964 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for successes/n (n > 0)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError("wilson: need 0 <= successes <= n and n > 0")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = (z / (1 + z * z / n)) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float) -> tuple[float, float, float]:
    """(difference p1 − p2, lower, upper): Newcombe's hybrid score interval (method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lower, upper


@dataclass(frozen=True)
class Effect:
    outcome: str
    treated_n: int
    treated_x: int
    holdout_n: int
    holdout_x: int
    treated_rate: float | None
    holdout_rate: float | None
    difference: float | None
    lower: float | None
    upper: float | None


def effect(outcome: str, treated: tuple[int, int], holdout: tuple[int, int], z: float) -> Effect:
    """The effect on one outcome: (successes, n) per arm; no interval when an arm is empty."""
    (tx, tn), (hx, hn) = treated, holdout
    if tn == 0 or hn == 0:
        return Effect(outcome, tn, tx, hn, hx, tx / tn if tn else None,
                      hx / hn if hn else None, None, None, None)  # fmt: skip
    d, lo, up = newcombe(tx, tn, hx, hn, z)
    return Effect(outcome, tn, tx, hn, hx, tx / tn, hx / hn, d, lo, up)


def verdict(primary: Effect, min_arm_size: int) -> tuple[str, str]:
    """("keep" | "adjust", why) for a measure from its primary outcome (module doc)."""
    if primary.treated_n < min_arm_size or primary.holdout_n < min_arm_size:
        return "adjust", "too_few"
    if primary.lower is not None and primary.lower > 0:
        return "keep", "effect"
    return "adjust", "no_effect"
