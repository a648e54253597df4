"""One timed engine run in a fresh process, so peak memory is this run's own.

    python -m benchmarks.engine_run PORTFOLIO_DIR single|multi [DATES]
Prints one JSON line: seconds, rows, peak RSS, and the RSS after loading the inputs.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.portfolios import AS_OF, load
from postloan.engine import account_status, account_status_history


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is KiB


def main() -> None:
    path, mode = Path(sys.argv[1]), sys.argv[2]
    n_dates = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    portfolio = load(path)
    loaded_gb = _rss_gb()
    started = time.perf_counter()
    if mode == "single":
        result = account_status(portfolio, AS_OF)
    else:
        dates = [AS_OF - timedelta(days=i) for i in range(n_dates)]
        result = account_status_history(portfolio, dates)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": result.height,
                "accounts": portfolio.loans.height + portfolio.cards.height,
                "instalments": portfolio.instalments.height,
                "payments": portfolio.payments.height,
                "peak_rss_gb": _rss_gb(),
                "inputs_rss_gb": loaded_gb,
            }
        )
    )


if __name__ == "__main__":
    main()
