"""What the legal and disposal records share: the audit entry every change writes and the
largest amount a record takes. (The latest stored date they check against is
`store.dates.latest_stored_date`.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from postloan.access import audit
from postloan.collections.rules import MAX_AMOUNT as MAX_AMOUNT


def audit_change(conn: Connection, user: str, action: str, kind: str, key: int,
                 detail: dict[str, Any], now: datetime) -> None:  # fmt: skip
    """The audit entry of a change to record `kind` `key` (a proposal, matter or disposal)."""
    audit.record(conn, actor=user, action=action, target_type=kind, target_id=str(key),
                 detail=detail, now=now)  # fmt: skip
