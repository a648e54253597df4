"""JSON shapes shared by the routes: amounts as 2-decimal strings, dates ISO."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from postloan.money import format_amount
from postloan.store.values import as_date as as_date  # re-exported for the routes

# No NUL characters in text input: PostgreSQL text cannot hold them (and no id contains one).
NO_NUL = r"^[^\x00]*$"


def amount(value: int | None) -> str | None:
    return None if value is None else format_amount(int(value))


def iso(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def jsonable(row: Mapping[Any, Any], amounts: Iterable[str] = ()) -> dict[str, Any]:
    """A row as JSON values: the named columns as amounts, dates as ISO text."""
    money = set(amounts)
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in money:
            out[key] = amount(value)
        elif isinstance(value, date | datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


class Page(BaseModel):
    total: int = Field(description="rows matching, over all pages")
    page: int
    page_size: int
