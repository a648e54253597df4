"""An officer confirms or changes a churned customer's reason (CH-3): who, when, why —
recorded in `churn_reasons` and the audit log. Flushes, never commits.

The confirmation is for the customer's episode holding `as_of` (default: the latest churn
date): every later date of that episode reports it (`churn.read`), earlier dates keep what
they said. A customer not in the pool on that date cannot be given a reason (conflict).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert

from postloan.access import audit
from postloan.churn.read import customer_rows, latest_churn_date, pool_select
from postloan.churn.tables import churn_identified, churn_reasons
from postloan.errors import ConflictError, InvalidError
from postloan.policy.churn import REASON_CLASSES
from postloan.store.values import stored_date

MAX_NOTE = 1000


@dataclass(frozen=True)
class Confirmed:
    reason_id: int
    customer_id: str
    as_of: date
    reason: str
    suggested: str | None
    previous: str | None
    note: str
    confirmed_by: str
    confirmed_at: datetime


def confirm_reason(
    conn: Connection,
    customer_id: str,
    reason: str,
    note: str,
    actor: str,
    now: datetime,
    as_of: date | None = None,
) -> Confirmed:
    """Record `reason` for the customer's episode holding `as_of` (module doc). The caller
    has checked the customer is in its scope."""
    if reason not in REASON_CLASSES:
        raise InvalidError(f"reason: one of {', '.join(REASON_CLASSES)}", field="reason")
    text = note.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
    day = as_of or latest_churn_date(conn)
    row: Any = None
    if day is not None:
        c = churn_identified
        row = conn.execute(
            pool_select().where(c.c.customer_id == customer_id, c.c.as_of == day)
        ).first()
    if row is None:
        when = day.isoformat() if day else "any date"
        raise ConflictError(
            f"customer {customer_id} is not in the churned-customer pool on {when}",
            field="as_of" if as_of else "customer_id",
        )
    key = conn.execute(
        insert(churn_reasons).values(
            customer_id=customer_id, as_of=day, reason=reason, suggested=row.suggested_reason,
            note=text, confirmed_by=actor, confirmed_at=now,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None and day is not None
    audit.record(
        conn, actor=actor, action="churn.reason", target_type="customer", target_id=customer_id,
        detail={"as_of": day.isoformat(), "reason": reason, "previous": row.reason,
                "suggested": row.suggested_reason, "episode_from":
                stored_date(row.first_identified).isoformat(), "note": text},
        now=now,
    )  # fmt: skip
    return Confirmed(int(key[0]), customer_id, day, reason, row.suggested_reason, row.reason,
                     text, actor, now)  # fmt: skip


def history(conn: Connection, customer_id: str, limit: int = 366) -> list[Any]:
    """The customer's identification rows (newest first), for the card."""
    return customer_rows(conn, customer_id, limit)
