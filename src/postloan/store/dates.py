"""The stored business dates: the one place that answers "what is the latest stored date".

A business date is stored when a run has published its account status (`account_status`);
every screen, report and rule that defaults to "the latest" asks here, so they agree.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, func, select

from postloan.store.schema import account_status
from postloan.store.values import as_date, stored_date

# The select itself, for read models that compile their queries once (views.customer360).
LATEST_STORED_DATE: Select[tuple[Any]] = select(func.max(account_status.c.as_of))


def latest_stored_date(
    conn: Connection, *, before: date | None = None, on_or_before: date | None = None
) -> date | None:
    """The latest stored business date (before / on or before a date, if given); None when
    nothing is stored (in that range)."""
    query = LATEST_STORED_DATE
    if before is not None:
        query = query.where(account_status.c.as_of < before)
    if on_or_before is not None:
        query = query.where(account_status.c.as_of <= on_or_before)
    return as_date(conn.execute(query).scalar())


def stored_dates_from(conn: Connection, first: date) -> list[date]:
    """The stored business dates from `first` on, in order."""
    query = (
        select(account_status.c.as_of)
        .where(account_status.c.as_of >= first)
        .group_by(account_status.c.as_of)
        .order_by(account_status.c.as_of)
    )
    return [stored_date(d) for d in conn.execute(query).scalars()]
