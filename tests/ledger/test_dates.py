"""Month arithmetic for due dates: month-end rolling, never chaining the clamp."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from postloan.ledger import add_months
from postloan.ledger.dates import add_months_vec, epoch_days


@pytest.mark.parametrize(
    ("start", "k", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: February has 29 days
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # common year
        (date(2024, 1, 31), 2, date(2024, 3, 31)),  # from the anchor, not from Feb 29
        (date(2024, 1, 31), 3, date(2024, 4, 30)),
        (date(2024, 1, 30), 1, date(2024, 2, 29)),
        (date(2024, 1, 29), 1, date(2024, 2, 29)),
        (date(2024, 1, 28), 1, date(2024, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),  # year roll-over then clamp
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 5, 15), 0, date(2024, 5, 15)),
        (date(1900, 1, 31), 1, date(1900, 2, 28)),  # 1900 is not a leap year
        (date(2000, 1, 31), 1, date(2000, 2, 29)),  # 2000 is
    ],
)
def test_add_months(start: date, k: int, expected: date) -> None:
    assert add_months(start, k) == expected


def test_add_months_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        add_months(date(9999, 12, 1), 1)


def test_vectorised_add_months_matches_scalar_for_every_day() -> None:
    # Every day of 1999-2030 (leap, common and century-rule years) shifted by 0..40 months.
    start = date(1999, 1, 1)
    days = [start + timedelta(days=i) for i in range(0, (date(2030, 12, 31) - start).days, 3)]
    epoch = np.array([epoch_days(d) for d in days], dtype=np.int64)
    for k in (0, 1, 2, 11, 13, 40):
        got = add_months_vec(epoch, k)
        expected = np.array([epoch_days(add_months(d, k)) for d in days], dtype=np.int64)
        np.testing.assert_array_equal(got, expected)
