"""Legal action (OD-8, OD-10): proposals, stages, documents, costs, evidence; write-off and asset
disposal.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection

from postloan.policy import Policy


def propose_legal_action(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`). Not built yet."""
