"""What the routes share: JSON shapes (amounts as 2-decimal strings, dates ISO) and paging."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select

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


def page_of(conn: Connection, source: Any, where: Any, columns: list[Any], order: list[Any],
            page: int, page_size: int) -> list[Any]:  # fmt: skip
    """One page (1-based) of `columns` from `source` matching `where`, in `order`."""
    return list(
        conn.execute(
            select(*columns).select_from(source).where(where).order_by(*order)
            .limit(page_size).offset((page - 1) * page_size)
        ).all()
    )  # fmt: skip


def count_of(conn: Connection, source: Any, where: Any) -> int:
    """How many rows of `source` match `where` (a list's `total`, over all pages)."""
    return int(conn.execute(select(func.count()).select_from(source).where(where)).scalar_one())


class Page(BaseModel):
    total: int = Field(description="rows matching, over all pages")
    page: int
    page_size: int
