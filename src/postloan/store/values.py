"""Values as the store hands them back, normalised: SQLite returns dates as text when they are
read through a cast or raw SQL, and timestamps naive (they are stored in UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime


def as_date(value: date | datetime | str | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_utc(value: datetime | str | None) -> datetime | None:
    """An aware UTC datetime (a naive one, from SQLite, is UTC already)."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
