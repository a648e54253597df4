"""Repayment schedules (还款计划) of one loan, in exact decimal arithmetic.

This is the reference version of DATA_CONTRACT "loans"; `schedule_frame` is the vectorised one
the engine uses and must agree with it row for row. Every amount is rounded half-up to the cent
exactly once:

- `equal_installment` (等额本息): level payment A = P·r / (1 − (1 + r)^−n), or P / n when r = 0;
  interest_k = round(O·r), principal_k = A − interest_k.
- `equal_principal` (等额本金): principal_k = round(P / n), interest_k = round(O·r).
- `interest_only` (按月还息到期还本): interest_k = round(O·r), principal 0 until the last period.

r = annual_rate / 12 and O is the principal outstanding before period k. The last period's
principal is the whole remaining O. A period's principal never exceeds O: the contract's
formulas can overshoot only for loans of a few cents per period (P < about n²/200 in currency
units, where rounding P/n or A up n−1 times exceeds P); such a loan is paid off early and its
remaining instalments are zero, instead of a negative balance earning negative interest.

Interest is computed in integers: O (cents) · rate numerator / (12 · rate denominator), rounded
half-up by integer division, which is exact for any decimal rate. The level payment is computed
in a 40-digit `Decimal` context; when that value lies so close to a half cent that 40 digits
cannot decide the rounding, it is re-decided with exact rational arithmetic.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal, localcontext

from postloan.ledger.dates import add_months
from postloan.money import MoneyFormatError, parse_amount, to_decimal

EQUAL_INSTALLMENT = "equal_installment"
EQUAL_PRINCIPAL = "equal_principal"
INTEREST_ONLY = "interest_only"
METHODS = (EQUAL_INSTALLMENT, EQUAL_PRINCIPAL, INTEREST_ONLY)

_PRECISION = 40
# Relative distance from a half cent below which the 40-digit level payment is re-decided
# exactly. The 40-digit value is good to ~1e-30 relative even after the cancellation in
# 1 − (1 + r)^−n for rates of 1e-8; the margin is deliberately huge (exact checks are cheap).
_TIE_TOLERANCE = Decimal("1e-15")
_HALF = Decimal("0.5")


@dataclass(frozen=True)
class Instalment:
    """One period of a schedule; amounts in currency units with 2 decimals."""

    period: int
    due_date: date
    principal_due: Decimal
    interest_due: Decimal
    opening_principal: Decimal  # O: principal outstanding before this period


def round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator >= 0 and denominator > 0."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (2 * remainder >= denominator)


def level_payment_cents(principal_cents: int, annual_rate: Decimal, term_months: int) -> int:
    """The equal-instalment payment A in cents, rounded half-up once."""
    if annual_rate == 0:
        return round_div(principal_cents, term_months)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        r = annual_rate / 12
        value = Decimal(principal_cents) * r / (1 - (1 + r) ** -term_months)
        floor = value.to_integral_value(rounding=ROUND_FLOOR)
        distance = abs(value - floor - _HALF)
        if distance > _TIE_TOLERANCE * (value + 1):
            return int(floor) + (value - floor >= _HALF)
    return exact_level_payment_cents(principal_cents, annual_rate, term_months)


def exact_level_payment_cents(principal_cents: int, annual_rate: Decimal, term_months: int) -> int:
    """A by exact rational arithmetic, for the rare values 40 digits cannot round safely.

    With r = a / b: A = P·a·(a + b)^n / (b·((a + b)^n − b^n)).
    """
    if annual_rate == 0:
        return round_div(principal_cents, term_months)
    rate_num, rate_den = annual_rate.as_integer_ratio()
    a, b = rate_num, 12 * rate_den
    growth = (a + b) ** term_months
    numerator = principal_cents * a * growth
    denominator = b * (growth - b**term_months)
    return round_div(numerator, denominator)


def build_schedule(
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursement_date: date,
    first_due_date: date | None = None,
) -> list[Instalment]:
    """The contract schedule of one loan: `term_months` instalments, principal summing to P."""
    return [
        Instalment(
            period=period,
            due_date=due,
            principal_due=to_decimal(principal_part),
            interest_due=to_decimal(interest),
            opening_principal=to_decimal(opening),
        )
        for period, due, principal_part, interest, opening in schedule_cents(
            _principal_cents(principal), _annual_rate(annual_rate), term_months, method,
            disbursement_date, first_due_date,
        )
    ]  # fmt: skip


def schedule_cents(
    principal_cents: int,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursement_date: date,
    first_due_date: date | None = None,
) -> list[tuple[int, date, int, int, int]]:
    """`build_schedule` in minor units: (period, due_date, principal, interest, opening)."""
    if principal_cents <= 0:
        raise ValueError(f"principal: must be > 0, got {principal_cents} minor units")
    rate = _annual_rate(annual_rate)
    n = _term(term_months)
    if method not in METHODS:
        raise ValueError(
            f"repayment_method: unknown method {method!r}; expected one of {', '.join(METHODS)}"
        )
    first_due = first_due_date if first_due_date is not None else add_months(disbursement_date, 1)

    rate_num, rate_den = rate.as_integer_ratio()
    interest_den = 12 * rate_den  # interest (cents) = O (cents) · rate_num / interest_den
    level = level_payment_cents(principal_cents, rate, n) if method == EQUAL_INSTALLMENT else 0
    fixed = round_div(principal_cents, n) if method == EQUAL_PRINCIPAL else 0

    schedule: list[tuple[int, date, int, int, int]] = []
    outstanding = principal_cents
    for period in range(1, n + 1):
        interest = round_div(outstanding * rate_num, interest_den)
        if period == n:
            principal_part = outstanding
        elif method == EQUAL_INSTALLMENT:
            principal_part = level - interest
        else:
            principal_part = fixed  # round(P / n) for equal_principal, 0 for interest_only
        principal_part = min(principal_part, outstanding)
        schedule.append(
            (period, add_months(first_due, period - 1), principal_part, interest, outstanding)
        )
        outstanding -= principal_part
    return schedule


def _principal_cents(principal: Decimal | int | str) -> int:
    try:
        cents = parse_amount(principal)
    except MoneyFormatError as exc:
        raise ValueError(f"principal: {exc}") from exc
    if cents <= 0:
        raise ValueError(f"principal: must be > 0, got {principal}")
    return cents


def _annual_rate(annual_rate: Decimal | int | str) -> Decimal:
    try:
        rate = (
            annual_rate if isinstance(annual_rate, Decimal) else Decimal(str(annual_rate).strip())
        )
    except ArithmeticError as exc:
        raise ValueError(f"annual_rate: not a decimal rate: {annual_rate!r}") from exc
    if not rate.is_finite():
        raise ValueError(f"annual_rate: not a finite rate: {annual_rate!r}")
    if rate < 0:
        raise ValueError(f"annual_rate: must be >= 0, got {annual_rate}")
    return rate


def _term(term_months: int) -> int:
    if isinstance(term_months, bool):
        raise ValueError(f"term_months: must be an integer, got {term_months!r}")
    try:
        n = operator.index(term_months)
    except TypeError as exc:
        raise ValueError(f"term_months: must be an integer, got {term_months!r}") from exc
    if n < 1:
        raise ValueError(f"term_months: must be >= 1, got {term_months}")
    return n


__all__ = [
    "EQUAL_INSTALLMENT",
    "EQUAL_PRINCIPAL",
    "INTEREST_ONLY",
    "METHODS",
    "Instalment",
    "add_months",
    "build_schedule",
    "exact_level_payment_cents",
    "level_payment_cents",
    "round_div",
]
