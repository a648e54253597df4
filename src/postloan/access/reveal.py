"""Reveal one full personal value: permission, scope and a reason; always audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from postloan.access import audit
from postloan.access.errors import PermissionDenied, ReasonRequired
from postloan.access.permissions import Action, can
from postloan.access.scope import can_see_customer
from postloan.access.users import User
from postloan.store.schema import customers

REVEALABLE_FIELDS = ("id_number", "phone", "address")
MIN_REASON_LENGTH = 5


def reveal(
    conn: Connection,
    user: User,
    customer_id: str,
    field: str,
    reason: str,
    now: datetime,
) -> str | None:
    """The full value of `field` for the customer, with an audit entry ("customer.reveal",
    detail {field, reason}). Raises `PermissionDenied` (role, scope or unknown customer —
    not told apart) or `ReasonRequired`; `ValueError` for a field that cannot be revealed."""
    if field not in REVEALABLE_FIELDS:
        raise ValueError(f"field {field!r} cannot be revealed; one of {REVEALABLE_FIELDS}")
    if not user.active or not can(user.role, Action.CUSTOMER_REVEAL):
        raise PermissionDenied(f"role {user.role} may not reveal personal data")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise ReasonRequired(f"state a reason (at least {MIN_REASON_LENGTH} characters)")
    if not can_see_customer(conn, user, customer_id, Action.CUSTOMER_REVEAL):
        raise PermissionDenied(f"customer {customer_id!r} is outside {user.username}'s scope")
    value = conn.execute(
        select(customers.c[field]).where(customers.c.customer_id == customer_id)
    ).scalar_one()
    audit.record(
        conn,
        actor=user.username,
        action="customer.reveal",
        target_type="customer",
        target_id=customer_id,
        detail={"field": field, "reason": reason},
        now=now,
    )
    return None if value is None else str(value)
