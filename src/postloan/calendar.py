"""Working days (工作日) in the People's Republic of China: public holidays and make-up working
days (调休), for reminder windows and contact schedules (OD-3, DOMAIN.md "Working days").

The State Council publishes each year's holidays and make-up days in the autumn of the year
before; `chinese-calendar` carries them (2004 up to its release's last year) and we fail closed
for any other year rather than guess from weekdays: a reminder deadline computed on a wrong
calendar is a conduct breach. The policy's `[calendar]` table adds what the library does not
know yet — a new year's days (`years`, `holidays`, `working_days`) — or local exceptions.

    cal = WorkingCalendar.from_policy(policy)
    cal.is_working_day(date(2025, 9, 28))      # True: a Sunday worked before National Day
    cal.add_working_days(date(2025, 9, 30), 1)  # 2025-10-09: Oct 1-8 are holidays
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from postloan.policy import Policy

PRC_TZ = ZoneInfo("Asia/Shanghai")  # the day a working-day rule is judged in
_MAX_SCAN = 400  # no run of non-working days is this long: a guard against a broken table


class CalendarError(ValueError):
    """A date the calendar cannot answer for (a year nobody has published days for)."""


class WorkingCalendar:
    """PRC working days with the policy's overrides layered on top."""

    def __init__(
        self,
        holidays: Iterable[date] = (),
        working_days: Iterable[date] = (),
        years: Iterable[int] = (),
    ) -> None:
        self.holidays = frozenset(holidays)
        self.working_days = frozenset(working_days)
        both = self.holidays & self.working_days
        if both:
            raise CalendarError(
                f"calendar: {min(both).isoformat()} is listed as both a holiday and a working day"
            )
        self.years = frozenset(years)  # years the overrides describe completely

    @classmethod
    def from_policy(cls, policy: Policy) -> WorkingCalendar:
        c = policy.calendar
        return cls(holidays=c.holidays, working_days=c.working_days, years=c.years)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.holidays:
            return False
        if day.year in self.years:  # a year the policy describes: weekdays unless listed
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarError(
                f"calendar: no published PRC holidays for {day.year} (date {day.isoformat()}); "
                f"add the year to the policy's [calendar] table (years, holidays, working_days) "
                f"or upgrade chinese-calendar"
            ) from None

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n >= 1); n = 0 gives `day` itself if it is a
        working day, else the next one."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        current = day
        if n == 0:
            return self._first_working_from(current)
        for _ in range(n):
            current = self._first_working_from(current + timedelta(days=1))
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: 0 when end <= start."""
        count, day = 0, start + timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def _first_working_from(self, day: date) -> date:
        current = day
        for _ in range(_MAX_SCAN):
            if self.is_working_day(current):
                return current
            current += timedelta(days=1)
        raise CalendarError(f"calendar: no working day within {_MAX_SCAN} days of {day}")
