"""The daily engine on Spark vs one process, on the same machine (issue 17).

    ./dev bench-spark [--accounts 1000000] [--repeat 3] [--masters local[1] local[2]]

The portfolio (`postloan.synth`, seed fixed) is written once as contract Parquet files — what
`postloan export` writes — into `benchmarks/out/spark-contract-N`. Each repetition runs, in a
fresh process:
- **single**: `contract.read_contract_files` + `engine.account_status` for D (what a local run
  does between the store's load and its write), the process's peak RSS;
- **spark local[k]**: `postloan.spark.job.run_on_spark` from the same files to Parquet (session
  start reported apart), the peak RSS of the JVM and of the Python workers together (sampled
  every 0.2 s over the process tree: in local mode the driver JVM is the executor).
Figures are medians over the repetitions. The projection to 10M/100M accounts is arithmetic on
the measured per-account cost of a local[1] task (one core = one executor core), plus the
measured fixed cost of a job — a projection, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.portfolios import AS_OF, OUT, SEED

FIXED_S = 30.0  # an assumed job scheduling cost on a cluster (stages, executors' Python start)

SINGLE = """
import json, resource, sys, time
from datetime import date
from postloan.contract.files import read_contract_files
from postloan.engine import account_status
from postloan.policy import default_policy
t = time.perf_counter()
portfolio, _, _ = read_contract_files(sys.argv[1])
read = time.perf_counter() - t
status = account_status(portfolio, date.fromisoformat(sys.argv[2]), default_policy())
total = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("RESULT " + json.dumps({"total": total, "read": read, "rows": status.height,
                              "peak_mb": peak}))
"""

SPARK = """
import json, sys, time
from datetime import date
from postloan.policy import default_policy
from postloan.spark.job import Inputs, run_on_spark, spark_session
t = time.perf_counter()
spark = spark_session(sys.argv[3], "postloan-bench", {"spark.driver.memory": sys.argv[5]})
start = time.perf_counter() - t
t = time.perf_counter()
report = run_on_spark(spark, Inputs(folder=sys.argv[1]), sys.argv[4],
                      [date.fromisoformat(sys.argv[2])], default_policy())
total = time.perf_counter() - t
print("RESULT " + json.dumps({"total": total, "start": start, "rows": report.rows["account_status"],
                              "partitions": report.partitions, **report.timings}))
spark.stop()
"""


def contract_folder(accounts: int) -> Path:
    from postloan.contract import write_contract_files
    from postloan.synth import generate

    path = OUT / f"spark-contract-{accounts}-{SEED}"
    if not (path / "payments.parquet").exists():
        write_contract_files(generate(accounts=accounts, seed=SEED, as_of=AS_OF), path, "parquet")
    return path


def _tree_rss_mb(root: int) -> float:
    """RSS of a process and all its descendants (Linux /proc), in MB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _child(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-c", code, *args]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"benchmark child failed:\n{out[-2000:]}")
    return {**json.loads(line[len("RESULT ") :]), "tree_peak_mb": peak[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    folder = contract_folder(args.accounts)
    day = AS_OF.isoformat()
    results: dict[str, list[dict[str, float]]] = {"single": []}
    for _ in range(args.repeat):
        results["single"].append(_child(SINGLE, str(folder), day))
        for master in args.masters:
            out = OUT / f"spark-out-{args.accounts}"
            results.setdefault(master, []).append(
                _child(SPARK, str(folder), day, master, str(out), args.driver_memory)
            )
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for name, runs in results.items()
    }
    n = args.accounts
    single = med["single"]
    print(f"{n:,} accounts, as of {day}, medians of {args.repeat} (machine shared)")
    print(f"  single process: {single['total']:.1f} s (read+schedules {single['read']:.1f} s), "
          f"peak {single['tree_peak_mb']:.0f} MB, {single['rows']:,.0f} rows")  # fmt: skip
    for master in args.masters:
        m = med[master]
        print(f"  spark {master}: {m['total']:.1f} s (+{m['start']:.1f} s session start), "
              f"{m['total'] / single['total']:.2f}x single; check {m['check']:.1f} s, "
              f"account_status {m['account_status']:.1f} s; peak JVM+workers "
              f"{m['tree_peak_mb']:.0f} MB; {m['partitions']:.0f} partitions")  # fmt: skip
    one = med[args.masters[0]]
    per_account_us = 1e6 * one["total"] / n
    overhead_us = 1e6 * (one["total"] - single["total"]) / n
    print(f"  Spark cost per account on one core: {per_account_us:.0f} µs "
          f"(overhead vs one process: {overhead_us:+.0f} µs per account)")  # fmt: skip
    print(
        f"  PROJECTION (not measured): job ≈ {FIXED_S:.0f} s fixed + accounts × the local[1] "
        "cost per account / executor cores (partitions independent, cost linear per partition)"
    )
    for total_accounts in (10_000_000, 100_000_000):
        for cores in (16, 64, 256):
            secs = FIXED_S + total_accounts * one["total"] / n / cores
            print(f"    {total_accounts / 1e6:.0f}M accounts on {cores} executor cores: "
                  f"≈ {secs / 60:.1f} min")  # fmt: skip
    (OUT / f"spark_bench-{n}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
