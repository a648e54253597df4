"""Weekly contact floors (OD-5) as scheduled contact tasks."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from postloan.policy import Policy


def schedule_contact_tasks(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`). Not built yet."""
