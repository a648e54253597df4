"""Engine throughput against the plain reference implementation on the same portfolio."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from benchmarks.portfolios import AS_OF, load
from postloan.engine import account_status
from postloan.policy import default_policy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.reference import reference_account_status


def measure(path: Path, repeats: int) -> dict[str, float]:
    portfolio, policy = load(path), default_policy()
    engine, reference = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        account_status(portfolio, AS_OF, policy)
        engine.append(time.perf_counter() - t)
    t = time.perf_counter()  # the reference is slow: once is enough to see the ratio
    reference_account_status(portfolio, AS_OF, policy)
    reference.append(time.perf_counter() - t)
    engine.sort()
    return {"engine_s": engine[len(engine) // 2], "reference_s": reference[0]}
