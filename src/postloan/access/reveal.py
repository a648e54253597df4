"""Reveal full personal values: permission, scope and a meaningful reason; always audited.

Two ways to see a full value, both one audit entry "customer.reveal":
- `reveal`: one field of one customer (id_number, phone, address, or an imported extra column
  `extra.<column>`);
- `reveal_lookup`: the customers whose full mobile or ID number is the one given — a search by
  a full identifier tells who holds it, which is as much a disclosure as showing it.
The reason must meet the policy's minimum (`security.reveal`): an auditor reads it later.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select

from postloan.access import audit
from postloan.access.errors import PermissionDenied, ReasonRequired
from postloan.access.masking import mask_id_number, mask_mobile, parse_extra
from postloan.access.permissions import Action, can
from postloan.access.scope import can_see_customer, customer_scope_clause
from postloan.access.users import User
from postloan.policy import Policy, current_policy
from postloan.policy.security import Reveal
from postloan.store.schema import customers

REVEALABLE_FIELDS = ("id_number", "phone", "address")
EXTRA_PREFIX = "extra."  # `extra.<column>`: one imported extra attribute of the customer
LOOKUP_FIELDS = ("phone", "id_number")
LOOKUP_LIMIT = 50  # customers listed for one identifier (a shared family phone, at most)
MAX_REASON_CHARS = 500
# The minimum of a case reassignment's reason (collections.allocation); a reveal's reason
# follows the policy instead (`check_reason`).
MIN_REASON_LENGTH = 5


def is_revealable(field: str) -> bool:
    return field in REVEALABLE_FIELDS or (
        field.startswith(EXTRA_PREFIX) and len(field) > len(EXTRA_PREFIX)
    )


def reason_units(text: str) -> int:
    """The reason's length with a wide (CJK) character counting two: four Chinese characters
    say about as much as eight Latin letters."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def reason_rule(rules: Reveal) -> str:
    return (
        f"reason: state why the full value is needed — at least {rules.min_reason_chars}"
        f" characters (a Chinese character counts as two) and {rules.min_distinct_chars}"
        " different characters"
    )


def check_reason(reason: str | None, rules: Reveal) -> str:
    """The reason, whitespace-normalised, when it meets the policy's minimum; else
    `ReasonRequired` naming `reason` and the minimum."""
    text = " ".join((reason or "").split())
    distinct = {ch.casefold() for ch in text if not ch.isspace()}
    if (
        reason_units(text) < rules.min_reason_chars
        or len(distinct) < rules.min_distinct_chars
        or len(text) > MAX_REASON_CHARS
    ):
        too_long = len(text) > MAX_REASON_CHARS
        raise ReasonRequired(
            f"reason: at most {MAX_REASON_CHARS} characters" if too_long else reason_rule(rules)
        )
    return text


def _may_reveal(user: User, reason: str | None, policy: Policy | None) -> str:
    """The checks every reveal makes first: the role, then the reason."""
    if not user.active or not can(user.role, Action.CUSTOMER_REVEAL):
        raise PermissionDenied(f"role {user.role} may not reveal personal data")
    return check_reason(reason, (policy or current_policy()).security.reveal)


def reveal(
    conn: Connection,
    user: User,
    customer_id: str,
    field: str,
    reason: str,
    now: datetime,
    *,
    policy: Policy | None = None,
) -> str | None:
    """The full value of `field` for the customer, with an audit entry ("customer.reveal",
    detail {field, reason}). Raises `PermissionDenied` (role, scope or unknown customer —
    not told apart) or `ReasonRequired` (the policy's minimum; `policy` defaults to the policy
    in force); `ValueError` for a field that cannot be revealed or an extra column the customer
    does not have."""
    if not is_revealable(field):
        raise ValueError(
            f"field {field!r} cannot be revealed; one of {', '.join(REVEALABLE_FIELDS)} or"
            f" {EXTRA_PREFIX}<column>"
        )
    reason = _may_reveal(user, reason, policy)
    if not can_see_customer(conn, user, customer_id, Action.CUSTOMER_REVEAL):
        raise PermissionDenied(f"customer {customer_id!r} is outside {user.username}'s scope")
    column = "extra" if field.startswith(EXTRA_PREFIX) else field
    value = conn.execute(
        select(customers.c[column]).where(customers.c.customer_id == customer_id)
    ).scalar_one()
    if column == "extra":
        attributes = parse_extra(value) or {}
        name = field[len(EXTRA_PREFIX) :]
        if name not in attributes:
            raise ValueError(f"field: the customer has no attribute {name!r}")
        value = attributes[name]
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


def reveal_lookup(
    conn: Connection,
    user: User,
    field: Literal["phone", "id_number"],
    value: str,
    reason: str,
    now: datetime,
    *,
    policy: Policy | None = None,
) -> list[str]:
    """The customers (ids, at most `LOOKUP_LIMIT`) in the user's reveal scope whose `field`
    is exactly `value`, with one audit entry ("customer.reveal", detail {field, reason,
    lookup: the value masked, matches}) — written when nothing matches too: trying candidate
    numbers is what an auditor must see. Same refusals as `reveal`."""
    if field not in LOOKUP_FIELDS:
        raise ValueError(f"field {field!r}: look customers up by {' or '.join(LOOKUP_FIELDS)}")
    reason = _may_reveal(user, reason, policy)
    if field == "id_number":
        value = value.upper()  # stored upper-cased (the import normalises it)
    matches = list(
        conn.execute(
            select(customers.c.customer_id)
            .where(customers.c[field] == value)
            .where(customer_scope_clause(user, Action.CUSTOMER_REVEAL))
            .order_by(customers.c.customer_id)
            .limit(LOOKUP_LIMIT)
        ).scalars()
    )
    # The log names the identifier masked: an auditor can match it against the record without
    # the log becoming one more copy of the full value.
    shown = mask_mobile(value) if field == "phone" else mask_id_number(value)
    audit.record(
        conn,
        actor=user.username,
        action="customer.reveal",
        target_type="customer",
        target_id=matches[0] if len(matches) == 1 else None,
        detail={"field": field, "reason": reason, "lookup": shown, "matches": matches},
        now=now,
    )
    return matches
