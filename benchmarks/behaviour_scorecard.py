"""The behaviour scorecard (RK-2) on a synthetic history: out-of-time AUC and KS, and the
`risk.behaviour` step's share of a daily run (issue 13).

    python -m benchmarks.behaviour_scorecard [--accounts 5000] [--months 30] [--seed 42]

1. A synthetic portfolio (`postloan.synth`, the demo's generator) is written as contract
   files and imported into a fresh SQLite store; the daily run stores the month ends of the
   last `--months` months (every area's steps included).
2. The training data (`risk.behaviour.training_data`: monthly snapshots, 12-month 90+ DPD
   target) is fitted with the latest `risk.models.out_of_time_months` months held out
   (`fit_behaviour`); training and out-of-time AUC/KS are printed.
3. The model is registered, validated and approved (two users), and the day after the last
   month end is run: the run record's timings give the whole run and `risk.behaviour`.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import time
from datetime import UTC, date, datetime, timedelta

from benchmarks.portfolios import OUT

AS_OF = date(2026, 6, 30)
IMPORT_ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


def month_ends(last: date, months: int) -> list[date]:
    out, y, m = [], last.year, last.month
    for _ in range(months):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from postloan.contract import write_contract_files
    from postloan.imports.service import import_file
    from postloan.policy import default_policy
    from postloan.risk import registry
    from postloan.risk.behaviour import fit_behaviour, training_data
    from postloan.runs.service import run_dates
    from postloan.store.db import engine_for, ready
    from postloan.synth import generate

    policy = default_policy()
    work = OUT / f"behaviour-{args.accounts}-{args.seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    started = time.perf_counter()
    write_contract_files(generate(accounts=args.accounts, seed=args.seed, as_of=AS_OF), work,
                         fmt="csv")  # fmt: skip
    url = ready(f"sqlite:///{work / 'store.sqlite'}")
    for kind in IMPORT_ORDER:
        path = work / f"{kind.replace('-', '_')}.csv"
        if path.exists():
            import_file(kind, path, url)
    ends = month_ends(AS_OF, args.months)
    run_dates(url, ends, policy)
    built = time.perf_counter() - started

    engine = engine_for(url)
    t = time.perf_counter()
    with engine.connect() as conn:
        data = training_data(conn, policy)
    features_s = time.perf_counter() - t
    t = time.perf_counter()
    model = fit_behaviour(data, policy, seed=args.seed)
    fit_s = time.perf_counter() - t
    now = datetime.now(UTC)
    with engine.begin() as conn:
        mid = registry.register(conn, model, "behaviour", "benchmark", "benchmark", "maker",
                                now).model_id  # fmt: skip
        registry.validate(conn, policy, mid, "benchmark", "maker", now)
        registry.approve(conn, mid, "benchmark", "checker", now)
    engine.dispose()
    result = run_dates(url, [AS_OF + timedelta(days=1)], policy)
    m = model.metrics
    report = {
        "accounts": args.accounts, "months": args.months, "seed": args.seed,
        "observations": data.height, "bads": int(data["bad"].sum()),
        "data_window": model.data_window, "out_of_time": (model.source or {}).get("out_of_time"),
        "train_auc": m["auc"], "train_ks": m["ks"], "oot_auc": m.get("oot_auc"),
        "oot_ks": m.get("oot_ks"), "oot_rows": m.get("oot_rows"), "oot_bads": m.get("oot_bads"),
        "characteristics": model.features, "model_id": mid,
        "store_build_s": built, "training_data_s": features_s, "fit_s": fit_s,
        "daily_run_s": sum(result.timings.values()),
        "behaviour_step_s": result.timings.get("risk.behaviour"),
        "load_avg": os.getloadavg()[0],
    }  # fmt: skip
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
