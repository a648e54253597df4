"""The churn step's time (issue 12's target: ≤ 10 % of the daily run's time at 1M accounts).

    ./dev bench-churn [--customers 71500] [--repeat 3] [--accounts 1000000] [--skip-synthetic]

1. **Demo store (≈100k accounts)**: the store `benchmarks/daily_run.py` builds and caches
   (`postloan demo --customers 71500 --days 30` into `benchmarks/out/daily-<customers>`).
   Each repetition copies it and runs, in a fresh process, the daily run of the next date;
   the run record's timings give the whole run and the `churn.identify` step (identification,
   grading, the pool's episodes and screening, all SQL included).
2. **Synthetic frames (1M accounts)**: building a 1M-account store takes most of an hour on
   this machine, so the step's computation is timed on the synthetic portfolio itself
   (`synth.generate`, cached as Parquet with its events): in a fresh process, identification
   (`churn.rules.identify`) and grading (`churn.rules.grading`, with the accounts' state
   aggregated from the engine's account status, not timed) for one date — the part that
   grows with the portfolio; the step's SQL grows with the pool (its identified rows and
   episodes), measured in (1). The engine's account status for the same date is timed in the
   same process for scale. Figures are medians.
"""

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

from benchmarks.portfolios import AS_OF, OUT, SEED

DEMO_CHILD = """
import json, os, sys, time
from datetime import date, timedelta
from sqlalchemy import func, select
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status
from postloan.churn.tables import churn_identified, churn_episodes
url = ready(sys.argv[1])
engine = engine_for(url)
with engine.connect() as conn:
    latest = conn.execute(select(func.max(account_status.c.as_of))).scalar()
day = date.fromisoformat(str(latest)[:10]) + timedelta(days=1)
t = time.perf_counter()
result = run_dates(url, [day], default_policy())
total = time.perf_counter() - t
with engine.connect() as conn:
    pool = conn.execute(select(func.count()).select_from(churn_identified)
                        .where(churn_identified.c.as_of == day)).scalar()
    episodes = conn.execute(select(func.count()).select_from(churn_episodes)).scalar()
engine.dispose()
print("RESULT " + json.dumps({"total": total, "rows": result.rows, "day": str(day),
                              "load_avg": os.getloadavg()[0],
                              "pool": pool, "episodes": episodes, **result.timings}))
"""

SYNTHETIC_CHILD = """
import json, os, resource, sys, time
from datetime import date
import polars as pl
from pathlib import Path
from benchmarks.portfolios import load
from postloan.churn.rules.frames import STATUS
from postloan.churn.rules.grading import grade
from postloan.churn.rules.identify import ChurnInputs, identify
from postloan.engine import account_status
from postloan.policy import default_policy
folder = Path(sys.argv[1]); day = date.fromisoformat(sys.argv[2])
portfolio = load(folder)
# In the store's order (the run reads tables ordered by account id and date).
from postloan.engine.frames import Portfolio
portfolio = Portfolio(portfolio.loans.sort("account_id"), portfolio.instalments,
                      portfolio.cards.sort("account_id"),
                      portfolio.statements.sort("account_id", "statement_date"),
                      portfolio.payments.sort("account_id", "value_date"))
events = pl.read_parquet(folder / "events.parquet")
customers = pl.read_parquet(folder / "customers.parquet")
policy = default_policy()
t = time.perf_counter()
alone = identify(ChurnInputs(portfolio, events), [day], policy)
t_identify = time.perf_counter() - t
t = time.perf_counter()
status = account_status(portfolio, day, policy)
t_engine = time.perf_counter() - t
# The daily run's way: the engine's pass also computes rules (a)/(b)'s counters for churn's
# request (its extra time is churn's), and identification reads them.
from postloan.churn.queries import ChurnFrames
from postloan.churn.service import lateness_request
from postloan.engine.api import status_and_lateness
request = lateness_request(ChurnFrames(events, customers, pl.DataFrame()), policy)
t = time.perf_counter()
status2, late = status_and_lateness(portfolio, [day], policy, wanted=request)
t_engine_late = time.perf_counter() - t
t = time.perf_counter()
found = identify(ChurnInputs(portfolio, events, engine_lateness=late), [day], policy)
t_fused = time.perf_counter() - t
assert found.equals(alone), "the engine pass's counters must give the same identification"
aggregated = status.filter(pl.col("customer_id").is_in(found["customer_id"].implode())).group_by(
    "as_of", "customer_id").agg(
    pl.col("outstanding_principal").sum().alias("balance"), pl.col("overdue_amount").sum(),
    pl.col("dpd").max().alias("max_dpd"),
    pl.col("consecutive_overdue_periods").max().alias("max_consecutive"),
    pl.len().cast(pl.Int32).alias("open_accounts")).select(list(STATUS)).cast(STATUS)
openings = pl.concat([
    portfolio.loans.select("customer_id", pl.col("disbursement_date").alias("date")),
    portfolio.cards.select("customer_id", pl.col("open_date").alias("date"))])
t = time.perf_counter()
graded = grade(found, aggregated, customers, events, openings, policy)
t_grade = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print("RESULT " + json.dumps({"identify": t_identify, "grade": t_grade, "engine": t_engine,
                              "engine_with_lateness": t_engine_late, "identify_fused": t_fused,
                              "lateness_rows": late.height,
                              "load_avg": os.getloadavg()[0],
                              "identified": found.height, "accounts":
                              portfolio.loans.height + portfolio.cards.height,
                              "peak_rss_gb": peak}))
"""


def _result(out: str) -> dict[str, object]:
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])  # type: ignore[no-any-return]


def demo_store(customers: int) -> Path:
    data = OUT / f"daily-{customers}"
    if not (data / "postloan.sqlite").exists():
        env = {**os.environ, "POSTLOAN_DATA_DIR": str(data)}
        env.pop("POSTLOAN_DATABASE_URL", None)
        subprocess.run(
            [sys.executable, "-m", "postloan", "demo", "--customers", str(customers),
             "--days", "30", "--no-serve"],
            env=env, check=True,
        )  # fmt: skip
    return data


def bench_demo(customers: int, repeat: int) -> None:
    data = demo_store(customers)
    runs = []
    for rep in range(repeat):
        with tempfile.TemporaryDirectory(dir=OUT) as tmp:
            copy = Path(tmp) / "postloan.sqlite"
            shutil.copyfile(data / "postloan.sqlite", copy)
            out = subprocess.run([sys.executable, "-c", DEMO_CHILD, f"sqlite:///{copy}"],
                                 check=True, capture_output=True, text=True)  # fmt: skip
            runs.append(_result(out.stdout))
            r = runs[-1]
            print(f"  run {rep + 1}: total {r['total']:.1f} s, churn.identify "
                  f"{r['churn.identify']:.2f} s, pool {r['pool']:,}, load average "
                  f"{r['load_avg']:.1f}", flush=True)  # fmt: skip
    total = statistics.median(float(r["total"]) for r in runs)  # type: ignore[arg-type]
    churn = statistics.median(float(r["churn.identify"]) for r in runs)  # type: ignore[arg-type]
    steps = statistics.median(float(r["steps"]) for r in runs)  # type: ignore[arg-type]
    print(
        f"demo store ({customers:,} customers, {runs[0]['rows']:,} status rows, pool "
        f"{runs[0]['pool']:,}): daily run median {total:.1f} s, area steps {steps:.1f} s, "
        f"churn step {churn:.2f} s = {100 * churn / total:.1f} % of the run",
        flush=True,
    )


def synthetic_folder(accounts: int) -> Path:
    """The benchmark portfolio of `accounts` accounts with its events and customers."""
    import polars as pl

    from benchmarks.portfolios import TABLES
    from postloan.churn.rules.frames import CUSTOMERS, EVENTS
    from postloan.synth import generate

    path = OUT / f"churn-{accounts}-{SEED}"
    names = (*TABLES, "events", "customers")
    if all((path / f"{t}.parquet").exists() for t in names):
        return path
    path.mkdir(parents=True, exist_ok=True)
    made = generate(accounts=accounts, seed=SEED, as_of=AS_OF)
    for table in TABLES:
        getattr(made.portfolio, table).write_parquet(path / f"{table}.parquet")
    made.events.select(list(EVENTS)).cast(EVENTS).write_parquet(path / "events.parquet")  # type: ignore[arg-type]
    customers = made.customers.select([c for c in CUSTOMERS if c in made.customers.columns])
    customers.with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in CUSTOMERS.items() if c not in customers.columns]
    ).select(list(CUSTOMERS)).cast(CUSTOMERS).write_parquet(path / "customers.parquet")  # type: ignore[arg-type]
    return path


def bench_synthetic(accounts: int, repeat: int) -> None:
    path = synthetic_folder(accounts)
    runs = []
    for rep in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", SYNTHETIC_CHILD, str(path), AS_OF.isoformat()],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        runs.append(_result(out.stdout))
        r = runs[-1]
        print(f"  run {rep + 1}: identify alone {r['identify']:.2f} s, engine account status "
              f"{r['engine']:.2f} s, with churn's counters {r['engine_with_lateness']:.2f} s, "
              f"identify from them {r['identify_fused']:.2f} s, grade {r['grade']:.2f} s, "
              f"load average {r['load_avg']:.1f}", flush=True)  # fmt: skip
    keys = ("identify", "grade", "engine", "engine_with_lateness", "identify_fused")
    med = {k: statistics.median(float(r[k]) for r in runs) for k in keys}  # type: ignore[arg-type]
    extra = med["engine_with_lateness"] - med["engine"]
    print(
        f"synthetic {runs[0]['accounts']:,} accounts, {runs[0]['identified']:,} identified "
        f"(medians of {len(runs)}): identification alone {med['identify']:.2f} s; the run's "
        f"way: the engine pass {med['engine']:.2f} → {med['engine_with_lateness']:.2f} s "
        f"(+{extra:.2f} s for churn's counters, {runs[0]['lateness_rows']:,} rows kept) + "
        f"identification from them {med['identify_fused']:.2f} s + grade {med['grade']:.2f} s "
        f"= {extra + med['identify_fused'] + med['grade']:.2f} s of churn computation; peak "
        f"RSS {max(float(r['peak_rss_gb']) for r in runs):.2f} GB",  # type: ignore[arg-type]
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=71_500)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        bench_demo(args.customers, args.repeat)
    if not args.skip_synthetic:
        bench_synthetic(args.accounts, args.repeat)


if __name__ == "__main__":
    main()
