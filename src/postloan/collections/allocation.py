"""Allocation (ORG-1): cases to collectors by branch/team and stage, balancing load; every
reassignment logged.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from postloan.policy import Policy


def allocate_cases(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`). Not built yet."""
