"""Values as the store hands them back, normalised: SQLite returns dates as text when they are
read through a cast or raw SQL, and timestamps naive (they are stored in UTC)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def as_date(value: date | datetime | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def stored_date(value: date | datetime | str | None) -> date:
    """`as_date` of a value that must be there (a NOT NULL column, an aggregate over rows)."""
    day = as_date(value)
    if day is None:
        raise ValueError("a stored date is missing")
    return day


def rows_frame(rows: Sequence[Any], schema: Mapping[str, Any]) -> pl.DataFrame:
    """Database rows as a polars frame with the given columns and types."""
    return pl.DataFrame([tuple(r) for r in rows], schema=dict(schema), orient="row")


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime (a naive one, from SQLite, is UTC already)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that stores instants in UTC on every backend and hands them back
    aware. SQLite keeps no zone: without this, an aware Beijing time would be stored as its
    wall-clock reading and read back 8 hours off. Naive values are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a timestamp must carry its time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)
