"""The as-of portfolio engine (贷后状态引擎): account status on business date D, vectorised.

Public entry points (all pure: frames in, frames out, no clock, no I/O):

- `account_status(portfolio, as_of, policy)` -> one row per account opened on or before D and not
  closed on D, columns `frames.ACCOUNT_STATUS` (amounts in minor units).
- `account_status_history(portfolio, dates, policy)` -> the same for every date of `dates`
  (multi-date mode), in one pass.
- `instalment_status(portfolio, as_of, policy)` -> one row per loan instalment: covered amounts,
  completion date, days late.
- `statement_status(portfolio, as_of, policy)` -> one row per card statement: minimum covered,
  completion date, days late, paid in full.
"""

from postloan.engine.api import (
    account_status,
    account_status_history,
    instalment_status,
    statement_status,
)
from postloan.engine.frames import Portfolio

__all__ = [
    "Portfolio",
    "account_status",
    "account_status_history",
    "instalment_status",
    "statement_status",
]
