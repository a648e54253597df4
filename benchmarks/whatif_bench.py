"""The policy what-if's time on a small demo store (issue 16 item 6).

`python -m benchmarks.whatif_bench [--accounts 5000] [--dates 4] [--store PATH]` builds (or
reuses) a SQLite store from the synthetic generator, runs month-ends of 2026 up to June
with every area's steps, then times `management.whatif.compute` under a candidate with a
moved M1/M2 boundary: wall and CPU seconds, and how they split between the engine's two
passes and the areas' hooks (from the progress callback). Meant for the 5k demo; nothing
large (the replay holds every replayed date's status rows in memory, twice).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from postloan.contract import write_contract_files
from postloan.management import whatif
from postloan.policy import default_policy, policy_from_dict
from postloan.runs.service import run_dates
from postloan.store.db import ready
from postloan.synth import generate

MONTH_ENDS = [date(2026, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31),
                                            (6, 30))]  # fmt: skip


def _store(path: Path, accounts: int, dates: list[date]) -> str:
    from postloan.imports.service import import_file

    url = f"sqlite:///{path}"
    if path.exists():
        return url
    ready(url)
    files = path.with_suffix(".files")
    write_contract_files(generate(accounts=accounts, seed=16, as_of=dates[-1]), files, fmt="csv")
    for kind in ("customers", "loans", "schedules", "cards", "card-statements", "payments",
                 "events"):  # fmt: skip
        file = files / f"{kind.replace('-', '_')}.csv"
        if file.exists():
            import_file(kind, file, url)
    run_dates(url, dates, default_policy(), today=date(2026, 7, 1))
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--dates", type=int, default=4, help="month-ends replayed (max 6)")
    parser.add_argument("--store", type=Path, default=Path("benchmarks/out/whatif.sqlite"))
    args = parser.parse_args()
    dates = MONTH_ENDS[-max(1, min(args.dates, len(MONTH_ENDS))) :]
    args.store.parent.mkdir(parents=True, exist_ok=True)
    url = _store(args.store, args.accounts, dates)
    data = default_policy().model_dump(mode="json")
    data["dpd_buckets"][1]["max_dpd"], data["dpd_buckets"][2]["min_dpd"] = 15, 16
    candidate = policy_from_dict(data)
    marks: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()

    def progress(what: str, done: int, total: int) -> None:
        if done == total:
            marks[what] = time.perf_counter() - started

    found = whatif.compute(url, default_policy(), candidate, dates[0], dates[-1], progress)
    wall, used = time.perf_counter() - started, time.process_time() - cpu
    print(f"{args.accounts} accounts × {len(found.dates)} dates: {wall:.2f} s wall,"
          f" {used:.2f} s CPU; engine in force done at {marks.get('in_force', 0):.2f} s,"
          f" candidate at {marks.get('candidate', 0):.2f} s, areas at"
          f" {marks.get('areas', 0):.2f} s; {len(found.figures)} figures")  # fmt: skip


if __name__ == "__main__":
    main()
