from __future__ import annotations

from pathlib import Path

import pytest

import postloan.areas  # noqa: F401  (the business areas' actions join the matrix)
from postloan.access.permissions import (
    MATRIX,
    Action,
    Scope,
    all_actions,
    can,
    render_markdown,
    scope_for,
)
from postloan.access.roles import Role

DOC = Path(__file__).parents[2] / "docs" / "permissions.md"


def test_every_role_has_a_row_and_every_cell_is_a_scope_or_refused() -> None:
    assert set(MATRIX) == set(Role)
    for role in Role:
        assert set(MATRIX[role]) <= set(Action)
        for action in all_actions():
            scope = scope_for(role, action)
            assert scope is None or isinstance(scope, Scope)
            assert can(role, action) == (scope is not None)
    assert "case.view" in all_actions()  # collections' actions come from its area
    assert scope_for(Role.ADMIN, "case.view") == Scope.ALL


def test_doc_is_generated_from_the_matrix() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/permissions.md is stale: regenerate it with "
        "postloan.access.permissions.render_markdown()"
    )


def test_doc_mentions_every_role_and_action() -> None:
    doc = render_markdown()
    for role in Role:
        assert role.value in doc
    for action in all_actions():
        assert f"`{action}`" in doc


@pytest.mark.parametrize(
    ("role", "action", "scope"),
    [
        ("collector", "customer.view", "assigned"),
        ("collector", "customer.reveal", None),
        ("collection_supervisor", "customer.reveal", "branch"),
        ("collection_supervisor", "run.view", "all"),
        ("credit_officer", "customer.reveal", "branch"),
        ("credit_officer", "import.run", None),
        ("risk_manager", "import.run", "all"),
        ("risk_manager", "run.start", "all"),
        ("risk_manager", "customer.reveal", None),
        ("legal_officer", "customer.reveal", "all"),
        ("customer_service", "customer.view", "branch"),
        ("customer_service", "customer.reveal", None),
        ("marketing", "customer.view", "all"),
        ("marketing", "customer.reveal", None),
        ("marketing", "account.view", None),
        ("manager", "dashboard.view", "all"),
        ("manager", "customer.reveal", None),
        ("auditor", "audit.verify", "all"),
        ("auditor", "customer.view", "all"),
        ("auditor", "customer.reveal", None),
        ("admin", "user.manage", "all"),
        ("admin", "export.personal", "all"),
    ],
)
def test_grants(role: str, action: str, scope: str | None) -> None:
    assert scope_for(role, action) == scope


def test_admin_only_actions() -> None:
    for action in (Action.USER_MANAGE, Action.POLICY_REPLACE, Action.EXPORT_PERSONAL):
        assert [role for role in Role if can(role, action)] == [Role.ADMIN]


def test_reveal_is_never_broader_than_view() -> None:
    order = {None: 0, Scope.ASSIGNED: 1, Scope.BRANCH: 2, Scope.ALL: 3}
    for role in Role:
        assert (
            order[scope_for(role, Action.CUSTOMER_REVEAL)]
            <= order[scope_for(role, Action.CUSTOMER_VIEW)]
        )


def test_unknown_role_or_action_is_an_error() -> None:
    with pytest.raises(ValueError):
        scope_for("janitor", "customer.view")
    with pytest.raises(ValueError):
        can("admin", "customer.delete")
