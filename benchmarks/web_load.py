"""Load test of the customer 360° view with a real HTTP load tool (wrk).

    ./dev bench-web [--customers 71500] [--connections 50] [--seconds 30] [--threads 2]
                    [--working-set 5000] [--repeat 3]

Builds the demo store (about 100k accounts for 71,500 customers; reused if present), serves the
app with uvicorn in its own process on 127.0.0.1, logs in as the head-office manager, and lets
wrk request GET /api/customers/{id} with N concurrent connections, in these scenarios:

- cold: every request a different customer (all customers, shuffled) — each view is computed,
  the view cache never hits;
- working set: a rotating list of `--working-set` customers (a team's queues) — after the
  first round views come from the cache until the data changes;
- page cold: the workbench's 360° page (GET /customers/{id}, HTML) for customers not seen
  before.

A Lua script makes wrk print the p50/p95/p99 latencies. Needs `wrk` (`./dev bench-web`
installs the Debian package); traffic stays on the loopback address.

Each run also reports the 1-minute load average when it ended (the machine is shared: other
processes' load shows up in the latencies) and the server workers' CPU time per request
(user + system, from /proc) — a figure much less sensitive to that noise than the latencies.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.serving import served

OUT = Path(__file__).parent / "out"

LUA = """
local ids = {}
for line in io.lines(os.getenv("POSTLOAN_IDS")) do ids[#ids + 1] = line end
local prefix = os.getenv("POSTLOAN_PREFIX")
local headers = {[os.getenv("POSTLOAN_HEADER")] = os.getenv("POSTLOAN_CREDENTIAL")}
local i = 0
request = function()
  i = i + 1
  local id = ids[(i % #ids) + 1]
  return wrk.format("GET", prefix .. id, headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d p50_ms=%.1f p95_ms=%.1f "
    .. "p99_ms=%.1f max_ms=%.1f rps=%.1f\\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
"""


@dataclass(frozen=True)
class Target:
    """What wrk requests: a path prefix (+ customer id) and the credential header."""

    name: str
    prefix: str
    header: str
    credential: str


def _login(base: str) -> tuple[str, str]:
    """(API bearer token, session cookie) of the head-office manager."""
    body = json.dumps({"username": "manager", "password": "demo-manager-2026"}).encode()
    req = urllib.request.Request(
        f"{base}/api/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        token = json.loads(resp.read())["token"]
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    return token, cookie


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (Linux /proc), in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _workers(server_pid: int) -> list[int]:
    """The uvicorn supervisor's worker processes."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


def _wrk(args: argparse.Namespace, base: str, env: dict[str, str], target: Target,
         ids: list[str], workers: list[int]) -> str:  # fmt: skip
    cpu_before = _cpu_seconds(workers)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ids.txt").write_text("\n".join(ids) + "\n")
        (Path(tmp) / "load.lua").write_text(LUA)
        result = subprocess.run(
            ["wrk", "-t", str(args.threads), "-c", str(args.connections),
             "-d", f"{args.seconds}s", "--timeout", "10s", "-s", str(Path(tmp) / "load.lua"),
             base],
            env={**env, "POSTLOAN_IDS": str(Path(tmp) / "ids.txt"), "POSTLOAN_PREFIX":
                 target.prefix, "POSTLOAN_HEADER": target.header,
                 "POSTLOAN_CREDENTIAL": target.credential},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))[7:]
    requests = _fields(line)["requests"]
    cpu_ms = 1000 * (_cpu_seconds(workers) - cpu_before) / requests if requests else 0.0
    return f"{line} cpu_ms_per_request={cpu_ms:.2f} load1={os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=71_500)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--working-set", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario (median)")
    args = parser.parse_args()

    data = OUT / f"web-{args.customers}"
    # Several server workers must share the CSRF/session signing secret.
    env = {
        **os.environ,
        "POSTLOAN_DATA_DIR": str(data),
        "POSTLOAN_WEB_SECRET": os.urandom(16).hex(),
    }
    env.pop("POSTLOAN_DATABASE_URL", None)
    if not (data / "postloan.sqlite").exists():
        subprocess.run(
            [sys.executable, "-m", "postloan", "demo", "--customers", str(args.customers),
             "--days", "30", "--no-serve"],
            env=env, check=True,
        )  # fmt: skip
    import sqlite3

    db = sqlite3.connect(data / "postloan.sqlite")
    everyone = [r[0] for r in db.execute("SELECT customer_id FROM customers ORDER BY random()")]
    db.close()
    working_set, cold = everyone[: args.working_set], everyone[args.working_set :]
    half = len(cold) // 2
    scenarios = (
        ("api", "cold", cold[:half]),
        ("api", "working set", working_set),
        ("page", "cold", cold[half:]),
    )
    results: dict[int, list[dict[str, float]]] = {n: [] for n in range(len(scenarios))}
    for rep in range(args.repeat):
        # A fresh server for every repetition: no view cached from the one before; the cold
        # lists continue where the last repetition stopped, so no customer is seen twice.
        with _server(args, env) as (base, token, cookie, workers):
            targets = {
                "api": Target("GET /api/customers/{id}", "/api/customers/", "Authorization",
                              f"Bearer {token}"),
                "page": Target("GET /customers/{id} (workbench page)", "/customers/", "Cookie",
                               cookie),
            }  # fmt: skip
            for n, (kind, name, ids) in enumerate(scenarios):
                if name == "cold":
                    shift = rep * len(ids) // args.repeat
                    ids = ids[shift:] + ids[:shift]
                line = _wrk(args, base, env, targets[kind], ids, workers)
                results[n].append(_fields(line))
                print(f"  run {rep + 1} {kind} {name}: {line}", flush=True)
    for n, (kind, name, ids) in enumerate(scenarios):
        runs = results[n]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        what = "GET /api/customers/{id}" if kind == "api" else "GET /customers/{id} (page)"
        print(
            f"{what} 360° {name} ({len(ids):,} customers), "
            f"{args.connections} connections, {args.seconds} s, {args.workers} server workers, "
            f"median of {len(runs)}: p50 {med['p50_ms']:.1f} ms, p95 {med['p95_ms']:.1f} ms, "
            f"p99 {med['p99_ms']:.1f} ms, {med['rps']:.0f} requests/s, "
            f"errors {med['errors']:.0f}, non-2xx {med['non2xx']:.0f}, "
            f"server CPU {med['cpu_ms_per_request']:.2f} ms/request, "
            f"load average {med['load1']:.2f}",
            flush=True,
        )


def _fields(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


@contextmanager
def _server(
    args: argparse.Namespace, env: dict[str, str]
) -> Iterator[tuple[str, str, str, list[int]]]:
    with served(env, workers=args.workers, ready_path="/openapi.json", wait_s=60) as (base, server):
        yield base, *_login(base), _workers(server.pid)


if __name__ == "__main__":
    main()
