"""The engine over stored dates under any policy, without storing anything: the read side of
the policy what-if (`postloan whatif`, `management.whatif`).

`replay_status(url, dates, policies)` loads the portfolio as a run does (`runs.load`: the
contract schedules, the areas' schedule changes — approved repayment agreements) and computes
the account status of every date under each policy the way `runs.service` stages it: the
schedules in force on each date (`ScheduleVersions`) and restructured loans classified
(`engine.restructure`), window by window. Nothing is written: the bulk connection only reads
and is rolled back, no run record is made, and the areas' `run_loader`s and steps are not
called (they would write). The frames are returned, one per policy, in the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import polars as pl

from postloan.engine.frames import ACCOUNT_STATUS
from postloan.engine.restructure import classify, restructuring_history
from postloan.engine.schedule_versions import ScheduleVersions
from postloan.policy import Policy
from postloan.runs.load import load_changes, load_contract_portfolio
from postloan.runs.service import WINDOW
from postloan.store import bulk

# (policy's position, dates done, dates in all) after each window
Progress = Callable[[int, int, int], None]
COLUMNS = (*ACCOUNT_STATUS, "restructured")


def replay_status(
    url: str,
    dates: Sequence[date],
    policies: Sequence[Policy],
    progress: Progress | None = None,
) -> list[pl.DataFrame]:
    """Each policy's account status (COLUMNS) of `dates`, computed from the stored data."""
    ordered = sorted(set(dates))
    with bulk.connect(url) as conn:
        portfolio = load_contract_portfolio(conn)
        found = load_changes(conn)
        conn.rollback()  # read only: end the read transaction, nothing to keep
    changes, agreements, dues = found.changes, found.restructurings, found.agreed_dues
    versions = ScheduleVersions(portfolio, changes)
    out: list[pl.DataFrame] = []
    for position, policy in enumerate(policies):
        history = restructuring_history(portfolio, changes, agreements, ordered, policy)
        parts = []
        for i in range(0, len(ordered), WINDOW):
            window = ordered[i : i + WINDOW]
            status = versions.status(window, policy)
            status = classify(status, agreements, dues, history, policy)
            parts.append(status.select(*COLUMNS))
            if progress:
                progress(position, i + len(window), len(ordered))
        out.append(pl.concat(parts).sort("as_of", "account_id") if parts else pl.DataFrame())
    return out
