"""First paint of the management dashboard on the 100k demo (issue 16 item 7: ≤ 1 s).

    ./dev bench-paint [--customers 71500] [--runs 5] [--view overview]

Serves the demo store of `./dev bench-daily` (`benchmarks/out/daily-<customers>`, built the
same way when it is missing: `postloan demo --customers N --days 30 --no-serve`) with uvicorn
in a process of its own on 127.0.0.1, and opens `/management` as the head-office manager in
Debian's headless Chromium (`/usr/bin/chromium`, driven by Playwright as the browser tests
drive it; never a downloaded browser). Each run is a new browser context (an empty cache) that
signs in through the login form — landing on the home dashboard, which fetches ECharts as a
user's first page does — and then opens `/management` (ECharts revalidated, 304, and compiled
again); timed by the browser's own clocks, from that navigation's start:

- `ttfb`: the first byte of the page (the server's work: building the pack),
- `fcp`: first contentful paint (`performance.getEntriesByType('paint')`),
- `charts`: every chart on the page has its ECharts instance and has drawn its canvas — the
  first animation frame in which that holds.

The first run is the first dashboard the server process builds (its imports and the store's
pages cold); it is reported apart and counted in the median like the others. The page's HTML
size and the bytes it fetched are printed too: what a slower link would pay. The 1-minute load
average at the end of each run is printed beside it (the machine is shared).

Sign-ins add audit entries and sessions to the store; nothing else is written.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.portfolios import OUT
from benchmarks.serving import served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip

# True (with the time) once every chart holder has an ECharts instance with a canvas.
CHARTS_DRAWN = """() => {
  const holders = [...document.querySelectorAll('div.chart')];
  if (!holders.length || typeof echarts === 'undefined') { return false; }
  const drawn = holders.every(el => echarts.getInstanceByDom(el) && el.querySelector('canvas'));
  return drawn ? performance.now() : false;
}"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByType('paint')
    .find(p => p.name === 'first-contentful-paint');
  const fetched = performance.getEntriesByType('resource')
    .reduce((sum, r) => sum + (r.transferSize || 0), 0);
  return {ttfb: nav.responseStart, dom: nav.domContentLoadedEventEnd,
          fcp: paint ? paint.startTime : null, html: nav.transferSize, fetched: fetched,
          charts: document.querySelectorAll('div.chart').length};
}"""


@contextmanager
def _server(env: dict[str, str]) -> Iterator[str]:
    with served(env, wait_s=120) as (base, _):
        yield base


def _one(browser: Any, base: str, path: str) -> dict[str, float]:
    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 1000},
                                  locale="zh-CN")  # fmt: skip
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto("/login")
        page.fill("input[name=username]", "manager")
        page.fill("input[name=password]", "demo-manager-2026")
        page.click("button[type=submit]")
        page.wait_for_url("**/")
        page.goto(path, wait_until="commit")
        drawn = page.wait_for_function(CHARTS_DRAWN, polling="raf").json_value()
        page.wait_for_load_state("load")
        # Chromium may hand the paint entry over a frame after the load under heavy load.
        page.wait_for_function(
            "() => performance.getEntriesByName('first-contentful-paint').length > 0",
            polling="raf",
        )
        found: dict[str, float] = page.evaluate(TIMINGS)
        assert found["charts"] >= 1, "the dashboard drew no chart"
        assert page.locator("#management-figures").count() == 1, "no figures table"
        return {**found, "charts_ms": float(drawn), "load1": os.getloadavg()[0]}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=71_500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--view", default="overview", help="overview, risk, collections, "
                        "retention")  # fmt: skip
    parser.add_argument("--store", type=Path, help="a demo data dir (default: the daily "
                        "benchmark's, benchmarks/out/daily-<customers>)")  # fmt: skip
    args = parser.parse_args()
    assert shutil.which(CHROMIUM), f"{CHROMIUM} missing: apt-get install chromium"
    data = args.store or OUT / f"daily-{args.customers}"
    secret = os.urandom(16).hex()
    env = {**os.environ, "POSTLOAN_DATA_DIR": str(data), "POSTLOAN_WEB_SECRET": secret}
    env.pop("POSTLOAN_DATABASE_URL", None)
    if not (data / "postloan.sqlite").exists():
        subprocess.run(
            [sys.executable, "-m", "postloan", "demo", "--customers", str(args.customers),
             "--days", "30", "--no-serve"],
            env=env, check=True,
        )  # fmt: skip
    from playwright import sync_api

    path = f"/management?view={args.view}"
    runs = []
    with _server(env) as base, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            for n in range(args.runs):
                runs.append(_one(browser, base, path))
                r = runs[-1]
                print(
                    f"  run {n + 1}{' (first of the server)' if n == 0 else ''}: ttfb "
                    f"{r['ttfb']:.0f} ms, fcp {r['fcp']:.0f} ms, charts {r['charts_ms']:.0f} "
                    f"ms, html {r['html'] / 1024:.0f} KiB, fetched {r['fetched'] / 1024:.0f} "
                    f"KiB, load average {r['load1']:.2f}",
                    flush=True,
                )
        finally:
            browser.close()
    med = {k: statistics.median(r[k] for r in runs) for k in ("ttfb", "fcp", "charts_ms")}
    print(
        f"GET {path} on the {args.customers:,}-customer demo, median of {len(runs)} "
        f"(cold browser cache each): ttfb {med['ttfb']:.0f} ms, first contentful paint "
        f"{med['fcp']:.0f} ms, charts drawn {med['charts_ms']:.0f} ms; first run of the "
        f"server: fcp {runs[0]['fcp']:.0f} ms; load average "
        f"{statistics.median(r['load1'] for r in runs):.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
