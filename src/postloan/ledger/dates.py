"""Monthly due dates, rolled to the month's last day (DATA_CONTRACT "loans").

Due date k is always computed from the *first* due date: first + (k-1) months, with the day
clamped to the length of the target month. Chaining the clamp (Jan 31 -> Feb 29 -> Mar 29) would
drift the due day for the rest of the loan, so nothing here ever adds months to a clamped date.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def add_months(d: date, k: int) -> date:
    """`d` plus `k` calendar months; a day the target month lacks becomes its last day."""
    month_index = d.year * 12 + (d.month - 1) + k
    year, month0 = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"due date out of range: {d.isoformat()} + {k} months")
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last_day))


def epoch_days(d: date) -> int:
    """Days since 1970-01-01 (the integer behind `pl.Date` and `datetime64[D]`)."""
    return d.toordinal() - _EPOCH_ORDINAL


def month_and_day(
    days: npt.NDArray[np.integer[Any]],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Split epoch days into (months since 1970-01, day of month 1..31), vectorised."""
    as_days = days.astype("datetime64[D]")
    months = as_days.astype("datetime64[M]")
    day_of_month = (as_days - months.astype("datetime64[D]")).astype(np.int32) + 1
    return months.astype(np.int32), day_of_month


def add_months_days(
    months: npt.NDArray[np.integer[Any]],
    day_of_month: npt.NDArray[np.integer[Any]],
    k: npt.NDArray[np.integer[Any]] | int,
) -> npt.NDArray[np.int32]:
    """Epoch days of (month `months` + `k`, day `day_of_month` clamped to that month's length).

    `months` / `day_of_month` come from `month_and_day` of the anchor date; `k` broadcasts.
    Month starts and lengths come from a small table over the months spanned, so tens of
    millions of rows cost a few int32 gathers rather than calendar conversions.
    """
    target = np.asarray(months + k).astype(np.int32)
    if target.size == 0:
        return target
    low = int(target.min())
    span = np.arange(low, int(target.max()) + 2)
    starts = span.astype("datetime64[M]").astype("datetime64[D]").astype(np.int32)
    lengths = np.diff(starts)
    target -= low
    day = np.minimum(day_of_month, lengths[target]).astype(np.int32, copy=False)
    day += starts[target]
    day -= 1
    return day


def add_months_vec(
    days: npt.NDArray[np.integer[Any]], k: npt.NDArray[np.integer[Any]] | int
) -> npt.NDArray[np.int32]:
    """Vectorised `add_months` over epoch days."""
    months, day_of_month = month_and_day(days)
    return add_months_days(months, day_of_month, k)
