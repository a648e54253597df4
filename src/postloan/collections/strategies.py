"""Strategies (OD-9): a treatment strategy per case from the policy, with a random holdout
(champion/challenger).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from postloan.policy import Policy


def assign_strategies(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`). Not built yet."""
