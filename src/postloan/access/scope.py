"""Which customers a user may see: the matrix's scope as a SQL clause over `customers`, and the
one "in scope or not found" every route and page applies to a record named in a request
(`customer_in_scope`, `row_in_scope`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, false, select, true

from postloan.access.permissions import Action, Scope, scope_for
from postloan.access.tables import assignments
from postloan.access.users import User
from postloan.errors import NotFoundError
from postloan.store.schema import customers


def customer_scope_clause(
    user: User, action: Action | str = Action.CUSTOMER_VIEW
) -> ColumnElement[bool]:
    """A boolean clause over `customers` true for the customers `user` may `action`.

    all → true; branch → the user's branch (none when the user has no branch); assigned → the
    customers in `assignments` for the user; refused or disabled user → false.
    """
    scope = scope_for(user.role, action) if user.active else None
    if scope is None:
        return false()
    if scope == Scope.ALL:
        return true()
    if scope == Scope.BRANCH:
        if user.branch_id is None:
            return false()
        return customers.c.branch_id == user.branch_id
    assigned = select(assignments.c.customer_id).where(assignments.c.user_id == user.user_id)
    return customers.c.customer_id.in_(assigned)


def can_see_customer(
    conn: Connection,
    user: User,
    customer_id: str,
    action: Action | str = Action.CUSTOMER_VIEW,
) -> bool:
    """True when the customer exists and lies in the user's scope for `action`."""
    query = (
        select(customers.c.customer_id)
        .where(customers.c.customer_id == customer_id)
        .where(customer_scope_clause(user, action))
    )
    return conn.execute(query).first() is not None


# One statement per kind of scope, built once (the 360° view reads the customer this way on
# every request; building the statement cost more than running it).
_BY_ID = select(customers).where(customers.c.customer_id == bindparam("customer_id"))
_IN_SCOPE = {
    Scope.ALL: _BY_ID,
    Scope.BRANCH: _BY_ID.where(customers.c.branch_id == bindparam("branch_id")),
    Scope.ASSIGNED: _BY_ID.where(
        customers.c.customer_id.in_(
            select(assignments.c.customer_id).where(assignments.c.user_id == bindparam("user_id"))
        )
    ),
}


def visible_customer(
    conn: Connection, user: User, customer_id: str, action: Action | str = Action.CUSTOMER_VIEW
) -> Any:
    """The customer's row when it exists and lies in the user's scope for `action`, else
    None — the same rule as `customer_scope_clause`."""
    scope = scope_for(user.role, action) if user.active else None
    if scope is None or (scope == Scope.BRANCH and user.branch_id is None):
        return None
    params = {"customer_id": customer_id, "branch_id": user.branch_id, "user_id": user.user_id}
    return conn.execute(_IN_SCOPE[scope], params).first()  # (unused parameters are ignored)


def customer_in_scope(
    conn: Connection,
    user: User,
    customer_id: str | None,
    action: Action | str,
    *,
    missing: str | None = None,
    field: str = "customer_id",
) -> Any:
    """The customer's row when `customer_id` names one in the user's scope for `action`; else
    `NotFoundError(missing, field)` — the same error for an unknown customer and one outside
    the scope, so the answer never tells that a customer exists (the API answers 404, the
    workbench its not-found page). `customer_id` None (a record without an owner) is not found
    either. Default message: "no customer '<id>'"."""
    row = None if customer_id is None else visible_customer(conn, user, customer_id, action)
    if row is None:
        raise NotFoundError(missing or f"no customer {customer_id!r}", field)
    return row


def row_in_scope(
    conn: Connection,
    user: User,
    table: Table,
    key: str,
    value: object,
    action: Action | str,
    *,
    missing: str | None = None,
) -> Any:
    """The row of `table` whose `key` is `value`, when it exists and its customer (the row's
    `customer_id`) lies in the user's scope for `action`; else `NotFoundError` naming `key` —
    missing and out of scope answer the same. Default message: "<table, singular> <value>: not
    found" ("agreement 7: not found")."""
    row = conn.execute(select(table).where(table.c[key] == value)).first()
    customer_in_scope(
        conn,
        user,
        None if row is None else row.customer_id,
        action,
        missing=missing or f"{table.name.removesuffix('s')} {value}: not found",
        field=key,
    )
    return row
