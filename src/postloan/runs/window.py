"""Which as-of dates a run may be asked for (`policy.security.run_dates`).

A run stores status under its date, and everything after reads the latest stored date: one
far-future date (9999-12-31) once made every later run, the 360° view and agreements fail.
So a run's dates must lie in a window, checked before anything is written:

- not after today + `max_days_ahead` (today is the server's local date);
- not before the earliest disbursement or card opening in the store minus
  `max_days_before_first_disbursement`.

On a store without loans or cards only the upper bound applies: such a run stores no rows, so
no date can be poisoned, and there is no first disbursement to measure from.

The bounds are clamped to the calendar's range, so a policy with a huge allowance cannot make
the check itself overflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, func, select, union_all

from postloan.policy import Policy
from postloan.store.schema import cards, loans
from postloan.store.values import stored_date


class RunDateError(ValueError):
    """A run date outside the window; `field` names the input (as_of, from, to)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RunWindow:
    earliest: date | None  # None: the store has no loans or cards yet
    latest: date
    first_opened: date | None


def _shift(day: date, days: int) -> date:
    """`day` + `days`, clamped to the calendar (date.min .. date.max)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def first_opened(conn: Connection) -> date | None:
    """The earliest disbursement or card opening in the store."""
    both = union_all(
        select(func.min(loans.c.disbursement_date).label("d")),
        select(func.min(cards.c.open_date).label("d")),
    ).subquery()
    value = conn.execute(select(func.min(both.c.d))).scalar()
    return None if value is None else stored_date(value)


def run_window(conn: Connection, policy: Policy, today: date) -> RunWindow:
    rules = policy.security.run_dates
    opened = first_opened(conn)
    earliest = None if opened is None else _shift(opened, -rules.max_days_before_first_disbursement)
    return RunWindow(earliest, _shift(today, rules.max_days_ahead), opened)


def upper_window(policy: Policy, today: date | None = None) -> RunWindow:
    """The window's upper bound alone (before a store has loans to measure the lower from)."""
    return RunWindow(None, _shift(today or date.today(), policy.security.run_dates.max_days_ahead),
                     None)  # fmt: skip


def check_dates(window: RunWindow, first: date, last: date, fields: tuple[str, str]) -> None:
    """Refuse a run of `first`..`last` outside the window; `fields` name the inputs that gave
    the first and the last date (("as_of", "as_of") for one date, ("from", "to") for a range)."""
    if last > window.latest:
        raise RunDateError(
            fields[1],
            f"{last.isoformat()} is after {window.latest.isoformat()}, the latest date a run may "
            f"have (today + security.run_dates.max_days_ahead)",
        )
    if window.earliest is not None and first < window.earliest:
        assert window.first_opened is not None
        raise RunDateError(
            fields[0],
            f"{first.isoformat()} is before {window.earliest.isoformat()}, the earliest date a "
            f"run may have (the first disbursement or card opening, "
            f"{window.first_opened.isoformat()}, less "
            f"security.run_dates.max_days_before_first_disbursement)",
        )


def check_run_dates(
    conn: Connection,
    first: date,
    last: date,
    policy: Policy,
    fields: tuple[str, str] = ("as_of", "as_of"),
    today: date | None = None,
) -> None:
    """`check_dates` against the store's window as of `today` (default: the local date)."""
    check_dates(run_window(conn, policy, today or date.today()), first, last, fields)
