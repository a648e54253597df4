"""Consent per customer and purpose (PIPL: separate consent). The latest record wins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection, select

from postloan.access.errors import ConsentRequired
from postloan.access.tables import consents
from postloan.access.times import to_utc
from postloan.store.schema import customers


class Purpose(StrEnum):
    MARKETING = "marketing"
    DATA_SHARING = "data_sharing"
    PROFILING = "profiling"


def record_consent(
    conn: Connection,
    customer_id: str,
    purpose: Purpose | str,
    granted: bool,
    at: datetime,
    source: str,
) -> int:
    """Append a grant or withdrawal (never overwrite: the history is evidence)."""
    result = conn.execute(
        consents.insert().values(
            customer_id=customer_id,
            purpose=Purpose(purpose).value,
            granted=granted,
            at=to_utc(at),
            source=source,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key is not None else 0


def has_consent(conn: Connection, customer_id: str, purpose: Purpose | str) -> bool:
    """The latest record for (customer, purpose) — by `at`, then by insertion order.

    Without any record, marketing falls back to the lender's imported `consent_marketing`
    flag on the customer; other purposes default to no consent.
    """
    purpose = Purpose(purpose)
    latest = conn.execute(
        select(consents.c.granted)
        .where(consents.c.customer_id == customer_id, consents.c.purpose == purpose.value)
        .order_by(consents.c.at.desc(), consents.c.consent_id.desc())
        .limit(1)
    ).first()
    if latest is not None:
        return bool(latest.granted)
    if purpose == Purpose.MARKETING:
        imported = conn.execute(
            select(customers.c.consent_marketing).where(customers.c.customer_id == customer_id)
        ).scalar_one_or_none()
        return bool(imported)
    return False


def require_consent(conn: Connection, customer_id: str, purpose: Purpose | str) -> None:
    if not has_consent(conn, customer_id, purpose):
        raise ConsentRequired(customer_id, Purpose(purpose).value)
