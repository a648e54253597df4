"""The dashboard's figures on every backend, for every role that has a dashboard: equal to a
plain recomputation over the stored status rows in the role's scope (branch roles included —
PostgreSQL is stricter about grouping than SQLite)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from postloan.access.permissions import Action, can
from postloan.access.roles import Role
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from postloan.web.data import dashboard
from tests.api.conftest import World, world  # noqa: F401

ROLES = [r.value for r in Role if can(r, Action.DASHBOARD_VIEW)]


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_equals_a_plain_count(world: World, role: str) -> None:  # noqa: F811
    user = world.users[role]
    engine = engine_for(world.url)
    with engine.connect() as conn:
        board = dashboard(conn, user)
        latest = conn.execute(select(func.max(account_status.c.as_of))).scalar()
        rows = conn.execute(
            select(account_status.c.bucket, account_status.c.outstanding_principal,
                   customers.c.branch_id)
            .join(customers, customers.c.customer_id == account_status.c.customer_id)
            .where(account_status.c.as_of == latest)
        ).all()  # fmt: skip
    engine.dispose()
    if user.branch_id is not None and role == Role.COLLECTION_SUPERVISOR:
        rows = [r for r in rows if r.branch_id == user.branch_id]
    assert board.accounts == len(rows) > 0
    assert board.outstanding == sum(r.outstanding_principal for r in rows)
    assert {b["bucket"]: b["accounts"] for b in board.by_bucket} == dict(
        Counter(r.bucket for r in rows)
    )
    assert {b["branch"]: b["accounts"] for b in board.by_branch} == dict(
        Counter(r.branch_id or "-" for r in rows)
    )
