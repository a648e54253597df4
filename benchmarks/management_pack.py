"""Management pack benchmark (issue 16 item 7): the portfolio pack built from stored status.

    python -m benchmarks.management_pack [--accounts 100000] [--months 24] [--repeats 3]
        [--source totals|status]

Builds (and caches in `benchmarks/out/`) a SQLite store holding `accounts` accounts (one in
ten a card) with their account status on `months` month-ends, drawn with numpy: each account
a DPD random walk (delinquency starts, rolls a bucket a month unpaid, cures), principal
amortising over its term, loans disbursed over the three years before the last month-end;
one payment a month on current loans. Then times `management.service.build` for the whole
period (every month-end, every breakdown, roll matrix, vintages, dormant cards, staff) in a
fresh process per repeat, reading through ADBC as `postloan report pack` does; prints the
median and each repeat's read/compute split and peak memory (JSON on the last line).

`--source totals` (the default) first runs the daily run's `management.totals` step over the
whole history in a fresh process, as a backfill's step would (its time is reported as
`totals_step`), then times packs that read those stored month totals — what a whole-book pack
does once the daily runs have stored them; `--source status` times the pack computed from the
status rows (the totals ignored), as a branch-scoped pack is — one month-end at a time
(`management.stream`) since 2026-12-04, all month-ends at once before.

The target (issue 16): 1M accounts × 24 month-ends ≤ 60 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import numpy as np
import polars as pl

from benchmarks.portfolios import OUT
from postloan.policy import default_policy
from postloan.store import bulk
from postloan.store.db import ready

LAST = date(2026, 6, 30)
SEED = 16


def month_ends(months: int) -> list[date]:
    frame = pl.date_range(date(2000, 1, 1), LAST, "1mo", eager=True).dt.month_end()
    return frame.to_list()[-months:]


def _walk(rng: np.random.Generator, accounts: int, months: int) -> np.ndarray:
    """DPD per (month, account): a start 3 % a month, rolling on unpaid 45 %, else cured."""
    dpd = np.zeros((months, accounts), dtype=np.int64)
    now = np.zeros(accounts, dtype=np.int64)
    for m in range(months):  # months, not accounts: 24 vectorised steps
        u = rng.random(accounts)
        start = (now == 0) & (u < 0.03)
        roll = (now > 0) & (u < 0.45)
        now = np.where(start, rng.integers(1, 30, accounts), np.where(roll, now + 30, 0))
        dpd[m] = now
    return dpd


def build_store(accounts: int, months: int) -> str:
    path = OUT / f"mgmt-{accounts}-{months}.sqlite"
    url = f"sqlite:///{path}"
    if path.exists():
        return url
    OUT.mkdir(parents=True, exist_ok=True)
    ready(url)
    rng = np.random.default_rng(SEED)
    ends = month_ends(months)
    policy = default_policy()
    ids = np.arange(accounts)
    is_card = ids % 10 == 9
    account_ids = np.where(
        is_card, np.char.add("C", ids.astype(str)), np.char.add("L", ids.astype(str))
    )
    customer_ids = np.char.add("K", (ids // 2).astype(str))
    first_month = rng.integers(-12, months, accounts)  # index of the first month-end on book
    branches = np.char.add("B", rng.integers(0, 40, accounts).astype(str))
    principal = rng.integers(1_000, 300_000, accounts) * 100
    term = rng.choice([6, 12, 24, 36, 60, 120], accounts)
    customers = pl.DataFrame(
        {
            "customer_id": customer_ids[::2],
            "name": customer_ids[::2],
            "id_type": "prc_id",
            "branch_id": branches[::2],
            "industry": rng.choice(["retail", "farming", "manufacturing"], len(customer_ids[::2])),
        }
    )
    start = np.array(ends[0], dtype="datetime64[D]")
    disbursed = (start + (first_month * 30 - 20).astype("timedelta64[D]")).astype("datetime64[D]")
    loans_mask = ~is_card
    loans = pl.DataFrame(
        {
            "loan_id": account_ids[loans_mask],
            "customer_id": customer_ids[loans_mask],
            "principal": principal[loans_mask],
            "annual_rate": 8_000_000,
            "term_months": term[loans_mask],
            "repayment_method": "equal_installment",
            "disbursement_date": disbursed[loans_mask],
            "product": rng.choice(["consumer", "business", "mortgage"], int(loans_mask.sum())),
            "purpose": "consumer",
            "guarantee": "credit",
            "rate_type": "fixed",
            "borrower_type": "individual",
            "branch_id": branches[loans_mask],
            "officer_id": np.char.add("O", rng.integers(0, 400, int(loans_mask.sum())).astype(str)),
        }
    ).with_columns(pl.col("disbursement_date").cast(pl.Date))
    cards = pl.DataFrame(
        {
            "card_id": account_ids[is_card],
            "customer_id": customer_ids[is_card],
            "credit_limit": 5_000_000,
            "open_date": disbursed[is_card],
        }
    ).with_columns(pl.col("open_date").cast(pl.Date))
    dpd = _walk(rng, accounts, months)
    frames = []
    payments = []
    for m, day in enumerate(ends):
        on = first_month <= m
        age = np.clip(m - first_month, 0, None)
        left = np.where(
            is_card,
            np.where(rng.random(accounts) < 0.3, 0, principal // 10),
            np.clip(principal - principal * age // np.maximum(term, 1), 0, None),
        )
        d = dpd[m]
        overdue = np.where(d > 0, left // 12, 0)
        bucket = np.select(
            [d == 0, d <= 30, d <= 60, d <= 90], ["current", "M1", "M2", "M3"], "M3+"
        )
        klass = np.select(
            [d <= 30, d <= 90, d <= 180, d <= 360],
            ["normal", "special_mention", "substandard", "doubtful"],
            "loss",
        )
        frames.append(
            pl.DataFrame(
                {
                    "as_of": [day] * int(on.sum()),
                    "account_id": account_ids[on],
                    "customer_id": customer_ids[on],
                    "account_type": np.where(is_card, "card", "loan")[on],
                    "outstanding_principal": left[on],
                    "overdue_principal": overdue[on],
                    "overdue_interest": np.zeros(int(on.sum()), dtype=np.int64),
                    "overdue_amount": overdue[on],
                    "dpd": d[on],
                    "bucket": bucket[on],
                    "risk_class": klass[on],
                    "consecutive_overdue_periods": (d // 30)[on],
                    "cumulative_overdue_periods": (d // 30)[on],
                    "run_id": 1,
                    "restructured": np.zeros(int(on.sum()), dtype=bool),
                }
            ).with_columns(pl.col("as_of").cast(pl.Date))
        )
        paying = on & ~is_card & (d == 0)
        payments.append(
            pl.DataFrame(
                {
                    "payment_id": np.char.add(f"P{m}-", ids[paying].astype(str)),
                    "account_id": account_ids[paying],
                    "value_date": [day] * int(paying.sum()),
                    "amount": (principal[paying] // np.maximum(term[paying], 1)) * 11 // 10,
                    "channel": "bank",
                }
            ).with_columns(pl.col("value_date").cast(pl.Date))
        )
    now = datetime.now(UTC)
    with bulk.connect(url) as conn:
        bulk.execute(
            conn,
            "INSERT INTO policy_versions (version, content, recorded_at) "
            f"VALUES ('{policy.version}', '{{}}', '{now.isoformat()}')",
        )
        bulk.execute(
            conn,
            "INSERT INTO runs (run_id, kind, date_from, date_to, policy_version, "
            f"status, started_at) VALUES (1, 'backfill', '{ends[0]}', '{ends[-1]}', "
            f"'{policy.version}', 'succeeded', '{now.isoformat()}')",
        )
        bulk.ingest(conn, "customers", customers)
        bulk.ingest(conn, "loans", loans)
        bulk.ingest(conn, "cards", cards)
        status = pl.concat(frames)
        bulk.ingest_large(conn, "account_status", status, 0)
        bulk.ingest_large(conn, "payments", pl.concat(payments), 0)
        conn.commit()
    return url


def _peak_mb() -> float:
    """This process's peak RSS. `VmHWM`, not `ru_maxrss`: Linux carries the high-water mark
    over fork and exec, so a child of the process that built the store (≈ 6 GB at 1M) would
    report the builder's peak as its own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def store_totals(url: str) -> dict[str, float]:
    """The `management.totals` step over every stored month (in one transaction, on the
    SQLAlchemy connection, as in a daily run)."""
    from postloan.management import totals
    from postloan.store.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    with engine.begin() as conn:
        months = totals.store_months(conn, default_policy(), date(1900, 1, 1), 1, datetime.now(UTC))
    seconds = time.perf_counter() - started
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": _peak_mb(),
        "months": len(months),
    }


def time_once(url: str, months: int, source: str = "status") -> dict[str, float]:
    from sqlalchemy import true

    from postloan.management import service
    from postloan.store.db import engine_for

    ends = month_ends(months)
    engine = engine_for(url)
    started = time.perf_counter()
    with engine.connect() as conn, bulk.connect(url) as fast:
        built = service.build(
            conn,
            default_policy(),
            ends[0],
            ends[-1],
            true(),
            source=fast,
            use_totals=source == "totals",
        )
    seconds = time.perf_counter() - started
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # CPU seconds as well: on a shared, loaded machine the wall time says more about the load.
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": _peak_mb(),
        "figure_rows": built.figures.height,
        "roll_rows": built.roll.height,
        "vintage_rows": built.vintage.height,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source", choices=("totals", "status"), default="totals")
    parser.add_argument("--once", help=argparse.SUPPRESS)
    parser.add_argument("--totals-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.totals_only:
        print(json.dumps(store_totals(args.totals_only)))
        return
    if args.once:
        print(json.dumps(time_once(args.once, args.months, args.source)))
        return
    started = time.perf_counter()
    url = build_store(args.accounts, args.months)
    ready(url)  # a cached store gets the migrations added since (the totals' table)
    print(f"store {url} ready in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    step = None
    if args.source == "totals":
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.management_pack", "--totals-only", url],
            check=True,
            capture_output=True,
            text=True,
        )
        step = json.loads(out.stdout.strip().splitlines()[-1])
        print({"totals_step": step}, file=sys.stderr)
    runs = []
    for _ in range(args.repeats):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.management_pack",
                "--once",
                url,
                "--months",
                str(args.months),
                "--source",
                args.source,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(runs[-1], file=sys.stderr)
    print(
        json.dumps(
            {
                "accounts": args.accounts,
                "months": args.months,
                "source": args.source,
                "totals_step": step,
                "median_seconds": statistics.median(r["seconds"] for r in runs),
                "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                "median_peak_mb": statistics.median(r["peak_mb"] for r in runs),
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
