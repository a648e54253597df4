"""The daily run of the 100k-account demo portfolio, collections included (issue 5's target:
≤ 60 s on this machine).

    ./dev bench-daily [--customers 71500] [--days 30] [--repeat 3] [--without AREA ...]

At 1M accounts (`--customers 715000 --days 8`) building the store takes well over an hour on
this machine (import ≈ 10 min, then the backfill with every area's steps): run it from a
worktree of its own, never from a checkout that is merged into meanwhile (the run imports
modules lazily; a merge under it broke one such build).

The store is the demo's (`postloan demo --customers 71500 --days 30`: ≈ 100k accounts, 30 stored
dates, cases, reminders and contact tasks built by the backfill), built once into
`benchmarks/out/daily-71500` (delete it after a schema change). Each repetition copies it, then
times, in a fresh process, one daily run of the next business date: load + engine + write-back +
the collections step (case transitions, reminders, promises, strategies, ratings, allocation,
legal proposals, contact tasks). Figures are medians; the per-step split comes from the run
record's timings."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.portfolios import OUT

CHILD = """
import json, sys, time
from datetime import date, timedelta
from sqlalchemy import func, select
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status
url = ready(sys.argv[1])  # migrations first: not part of the daily run
from postloan import areas
for name in sys.argv[2:]:  # --without AREA: the run as if the area were not registered
    areas.unregister(name)
engine = engine_for(url)
with engine.connect() as conn:
    latest = conn.execute(select(func.max(account_status.c.as_of))).scalar()
engine.dispose()
day = date.fromisoformat(str(latest)[:10]) + timedelta(days=1)
t = time.perf_counter()
result = run_dates(url, [day], default_policy())
total = time.perf_counter() - t
print("RESULT " + json.dumps({"total": total, "rows": result.rows, "day": str(day),
                              **result.timings}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=71_500)
    parser.add_argument("--days", type=int, default=30, help="stored dates when building")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="AREA",
        help="Run with this business area unregistered (after migrations).",
    )
    args = parser.parse_args()
    data = OUT / f"daily-{args.customers}"
    env = {**os.environ, "POSTLOAN_DATA_DIR": str(data)}
    env.pop("POSTLOAN_DATABASE_URL", None)
    if not (data / "postloan.sqlite").exists():
        subprocess.run(
            [sys.executable, "-m", "postloan", "demo", "--customers", str(args.customers),
             "--days", str(args.days), "--no-serve"],
            env=env, check=True,
        )  # fmt: skip
    runs = []
    for rep in range(args.repeat):
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            copy = Path(tmp) / "postloan.sqlite"
            shutil.copyfile(data / "postloan.sqlite", copy)
            out = subprocess.run(
                [sys.executable, "-c", CHILD, f"sqlite:///{copy}", *args.without],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            runs.append(json.loads(line[7:]))
            print(f"  run {rep + 1}: " + ", ".join(
                f"{k} {v:.1f} s" if isinstance(v, float) else f"{k} {v}"
                for k, v in runs[-1].items()), flush=True)  # fmt: skip
    steps = [k for k, v in runs[0].items() if isinstance(v, float)]
    med = {k: statistics.median(r[k] for r in runs) for k in steps}
    split = ", ".join(f"{k} {med[k]:.1f}" for k in steps if k != "total")
    print(
        f"daily run of {runs[0]['day']} ({runs[0]['rows']:,} status rows, "
        f"{args.customers:,} customers) incl. collections: median {med['total']:.1f} s over "
        f"{len(runs)} ({split})",
        flush=True,
    )


if __name__ == "__main__":
    main()
