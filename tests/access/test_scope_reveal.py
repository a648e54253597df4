from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, select

from postloan.access import audit
from postloan.access.errors import PermissionDenied, ReasonRequired
from postloan.access.masking import reveal as reveal_from_masking
from postloan.access.reveal import reveal
from postloan.access.scope import (
    can_see_customer,
    customer_in_scope,
    customer_scope_clause,
    row_in_scope,
    visible_customer,
)
from postloan.access.tables import audit_log
from postloan.access.users import User, create_user
from postloan.errors import NotFoundError
from postloan.store.schema import customers
from tests.access.conftest import NOW


def _visible(engine: Engine, user: User, action: str = "customer.view") -> list[str]:
    with engine.begin() as conn:
        rows = conn.execute(
            select(customers.c.customer_id)
            .where(customer_scope_clause(user, action))
            .order_by(customers.c.customer_id)
        )
        return [row.customer_id for row in rows]


def test_scope_clause_on_real_data(engine: Engine, people: dict[str, User]) -> None:
    assert _visible(engine, people["col"]) == ["C3"]  # assigned only
    assert _visible(engine, people["sup"]) == ["C1", "C3"]  # branch BR01
    assert _visible(engine, people["officer2"]) == ["C2"]  # branch BR02
    assert _visible(engine, people["cs"]) == ["C1", "C3"]
    assert _visible(engine, people["legal"]) == ["C1", "C2", "C3"]
    assert _visible(engine, people["mkt"]) == ["C1", "C2", "C3"]
    assert _visible(engine, people["aud"]) == ["C1", "C2", "C3"]
    assert _visible(engine, people["nobranch"]) == []  # branch role without a branch
    # scope depends on the action
    assert _visible(engine, people["col"], "customer.reveal") == []
    assert _visible(engine, people["mkt"], "account.view") == []
    assert _visible(engine, people["sup"], "customer.reveal") == ["C1", "C3"]


def test_disabled_user_sees_nothing(engine: Engine, people: dict[str, User]) -> None:
    assert _visible(engine, replace(people["legal"], active=False)) == []


def test_can_see_customer(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        assert can_see_customer(conn, people["col"], "C3")
        assert not can_see_customer(conn, people["col"], "C1")
        assert can_see_customer(conn, people["sup"], "C1")
        assert not can_see_customer(conn, people["sup"], "C2")
        assert can_see_customer(conn, people["legal"], "C2")
        assert not can_see_customer(conn, people["legal"], "NOPE")
        assert not can_see_customer(conn, people["col"], "C3", "customer.reveal")


def test_visible_customer_agrees_with_the_scope_clause(
    engine: Engine, people: dict[str, User]
) -> None:
    """The prebuilt per-scope lookup (the 360° view's) and the clause give the same answer for
    every user, action and customer, including disabled users and unknown ids."""
    users = [*people.values(), replace(people["legal"], active=False)]
    for user in users:
        for action in ("customer.view", "customer.reveal", "account.view", "customer.search"):
            allowed = set(_visible(engine, user, action))
            with engine.begin() as conn:
                for customer_id in ("C1", "C2", "C3", "NOPE"):
                    row = visible_customer(conn, user, customer_id, action)
                    assert (row is not None) == (customer_id in allowed), (user, action)
                    if row is not None:
                        assert row.customer_id == customer_id


def test_in_scope_or_not_found_answers_missing_and_out_of_scope_alike(
    engine: Engine, people: dict[str, User]
) -> None:
    """`row_in_scope` and `customer_in_scope` (every route's and page's "in scope or 404"): a
    record whose customer is outside the user's scope raises the very error a missing one
    does — same message, same field — for every user and action."""
    notes = Table(  # a record naming its customer, like tasks, agreements or legal matters
        "scope_notes",
        MetaData(),
        Column("note_id", Integer, primary_key=True),
        Column("customer_id", String(64)),
    )
    owners = {1: "C1", 2: "C2", 3: "C3", 4: None}  # 4: no customer; 5: no such note
    with engine.begin() as conn:
        notes.create(conn)
        conn.execute(notes.insert(), [{"note_id": k, "customer_id": v} for k, v in owners.items()])
    for user in [*people.values(), replace(people["legal"], active=False)]:
        for action in ("customer.view", "customer.reveal", "account.view"):
            allowed = set(_visible(engine, user, action))
            with engine.begin() as conn:
                for note_id in (1, 2, 3, 4, 5):
                    owner = owners.get(note_id)
                    if owner in allowed:
                        row = row_in_scope(conn, user, notes, "note_id", note_id, action)
                        assert (row.note_id, row.customer_id) == (note_id, owner)
                        continue
                    with pytest.raises(NotFoundError) as refused:
                        row_in_scope(conn, user, notes, "note_id", note_id, action)
                    assert (refused.value.message, refused.value.field) == (
                        f"scope_note {note_id}: not found",
                        "note_id",
                    )
                for customer_id in ("C1", "C2", "C3", "NOPE"):
                    if customer_id in allowed:
                        row = customer_in_scope(conn, user, customer_id, action)
                        assert row.customer_id == customer_id
                        continue
                    with pytest.raises(NotFoundError) as refused:
                        customer_in_scope(conn, user, customer_id, action)
                    assert (refused.value.message, refused.value.field) == (
                        f"no customer {customer_id!r}",
                        "customer_id",
                    )
    with engine.begin() as conn, pytest.raises(NotFoundError) as refused:  # a named record
        customer_in_scope(conn, people["col"], "C1", "customer.view", missing="no loan 'L1'",
                          field="account_id")  # fmt: skip
    assert (refused.value.message, refused.value.field) == ("no loan 'L1'", "account_id")


def _reveals(engine: Engine) -> list[tuple[str, str, dict[str, str]]]:
    with engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    return [(r.actor, r.target_id, json.loads(r.detail)) for r in rows]


def test_reveal_returns_the_full_value_and_is_audited(
    engine: Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        value = reveal(conn, people["sup"], "C1", "id_number", "verify identity on call", NOW)
        phone = reveal_from_masking(conn, people["legal"], "C2", "phone", "court filing", NOW)
    assert value == "11010119900307123X"
    assert phone == "13987654321"
    assert _reveals(engine) == [
        ("sup", "C1", {"field": "id_number", "reason": "verify identity on call"}),
        ("legal", "C2", {"field": "phone", "reason": "court filing"}),
    ]
    with engine.begin() as conn:
        assert audit.verify(conn) == []
        actions = conn.execute(select(audit_log.c.action)).scalars().all()
    assert actions == ["customer.reveal", "customer.reveal"]


@pytest.mark.parametrize("username", ["col", "cs", "mkt", "aud"])
def test_roles_without_reveal_are_refused(
    engine: Engine, people: dict[str, User], username: str
) -> None:
    with pytest.raises(PermissionDenied), engine.begin() as conn:
        reveal(conn, people[username], "C3", "phone", "need to call", NOW)
    assert _reveals(engine) == []


def test_reveal_needs_scope_and_reason(engine: Engine, people: dict[str, User]) -> None:
    with pytest.raises(PermissionDenied), engine.begin() as conn:
        reveal(conn, people["sup"], "C2", "phone", "other branch", NOW)  # BR02
    with pytest.raises(PermissionDenied), engine.begin() as conn:
        reveal(conn, people["legal"], "NOPE", "phone", "unknown customer", NOW)
    for reason in ("", "   ", "why", " abcd "):
        with pytest.raises(ReasonRequired), engine.begin() as conn:
            reveal(conn, people["legal"], "C1", "phone", reason, NOW)
    with pytest.raises(ValueError), engine.begin() as conn:
        reveal(conn, people["legal"], "C1", "monthly_income", "curious now", NOW)
    assert _reveals(engine) == []


def test_admin_reveals_anything(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        admin = create_user(conn, username="root", password="long enough", role="admin", now=NOW)
        assert reveal(conn, admin, "C3", "address", "data subject request", NOW) == (
            "江苏省南京市玄武区中山路5号"
        )
