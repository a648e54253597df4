"""Customer search — the one search behind the API (`GET /api/customers`) and the workbench.

A role that sees a field masked must not be able to search on its hidden part: a search that
matches the hidden digits of a mobile tells them one at a time (a suffix search recovered a
full mobile in 13 tries), an exact match tells which candidate ID number is right. So:
- customer id (prefix) and name (any part) match as typed: no role sees them masked;
- mobile and ID number match only on the characters the caller's mask shows — the last
  digits (`masking.visible_ends`: 4 of a mobile, 4 of an ID number, 2 for collectors), and
  only where the value is long enough to be shown with them;
- a full mobile or ID number is not a search (`FullIdentifierQuery`): finding who holds one is
  a reveal (`lookup`: `customer.reveal`, a reason, an audit entry);
- results are ordered by customer id, never by a masked field (an order leaks the values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from postloan.access.masking import mask_customer, visible_ends
from postloan.access.permissions import Action
from postloan.access.reveal import reveal_lookup
from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.policy import Policy
from postloan.store.schema import customers

SUMMARY_COLUMNS = ("customer_id", "name", "id_type", "id_number", "phone", "branch_id")

Identifier = Literal["phone", "id_number"]
_SEPARATORS = re.compile(r"[\s\-]")
_FULL_MOBILE = re.compile(r"1[3-9][0-9]{9}|\+[1-9][0-9]{7,14}")
_FULL_ID = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")


def identifier_kind(text: str) -> Identifier | None:
    """ "phone" or "id_number" when `text` is shaped like a whole mobile or PRC ID number
    (spaces and dashes ignored), else None."""
    compact = _SEPARATORS.sub("", text).upper()
    if _FULL_ID.fullmatch(compact):
        return "id_number"
    if _FULL_MOBILE.fullmatch(compact):
        return "phone"
    return None


def compact_identifier(text: str) -> str:
    """The identifier as stored: without spaces or dashes (ID numbers upper-cased later)."""
    return _SEPARATORS.sub("", text)


class FullIdentifierQuery(ValueError):
    """The search text is a whole mobile or ID number: looking it up is a reveal."""

    def __init__(self, field: Identifier) -> None:
        self.field = field
        label = "mobile" if field == "phone" else "ID number"
        super().__init__(
            f"q: a full {label} is not searched — finding who holds one is a reveal"
            " (permission customer.reveal, a reason, an audit entry)"
        )


@dataclass
class SearchPage:
    items: list[dict[str, Any]]  # masked for the caller's role
    total: int


def _visible_tail_match(field: str, text: str, user: User) -> ColumnElement[bool] | None:
    """`field` ends with `text`, when `text` lies within the tail the user's mask shows."""
    ends = visible_ends(field, user.role)
    if ends is None:
        return None
    head, tail = ends
    if len(text) > tail:
        return None
    column = customers.c[field]
    value = text.upper() if field == "id_number" else text
    # Shorter values are masked whole (all `*`): nothing of them is visible.
    return and_(func.length(column) > head + tail, column.endswith(value, autoescape=True))


def _matches(text: str, user: User) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [
        customers.c.customer_id.startswith(text, autoescape=True),
        customers.c.name.contains(text, autoescape=True),
    ]
    for field in ("phone", "id_number"):
        part = _visible_tail_match(field, text, user)
        if part is not None:
            parts.append(part)
    return or_(*parts)


def search(
    conn: Connection,
    user: User,
    text: str | None,
    *,
    branch: str | None = None,
    limit: int = 20,
    offset: int = 0,
    count: bool = True,
) -> SearchPage:
    """Customers in the user's search scope matching `text` (module doc), masked for the
    user's role, ordered by customer id. Raises `FullIdentifierQuery` for a whole mobile or
    ID number. `count=False` skips counting (`total` is then the rows returned)."""
    where = [customer_scope_clause(user, Action.CUSTOMER_SEARCH)]
    query = (text or "").strip()
    if query:
        kind = identifier_kind(query)
        if kind is not None:
            raise FullIdentifierQuery(kind)
        where.append(_matches(query, user))
    if branch:
        where.append(customers.c.branch_id == branch)
    clause = and_(*where)
    rows = conn.execute(
        select(*[customers.c[name] for name in SUMMARY_COLUMNS])
        .where(clause)
        .order_by(customers.c.customer_id)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [mask_customer(dict(row._mapping), user.role) for row in rows]
    if not count:
        return SearchPage(items, len(items))
    total = conn.execute(select(func.count()).select_from(customers).where(clause)).scalar_one()
    return SearchPage(items, int(total))


def lookup(
    conn: Connection,
    user: User,
    identifier: str,
    reason: str,
    now: datetime,
    *,
    policy: Policy | None = None,
) -> SearchPage:
    """The customers holding a full mobile or ID number — a reveal (`reveal_lookup`: the
    permission, the policy's reason minimum, one audit entry), listed masked like a search.
    `ValueError` when `identifier` is not a whole mobile or ID number."""
    kind = identifier_kind(identifier)
    if kind is None:
        raise ValueError("identifier: a whole mobile (11 digits) or ID number (18 characters)")
    ids = reveal_lookup(
        conn, user, kind, compact_identifier(identifier), reason, now, policy=policy
    )
    if not ids:
        return SearchPage([], 0)
    rows = conn.execute(
        select(*[customers.c[name] for name in SUMMARY_COLUMNS])
        .where(customers.c.customer_id.in_(ids))
        .order_by(customers.c.customer_id)
    ).all()
    return SearchPage([mask_customer(dict(row._mapping), user.role) for row in rows], len(rows))
