"""Working days around the 2025 National Day and the 2026 Spring Festival.

Expectations are written from the State Council's notices (国务院办公厅关于2025年、2026年部分节假日
安排的通知), not read back from the library:

- 2025 National Day + Mid-Autumn: 10-01 … 10-08 off; Sunday 09-28 and Saturday 10-11 worked.
- 2026 Spring Festival: 02-15 … 02-23 off; Saturday 02-14 and Saturday 02-28 worked.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from postloan.calendar import CalendarError, WorkingCalendar
from postloan.policy import PolicyError, default_policy, policy_from_dict

D = date
CAL = WorkingCalendar.from_policy(default_policy())

NATIONAL_DAY_2025 = {D(2025, 10, d) for d in range(1, 9)}
MAKE_UP_2025 = {D(2025, 9, 28), D(2025, 10, 11)}
SPRING_2026 = {D(2026, 2, d) for d in range(15, 24)}
MAKE_UP_2026 = {D(2026, 2, 14), D(2026, 2, 28)}


def _plain_rule(day: date, off: set[date], worked: set[date]) -> bool:
    """The obviously-correct rule for a stretch of days: listed days, else Monday-Friday."""
    if day in worked:
        return True
    if day in off:
        return False
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("start", "end", "off", "worked"),
    [
        (D(2025, 9, 20), D(2025, 10, 20), NATIONAL_DAY_2025, MAKE_UP_2025),
        (D(2026, 2, 7), D(2026, 3, 7), SPRING_2026, MAKE_UP_2026),
    ],
)
def test_every_day_around_the_holidays(
    start: date, end: date, off: set[date], worked: set[date]
) -> None:
    day = start
    while day <= end:
        assert CAL.is_working_day(day) == _plain_rule(day, off, worked), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("overdue_on", "n", "expected"),
    [
        # Due 2025-09-29 (Mon), overdue from 09-30: 1st working day after is 10-09 (Oct 1-8 off)
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # 10-09 Thu, 10-10 Fri, 10-11 Sat (make-up)
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # Fri -> the make-up Sunday, not Monday
        (D(2025, 9, 26), 3, D(2025, 9, 30)),  # 09-28 Sun, 09-29 Mon, 09-30 Tue
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # Fri -> make-up Saturday before Spring Festival
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # then nothing until Tue 02-24
        (D(2026, 2, 13), 3, D(2026, 2, 25)),
        (D(2026, 2, 27), 1, D(2026, 2, 28)),  # Fri -> make-up Saturday after it
        (D(2026, 2, 27), 2, D(2026, 3, 2)),  # Sun 03-01 off -> Mon 03-02
        (D(2025, 10, 8), 0, D(2025, 10, 9)),  # n = 0: the day itself if working, else next
        (D(2025, 10, 9), 0, D(2025, 10, 9)),
    ],
)
def test_reminder_windows(overdue_on: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(overdue_on, n) == expected


def test_working_days_between() -> None:
    # (2025-09-30, 2025-10-12]: 10-09, 10-10, 10-11 -> 3
    assert CAL.working_days_between(D(2025, 9, 30), D(2025, 10, 12)) == 3
    assert CAL.working_days_between(D(2025, 10, 12), D(2025, 9, 30)) == 0


def test_an_uncovered_year_fails_closed() -> None:
    with pytest.raises(CalendarError, match=r"no published PRC holidays for 2031.*\[calendar\]"):
        CAL.is_working_day(D(2031, 5, 6))
    with pytest.raises(CalendarError):
        CAL.add_working_days(D(2031, 5, 6), 2)


def test_policy_overrides_describe_a_new_year_and_local_exceptions() -> None:
    raw = default_policy().model_dump(mode="json")
    raw["calendar"] = {
        "years": [2031],
        "holidays": ["2031-01-01", "2025-10-10"],  # a local closure in a covered year too
        "working_days": ["2031-01-04"],  # a Saturday worked
    }
    cal = WorkingCalendar.from_policy(policy_from_dict(raw))
    assert not cal.is_working_day(D(2031, 1, 1))  # Wednesday, listed holiday
    assert cal.is_working_day(D(2031, 1, 2))  # Thursday
    assert cal.is_working_day(D(2031, 1, 4))  # Saturday, make-up
    assert not cal.is_working_day(D(2031, 1, 5))  # Sunday
    assert not cal.is_working_day(D(2025, 10, 10))  # the override beats the library
    assert cal.add_working_days(D(2025, 9, 30), 2) == D(2025, 10, 11)


def test_policy_refuses_a_day_that_is_both() -> None:
    raw = default_policy().model_dump(mode="json")
    raw["calendar"] = {"years": [], "holidays": ["2027-02-06"], "working_days": ["2027-02-06"]}
    with pytest.raises(PolicyError, match=r"calendar\.working_days.*2027-02-06"):
        policy_from_dict(raw)
