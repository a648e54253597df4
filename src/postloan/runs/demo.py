"""The demo's history in two runs with the areas' demo hooks between them (`Area.demo`).

The contract files carry what a lender's systems export — customers, accounts, payments,
events — but not what its staff recorded in postloan: collectors' contacts and promises to
pay, say. `postloan demo` therefore runs its dates in two parts: the earlier dates, then each
area's hook records, in one transaction, the staff's work on that stored history (collections:
calls with promises, drawn from the seed on the last stored status), then the later
`tail_length` dates, whose steps see those records as a daily run would — promises decided kept
or broken from the payments, risk's `broken_promises` signal counting the broken ones. Runs
replay the same answers whatever way the dates are split (`runs.service`), so the split changes
nothing else in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from postloan import areas
from postloan.policy import Policy
from postloan.runs.service import RunResult, run_dates
from postloan.store.db import engine_for

TAIL_DAYS = 30  # at most: the later run's dates, where the recorded promises fall due


def tail_length(count: int) -> int:
    """How many of `count` dates the second run takes: a third, 1 to TAIL_DAYS; none of one."""
    return 0 if count < 2 else max(1, min(TAIL_DAYS, count // 3))


def demo_runs(
    url: str, dates: list[date], policy: Policy, seed: int,
    run: Callable[[str, list[date], Policy], RunResult] = run_dates,
) -> tuple[list[RunResult], dict[str, Mapping[str, Any]]]:  # fmt: skip
    """Run `dates` (sorted, distinct) in two parts with the areas' demo hooks between them;
    the runs' results and what each hook recorded, by area name."""
    ordered = sorted(set(dates))
    tail = tail_length(len(ordered))
    head, rest = ordered[: len(ordered) - tail], ordered[len(ordered) - tail :]
    results = [run(url, head, policy)]
    recorded: dict[str, Mapping[str, Any]] = {}
    if rest:
        engine = engine_for(url)
        try:
            with engine.begin() as conn:
                for name, hook in areas.demo_hooks().items():
                    recorded[name] = hook(conn, policy, rest[0], rest[-1], seed)
        finally:
            engine.dispose()  # before the next run (its ADBC driver bundles its own SQLite)
        results.append(run(url, rest, policy))
    return results, recorded
