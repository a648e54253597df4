"""Money at the edges: decimal strings <-> integer minor units (分), half-up rounding.

Inside the engine every amount is an integer number of minor units, so sums are exact and
vectorised arithmetic never meets a float. `Decimal` is used only where the contract asks for
exact decimal arithmetic (schedules) and where amounts enter or leave the system.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

# Annual rates are held inside the engine as integers in units of 1e-8 (0.0435 -> 4_350_000),
# so the monthly interest O*r/12 can be computed exactly in integers. Rates with more than
# eight decimals are refused at the edge rather than silently rounded.
RATE_SCALE = 100_000_000


class MoneyFormatError(ValueError):
    """An amount or rate that does not follow the data contract."""


def round_half_up(value: Decimal) -> Decimal:
    """Round to the minor unit, half away from zero (the contract's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str | Decimal | int) -> int:
    """Parse a contract amount ("1234.5", "1234.50", 1234) into minor units; at most 2 decimals."""
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise MoneyFormatError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite():
        raise MoneyFormatError(f"not a finite amount: {text!r}")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise MoneyFormatError(f"more than 2 decimals: {text!r}")
    return int(cents)


def parse_rate(text: str | Decimal | float) -> int:
    """Parse an annual rate ("0.0435") into integer units of 1e-8; at most 8 decimals."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise MoneyFormatError(f"not a decimal rate: {text!r}") from exc
    if not value.is_finite():
        raise MoneyFormatError(f"not a finite rate: {text!r}")
    scaled = value * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise MoneyFormatError(f"more than 8 decimals: {text!r}")
    return int(scaled)


def to_decimal(cents: int) -> Decimal:
    """Minor units back to a 2-decimal `Decimal`."""
    return (Decimal(cents) / 100).quantize(CENT)


def format_amount(cents: int) -> str:
    """Minor units as the contract writes amounts: exactly 2 decimals, no grouping."""
    if cents >= 0:  # the common case, kept short: the 360° view formats hundreds per request
        return f"{cents // 100}.{cents % 100:02d}"
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    return f"{sign}{whole}.{frac:02d}"


def rate_to_decimal(rate_units: int) -> Decimal:
    return Decimal(rate_units) / RATE_SCALE
