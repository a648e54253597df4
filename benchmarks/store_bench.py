"""Store benchmarks: import throughput and the daily run with load and write-back.

    ./dev bench-store [--accounts 1000000] [--backends sqlite,postgresql] [--repeats 3]

For each backend: a fresh store; every contract file of the benchmark portfolio imported
through `postloan import`'s code path (payment rows/s reported); then the daily run for D
(load + engine + write-back) timed `repeats` times, median reported. PostgreSQL uses
POSTLOAN_BENCH_PG_URL (default: the local test server) in a schema of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.portfolios import AS_OF, OUT, SEED
from postloan.contract import write_contract_files
from postloan.imports.service import import_file
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import ready
from postloan.synth import generate

ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")
PG = os.environ.get("POSTLOAN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def contract_files(accounts: int) -> Path:
    folder = OUT / f"contract-{accounts}-{SEED}"
    if not (folder / "payments.parquet").exists():
        write_contract_files(
            generate(accounts=accounts, seed=SEED, as_of=AS_OF), folder, fmt="parquet"
        )
    return folder


def fresh_store(backend: str, accounts: int) -> tuple[str, str | None]:
    if backend == "sqlite":
        path = OUT / f"store-{accounts}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return ready(f"sqlite:///{path}"), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    return ready(url.render_as_string(hide_password=False)), schema


def drop_schema(schema: str | None) -> None:
    if schema:
        admin = create_engine(PG)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = contract_files(args.accounts)
    for backend in args.backends.split(","):
        url, schema = fresh_store(backend, args.accounts)
        try:
            print(f"\n== {backend}: {args.accounts:,} accounts ==", flush=True)
            for kind in ORDER:
                path = folder / f"{kind.replace('-', '_')}.parquet"
                if not path.exists():
                    continue
                t = time.perf_counter()
                r = import_file(kind, path, url)
                s = time.perf_counter() - t
                rate = r.accepted / s
                line = f"import {kind:<16} {r.accepted:>11,} rows in {s:7.1f} s = {rate:>9,.0f}"
                print(f"{line} rows/s (rejected {r.rejected})", flush=True)
            runs = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                result = run_dates(url, [AS_OF], default_policy())
                runs.append((time.perf_counter() - t, result))
            total = statistics.median(s for s, _ in runs)
            parts = {
                k: statistics.median(r.timings[k] for _, r in runs) for k in runs[0][1].timings
            }
            print(f"daily run for {AS_OF}: median {total:.1f} s over {args.repeats} "
                  f"(load {parts['load']:.1f}, engine {parts['engine']:.1f}, "
                  f"write {parts['write']:.1f}); {runs[0][1].rows:,} rows", flush=True)  # fmt: skip
        finally:
            drop_schema(schema)


if __name__ == "__main__":
    main()
