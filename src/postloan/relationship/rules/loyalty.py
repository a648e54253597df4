"""Loyalty points (CR-4) as pure rules: which month ends an on-time streak reads, the period
an earning counts for (its ledger key: earned at most once per period), tenure, and how many
points expire (first in, first out).

Expiry, FIFO: points are spent oldest first, so on day D the points still unspent from
earnings on or before the cutoff (D − expiry_months) are
    earned_until_cutoff − redeemed_ever − expired_so_far   (when positive),
and they expire on D. Redemptions after the cutoff count too: they used the oldest points.
"""

from __future__ import annotations

import calendar as months
from datetime import date


def month_end(day: date) -> date:
    return day.replace(day=months.monthrange(day.year, day.month)[1])


def is_month_end(day: date) -> bool:
    return day == month_end(day)


def add_months(day: date, n: int) -> date:
    """`day` moved by n months, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + n
    year, month = divmod(index, 12)
    last = months.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def last_month_ends(day: date, n: int) -> list[date]:
    """The n month ends ending at `day`'s month (oldest first)."""
    return [month_end(add_months(day.replace(day=1), -k)) for k in range(n - 1, -1, -1)]


def streak_period(day: date, every: int) -> int:
    """The block of `every` months `day` falls in: one on-time earning per block."""
    return (day.year * 12 + day.month - 1) // every


def completed_years(first: date, day: date) -> int:
    years = day.year - first.year
    if (day.month, day.day) < (first.month, first.day):
        years -= 1
    return max(0, years)


def tenure_period(first: date, day: date, every: int) -> int | None:
    """The tenure block reached on `day` (None before the first `every` years)."""
    years = completed_years(first, day)
    return years // every if years >= every else None


def expiring(earned_until_cutoff: int, redeemed: int, expired: int) -> int:
    """Points that expire now (module doc); all three are positive amounts."""
    return max(0, earned_until_cutoff - redeemed - expired)


def cutoff(day: date, expiry_months: int) -> date:
    return add_months(day, -expiry_months)
