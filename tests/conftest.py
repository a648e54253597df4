"""Hypothesis profiles for the whole test suite.

- ``ci`` (loaded by default): the engine-vs-reference property runs 500 examples; no deadline
  (Polars' first calls and xdist workers make per-example timings noisy); randomised.
- ``dev``: a quick pass while editing (``HYPOTHESIS_PROFILE=dev``).
- ``thorough``: a long soak (``HYPOTHESIS_PROFILE=thorough``), not part of CI.

Tests that want fewer examples than the main property scale from the loaded profile with
`tests.conftest.examples(fraction)`, so ``dev`` and ``thorough`` scale them too.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = settings(
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

settings.register_profile("ci", _COMMON, max_examples=500)
settings.register_profile("dev", _COMMON, max_examples=60)
settings.register_profile("thorough", _COMMON, max_examples=5_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def examples(fraction: float) -> int:
    """A share of the loaded profile's max_examples (at least 10)."""
    return max(10, int(settings().max_examples * fraction))
