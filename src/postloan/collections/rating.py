"""Re-rating (OD-7): each open case's risk rating from DPD, amount, capacity and credit;
asset_transfer alerts.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from postloan.policy import Policy


def rerate_cases(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`). Not built yet."""
