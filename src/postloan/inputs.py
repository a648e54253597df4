"""Validated input values: what a person or a client may hand postloan as a business date, an
instant, an amount of money or a row id — one definition for the API, the workbench and the
command line.

Why bounds at all: the store and the code around it compute with these values. A date of
0001-01-01 or 9999-12-31 is a valid `date`, yet "the week before" or "the day after" it
overflows (a 500 and a traceback); an id beyond 64 bits overflows the database driver; an
amount of 92233720368547758.07 fits a BIGINT of minor units alone but no sum of two. So:

- **business dates** lie in 1900-01-01 .. 2199-12-31 (the policy's calendar years are
  1900-2200: no real loan, contact or report is outside, and thousands of years of arithmetic
  stay inside the calendar);
- **instants** (a contact's time) carry their zone and a date in the same range;
- **amounts** are plain ASCII decimals, at most 2 decimals, up to 9,999,999,999,999.99 — below
  10^15 minor units, so even ~9,000 maximal amounts sum inside a BIGINT; no exponent (`1e5`),
  sign, grouping or full-width digits (`１２３`), which `Decimal` would silently accept;
- **row ids** are 1 .. 2^31 - 1 (the store's INTEGER keys on PostgreSQL).

`parse_*` read text (forms, query strings, the command line) and raise `InputError` naming
the field; the `Annotated` types give the API the same checks through pydantic, so a bad value
is a 422 naming the field before any route code runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, PlainValidator, WithJsonSchema

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
MAX_AMOUNT = 10**15 - 1  # minor units: 9,999,999,999,999.99 (13 digits before the point)
MAX_ROW_ID = 2**31 - 1

_AMOUNT_TEXT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ROW_ID_TEXT = re.compile(r"[0-9]{1,10}")
AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"


class InputError(ValueError):
    """A value a field may not have; the message starts with the field's name."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _date_reason(value: date) -> str | None:
    if EARLIEST_DATE <= value <= LATEST_DATE:
        return None
    return (
        f"{value.isoformat()} is outside {EARLIEST_DATE.isoformat()} .. {LATEST_DATE.isoformat()}"
    )


def check_business_date(value: date, field: str = "date") -> date:
    reason = _date_reason(value)
    if reason:
        raise InputError(field, reason)
    return value


def parse_date_text(text: str, field: str = "date") -> date:
    """Any calendar date typed as YYYY-MM-DD (only to name one already stored, e.g. a bad
    run date to delete; new values use `parse_business_date`)."""
    typed = text.strip()
    try:
        value = date.fromisoformat(typed) if _DATE_TEXT.fullmatch(typed) else None
    except ValueError:
        value = None
    if value is None:
        raise InputError(field, f"a date, YYYY-MM-DD, not {text!r}")
    return value


def parse_business_date(text: str, field: str = "date") -> date:
    """A date typed as YYYY-MM-DD, within the business range."""
    return check_business_date(parse_date_text(text, field), field)


def check_instant(value: datetime, field: str = "at") -> datetime:
    """An aware datetime whose date is within the business range."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(field, "give the time zone (e.g. +08:00)")
    reason = _date_reason(value.date())
    if reason:
        raise InputError(field, reason)
    return value


def parse_amount_text(text: str, field: str = "amount") -> int:
    """An amount typed as plain decimal text ("1200", "1200.5", "1200.50") -> minor units."""
    typed = text.strip()
    if not _AMOUNT_TEXT.fullmatch(typed):
        raise InputError(
            field,
            f"{text!r} is not an amount: digits 0-9 with at most 2 decimals after a '.', "
            f"like 1200.00 (no sign, exponent or grouping)",
        )
    whole, _, cents = typed.partition(".")
    if len(whole) > 13:  # checked on the text: no huge integer is ever built from it
        raise InputError(
            field, f"{typed}: at most 13 digits before the point (largest 9999999999999.99)"
        )
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def parse_row_id(text: str) -> int | None:
    """A row id typed in a URL; None when it cannot be one (the caller answers 404)."""
    if not _ROW_ID_TEXT.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


# --- the same checks as pydantic types (API request fields, query and path parameters) -----------


def _business_date(value: date) -> date:
    reason = _date_reason(value)
    if reason:
        raise ValueError(reason)
    return value


def _instant(value: datetime) -> datetime:
    try:
        return check_instant(value)
    except InputError as exc:
        raise ValueError(exc.reason) from None


def _amount(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError('give the amount as a string, like "1200.00"')
    try:
        return parse_amount_text(value)
    except InputError as exc:
        raise ValueError(exc.reason) from None


BusinessDate = Annotated[date, AfterValidator(_business_date)]
Instant = Annotated[datetime, AfterValidator(_instant)]
# Amounts travel as strings ("1200.00"); routes receive integer minor units.
Amount = Annotated[
    int,
    PlainValidator(_amount),
    WithJsonSchema(
        {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["1200.00"],
         "description": "an amount: plain digits, at most 2 decimals, up to 9999999999999.99"}
    ),
]  # fmt: skip
RowId = Annotated[int, Interval(ge=1, le=MAX_ROW_ID)]
