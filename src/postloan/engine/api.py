"""Engine entry points (stubs until the implementation lands)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl

from postloan.engine.frames import Portfolio


def account_status(portfolio: Portfolio, as_of: date, policy: Any = None) -> pl.DataFrame:
    raise NotImplementedError


def account_status_history(
    portfolio: Portfolio, dates: Sequence[date], policy: Any = None
) -> pl.DataFrame:
    raise NotImplementedError


def instalment_status(portfolio: Portfolio, as_of: date, policy: Any = None) -> pl.DataFrame:
    raise NotImplementedError


def statement_status(portfolio: Portfolio, as_of: date, policy: Any = None) -> pl.DataFrame:
    raise NotImplementedError
