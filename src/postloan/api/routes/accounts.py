"""Accounts: the stored status of one loan or card, scoped through its customer."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Connection, func, select, union_all

from postloan.access.permissions import Action
from postloan.access.scope import customer_scope_clause
from postloan.access.users import User
from postloan.api.deps import get_conn, require
from postloan.api.errors import ERROR_RESPONSES, NotFound
from postloan.api.routes.customers import StatusRow
from postloan.api.util import NO_NUL, jsonable
from postloan.inputs import BusinessDate
from postloan.store.schema import account_status, cards, customers, loans
from postloan.views.customer360 import STATUS_AMOUNTS

router = APIRouter(prefix="/api/accounts", tags=["accounts"], responses=ERROR_RESPONSES)


class AccountStatus(StatusRow):
    customer_id: str


@router.get("/{account_id}/status", response_model=AccountStatus)
def account_status_of(
    account_id: str = Path(
        min_length=1, max_length=64, pattern=NO_NUL, description="loan_id or card_id"
    ),
    as_of: BusinessDate | None = Query(
        None, description="business date; default the latest stored"
    ),
    user: User = Depends(require(Action.ACCOUNT_VIEW)),
    conn: Connection = Depends(get_conn),
) -> AccountStatus:
    """The stored status row of the account on `as_of` (404 when none is stored, or the
    account's customer is outside the caller's scope)."""
    owners = union_all(
        select(loans.c.customer_id).where(loans.c.loan_id == account_id),
        select(cards.c.customer_id).where(cards.c.card_id == account_id),
    ).subquery()
    owner = conn.execute(
        select(customers.c.customer_id).where(
            customers.c.customer_id.in_(select(owners.c.customer_id)),
            customer_scope_clause(user, Action.ACCOUNT_VIEW),
        )
    ).scalar()
    if owner is None:
        raise NotFound(f"no account {account_id!r}", field="account_id")
    when = as_of
    if when is None:
        when = conn.execute(
            select(func.max(account_status.c.as_of)).where(
                account_status.c.account_id == account_id
            )
        ).scalar()
    row = None
    if when is not None:
        row = conn.execute(
            select(account_status).where(
                account_status.c.account_id == account_id, account_status.c.as_of == when
            )
        ).first()
    if row is None:
        raise NotFound(
            f"no stored status for {account_id!r}" + (f" on {as_of}" if as_of else ""),
            field="as_of" if as_of else "account_id",
        )
    return AccountStatus(**jsonable(row._mapping, STATUS_AMOUNTS))
