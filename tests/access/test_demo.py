from __future__ import annotations

from sqlalchemy import Engine

from postloan.access.demo import create_demo_collectors, create_demo_users
from postloan.access.roles import Role
from postloan.access.users import authenticate, list_users
from tests.access.conftest import NOW


def test_one_demo_user_per_role_who_can_log_in(engine: Engine) -> None:
    with engine.begin() as conn:
        made = create_demo_users(conn, NOW)
    assert [role for _, _, role, _ in made] == [role.value for role in Role]
    by_role = {role: (username, password, branch) for username, password, role, branch in made}
    assert by_role["collector"][1] == "demo-collector-2026"
    assert by_role["credit_officer"][2] == "BR01"
    assert by_role["risk_manager"][2] is None
    with engine.begin() as conn:
        for username, password, role, branch in made:
            user = authenticate(conn, username, password, NOW)
            assert (user.role.value, user.branch_id) == (role, branch)
        collector = authenticate(conn, "collector", "demo-collector-2026", NOW)
        assert collector.team == "T1"


def test_demo_users_are_idempotent(engine: Engine) -> None:
    with engine.begin() as conn:
        first = create_demo_users(conn, NOW)
        second = create_demo_users(conn, NOW)
        assert first == second
        assert len(list_users(conn)) == len(Role)


def test_demo_collection_teams(engine: Engine) -> None:
    with engine.begin() as conn:
        made = create_demo_collectors(conn, {"BR01": 4_600, "BR02": 300}, NOW)
        again = create_demo_collectors(conn, {"BR01": 4_600, "BR02": 300}, NOW)
        team = [u for u in list_users(conn) if u.username.startswith("collector-")]
    # one per 1,500 customers, at least two per branch; a second call adds nobody
    assert made == ["collector-br01-1", "collector-br01-2", "collector-br01-3",
                    "collector-br02-1", "collector-br02-2"]  # fmt: skip
    assert again == []
    assert {(u.role.value, u.branch_id, u.team, u.active) for u in team} == {
        ("collector", "BR01", "T1", True), ("collector", "BR02", "T1", True)
    }  # fmt: skip
