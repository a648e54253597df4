"""Run the engine benchmarks and print the figures the engine issue asks for.

    ./dev bench [--sizes 10000,100000,1000000] [--repeats 3] [--dates 30] [--skip-multi-above N]

Each timing runs in a fresh process (peak memory is its own); figures are medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks import portfolios, reference_ratio


def _run(path: str, mode: str, dates: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.engine_run", path, mode, str(dates)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median_run(path: str, mode: str, dates: int, repeats: int) -> dict[str, float]:
    runs = [_run(path, mode, dates) for _ in range(repeats)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    med["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    return med


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--skip-multi-above", type=int, default=10**9)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(
        f"{'accounts':>9} {'mode':>9} {'median s':>9} {'accounts/s':>11} "
        f"{'instalments/s':>14} {'rows':>10} {'peak GB':>8} {'inputs GB':>9}"
    )
    for size in sizes:
        path = str(portfolios.ensure(size))
        modes = [("single", 1)]
        if size <= args.skip_multi_above:
            modes.append(("multi", args.dates))
        for mode, n_dates in modes:
            r = _median_run(path, mode, args.dates, args.repeats)
            label = "1 date" if mode == "single" else f"{n_dates} dates"
            acc_s = r["accounts"] * n_dates / r["seconds"]
            inst_s = r["instalments"] * n_dates / r["seconds"]
            print(
                f"{int(r['accounts']):>9} {label:>9} {r['seconds']:>9.2f} {acc_s:>11,.0f} "
                f"{inst_s:>14,.0f} {int(r['rows']):>10} {r['peak_rss_gb']:>8.2f} "
                f"{r['inputs_rss_gb']:>9.2f}",
                flush=True,
            )

    smallest = min(sizes)
    ratio = reference_ratio.measure(portfolios.ensure(smallest), args.repeats)
    print(
        f"\nreference vs engine on {smallest} accounts, one date: engine "
        f"{ratio['engine_s']:.2f} s (median), reference {ratio['reference_s']:.2f} s -> "
        f"{ratio['reference_s'] / ratio['engine_s']:.0f}x"
    )


if __name__ == "__main__":
    main()
