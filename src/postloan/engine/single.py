"""One account's schedule state as of D, in plain Python — for the customer 360° view.

The portfolio engine (`engine.api`) is built for a million accounts at once; for the three or
four accounts of one customer its fixed cost (frames, sorts, joins: ~20 ms) dwarfs the work. This
module walks one account's instalments or statements directly (a few hundred integer operations)
and answers exactly what `instalment_status` / `statement_status` answer for that account —
property-tested equal to them (tests/test_engine_single.py). The rules are the engine's, stated
once more in loops:

- a payment counts as of D when dated on or before D and not reversed on or before D (a payment
  reversed on or before its own value date never counts);
- loans: payments fill one queue — each instalment's interest then principal (or principal
  first), in (due_date, period) order; an instalment is settled on the first day the cumulative
  paid comes within the materiality threshold of its end in the queue; an instalment with
  nothing owed (or nothing owed beyond the threshold) is settled on its due date;
- cards: a day's payments cover the unpaid minimums of statements issued by that day, oldest
  first; the excess is not carried to later minimums, so the minimums covered form the capped
  running sum `covered = min(issued, covered + paid that day)`.

Amounts are integer minor units throughout.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate


@dataclass(frozen=True)
class PaymentRow:
    payment_id: str
    value_date: date
    amount: int
    reverses_payment_id: str | None = None


@dataclass(frozen=True)
class InstalmentDue:
    period: int
    due_date: date
    principal_due: int
    interest_due: int


@dataclass(frozen=True)
class StatementDue:
    statement_date: date
    due_date: date
    statement_balance: int
    minimum_due: int


def counted_curve(payments: Iterable[PaymentRow], as_of: date) -> list[tuple[date, int]]:
    """(day, cumulative paid by the end of that day) for the payments that count as of D."""
    rows = list(payments)
    reversed_on: dict[str, date] = {}
    for p in rows:
        if p.reverses_payment_id is not None:
            seen = reversed_on.get(p.reverses_payment_id)
            if seen is None or p.value_date < seen:
                reversed_on[p.reverses_payment_id] = p.value_date
    per_day: dict[date, int] = {}
    for p in rows:
        if p.reverses_payment_id is not None or p.value_date > as_of:
            continue
        undone = reversed_on.get(p.payment_id)
        if undone is not None and (undone <= p.value_date or undone <= as_of):
            continue
        per_day[p.value_date] = per_day.get(p.value_date, 0) + p.amount
    days = sorted(per_day)
    return list(zip(days, accumulate(per_day[d] for d in days), strict=True))


def _first_day_reaching(curve: Sequence[tuple[date, int]], need: int) -> date | None:
    """The first day the non-decreasing running total reached `need` (None if never)."""
    for day, total in curve:
        if total >= need:
            return day
    return None


def _days_late(settled: date | None, due: date, as_of: date) -> int:
    if settled is not None and settled <= as_of:
        late = (settled - due).days
    elif due < as_of:
        late = (as_of - due).days
    else:
        late = 0
    return max(late, 0)


def _settled(need: int, owed: int, due: date, curve: Sequence[tuple[date, int]]) -> date | None:
    if owed == 0 or need <= 0:
        return due
    return _first_day_reaching(curve, need)


def instalment_states(
    instalments: Sequence[InstalmentDue],
    payments: Iterable[PaymentRow],
    as_of: date,
    *,
    threshold: int = 0,
    principal_first: bool = False,
) -> list[dict[str, object]]:
    """Per instalment, ordered by period: covered amounts, completion date, days late, paid late
    — the columns of `instalment_status` for one loan."""
    curve = counted_curve(payments, as_of)
    paid = curve[-1][1] if curve else 0
    out: list[dict[str, object]] = []
    end = 0
    for inst in sorted(instalments, key=lambda i: (i.due_date, i.period)):
        amount = inst.principal_due + inst.interest_due
        start = end
        end += amount
        if principal_first:
            principal_start, interest_start = start, start + inst.principal_due
        else:
            interest_start, principal_start = start, start + inst.interest_due
        settled = _settled(end - threshold, amount, inst.due_date, curve)
        completed = settled if not threshold else _settled(end, amount, inst.due_date, curve)
        late = settled is None or settled > inst.due_date
        out.append(
            {
                "period": inst.period,
                "due_date": inst.due_date,
                "principal_due": inst.principal_due,
                "interest_due": inst.interest_due,
                "covered_principal": min(max(paid - principal_start, 0), inst.principal_due),
                "covered_interest": min(max(paid - interest_start, 0), inst.interest_due),
                "completion_date": completed if completed and completed <= as_of else None,
                "days_late": _days_late(settled, inst.due_date, as_of),
                "paid_late": late and inst.due_date < as_of,
            }
        )
    out.sort(key=lambda r: r["period"])  # type: ignore[arg-type, return-value]
    return out


def _paid_by(curve: Sequence[tuple[date, int]], day: date) -> int:
    total = 0
    for d, running in curve:
        if d > day:
            break
        total = running
    return total


def statement_states(
    statements: Sequence[StatementDue],
    payments: Iterable[PaymentRow],
    as_of: date,
    *,
    threshold: int = 0,
) -> list[dict[str, object]]:
    """Per statement, ordered by (statement_date, due_date): minimum covered, completion date,
    days late, paid late, paid in full — the columns of `statement_status` for one card."""
    curve = counted_curve(payments, as_of)
    ordered = sorted(statements, key=lambda s: (s.statement_date, s.due_date))
    cum_minimum = list(accumulate(s.minimum_due for s in ordered))

    # Minimums covered by the end of each payment day: min(issued, covered before + that day).
    covered_curve: list[tuple[date, int]] = []
    covered = previous_paid = 0
    for day, running in curve:
        issued = 0
        for s, cum in zip(ordered, cum_minimum, strict=True):
            if s.statement_date > day:
                break
            issued = cum
        covered = min(issued, covered + running - previous_paid)
        previous_paid = running
        covered_curve.append((day, covered))
    covered_now = covered_curve[-1][1] if covered_curve else 0

    out: list[dict[str, object]] = []
    for s, cum in zip(ordered, cum_minimum, strict=True):
        settled = _settled(cum - threshold, s.minimum_due, s.due_date, covered_curve)
        completed = (
            settled if not threshold else _settled(cum, s.minimum_due, s.due_date, covered_curve)
        )
        late = settled is None or settled > s.due_date
        window = _paid_by(curve, min(s.due_date, as_of)) - _paid_by(
            curve, s.statement_date - timedelta(days=1)
        )
        out.append(
            {
                "statement_date": s.statement_date,
                "due_date": s.due_date,
                "statement_balance": s.statement_balance,
                "minimum_due": s.minimum_due,
                "minimum_covered": min(max(covered_now - (cum - s.minimum_due), 0), s.minimum_due),
                "completion_date": completed if completed and completed <= as_of else None,
                "days_late": _days_late(settled, s.due_date, as_of),
                "paid_late": late and s.due_date < as_of,
                "paid_in_full": window >= s.statement_balance,
            }
        )
    return out
