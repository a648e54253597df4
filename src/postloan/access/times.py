"""Datetimes in the access tables are UTC. SQLite keeps them naive; these helpers normalise."""

from __future__ import annotations

from datetime import UTC, datetime


def to_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_db(moment: datetime | None) -> datetime | None:
    return None if moment is None else to_utc(moment)
