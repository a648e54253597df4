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
Both also report CPU seconds (user + system; for Spark of driver, JVM and Python workers during
the run, session start excluded): on a shared machine the figure the others' load inflates
least. Figures are medians over the repetitions. The projection to 10M/100M accounts is
arithmetic on the measured per-account cost of a local[1] task (one core = one executor core),
plus an assumed fixed cost of a job — a projection, not a measurement; run two sizes
(`--accounts`) to separate a job's fixed cost from its cost per account.
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
usage = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT " + json.dumps({"total": total, "read": read, "rows": status.height,
                              "peak_mb": usage.ru_maxrss / 1024,
                              "cpu_s": usage.ru_utime + usage.ru_stime}))
"""

SPARK = """
import json, os, sys, time
from datetime import date
from benchmarks.spark_bench import _tree, _tree_cpu_s
from postloan.policy import default_policy
from postloan.spark.job import Inputs, run_on_spark, spark_session
t = time.perf_counter()
spark = spark_session(sys.argv[3], "postloan-bench", {"spark.driver.memory": sys.argv[5]})
start = time.perf_counter() - t
cpu = _tree_cpu_s(_tree(os.getpid()))  # driver, JVM (the executor in local mode), workers
t = time.perf_counter()
report = run_on_spark(spark, Inputs(folder=sys.argv[1]), sys.argv[4],
                      [date.fromisoformat(sys.argv[2])], default_policy())
total = time.perf_counter() - t
cpu = _tree_cpu_s(_tree(os.getpid())) - cpu
print("RESULT " + json.dumps({"total": total, "start": start, "rows": report.rows["account_status"],
                              "partitions": report.partitions, "cpu_s": cpu, **report.timings}))
spark.stop()
"""


def contract_folder(accounts: int) -> Path:
    from postloan.contract import write_contract_files
    from postloan.synth import generate

    path = OUT / f"spark-contract-{accounts}-{SEED}"
    if not (path / "payments.parquet").exists():
        write_contract_files(generate(accounts=accounts, seed=SEED, as_of=AS_OF), path, "parquet")
    return path


TICK = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """A process and all its descendants (Linux /proc)."""
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
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _tree_cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system, with reaped children's) used so far by these processes: on a
    shared machine the figure that does not grow with the other processes' load."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def _tree_rss_mb(pids: list[int]) -> float:
    """RSS of these processes together, in MB."""
    total = 0
    for pid in pids:
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
    peak, cpu = [0.0], [0.0]

    def sample() -> None:
        while proc.poll() is None:
            pids = _tree(proc.pid)
            peak[0] = max(peak[0], _tree_rss_mb(pids))
            cpu[0] = max(cpu[0], _tree_cpu_s(pids))  # a worker that exits takes its CPU with it
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    sampler.join()
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"benchmark child failed:\n{out[-2000:]}")
    return {**json.loads(line[len("RESULT ") :]), "tree_peak_mb": peak[0], "tree_cpu_s": cpu[0]}


def _progress(rep: int, name: str, result: dict[str, float]) -> None:
    """Each repetition's figures as it ends (a 1M repetition takes many minutes)."""
    print(f"  repetition {rep + 1} {name}: " + json.dumps(result), file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    folder = contract_folder(args.accounts)
    load = os.getloadavg()
    day = AS_OF.isoformat()
    results: dict[str, list[dict[str, float]]] = {"single": []}
    for rep in range(args.repeat):
        results["single"].append(_child(SINGLE, str(folder), day))
        _progress(rep, "single", results["single"][-1])
        for master in args.masters:
            out = OUT / f"spark-out-{args.accounts}"
            results.setdefault(master, []).append(
                _child(SPARK, str(folder), day, master, str(out), args.driver_memory)
            )
            _progress(rep, master, results[master][-1])
    med = {
        name: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        for name, runs in results.items()
    }
    n = args.accounts
    single = med["single"]
    print(f"{n:,} accounts, as of {day}, medians of {args.repeat} (machine shared)")
    print(f"  load average at the start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print(f"  single process: {single['total']:.1f} s (read+schedules {single['read']:.1f} s), "
          f"{single['cpu_s']:.1f} CPU s, peak {single['tree_peak_mb']:.0f} MB, "
          f"{single['rows']:,.0f} rows")  # fmt: skip
    for master in args.masters:
        m = med[master]
        print(f"  spark {master}: {m['total']:.1f} s (+{m['start']:.1f} s session start), "
              f"{m['total'] / single['total']:.2f}x single; check {m['check']:.1f} s, "
              f"account_status {m['account_status']:.1f} s; {m['cpu_s']:.1f} CPU s "
              f"({m['cpu_s'] / single['cpu_s']:.2f}x single); peak JVM+workers "
              f"{m['tree_peak_mb']:.0f} MB; {m['partitions']:.0f} partitions")  # fmt: skip
    one = med[args.masters[0]]
    per_account_us = 1e6 * one["total"] / n
    overhead_us = 1e6 * (one["total"] - single["total"]) / n
    overhead_cpu_us = 1e6 * (one["cpu_s"] - single["cpu_s"]) / n
    print(f"  Spark cost per account on one core: {per_account_us:.0f} µs "
          f"(overhead vs one process: {overhead_us:+.0f} µs per account of wall time, "
          f"{overhead_cpu_us:+.0f} µs of CPU)")  # fmt: skip
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
