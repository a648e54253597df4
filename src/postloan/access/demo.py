"""Demo users: one per role, with deterministic passwords the demo prints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from postloan.access.errors import UnknownUser
from postloan.access.roles import BRANCH_ROLES, Role
from postloan.access.users import create_user, enable_user, get_user, reset_password

DEMO_BRANCH = "BR01"
DEMO_TEAM = "T1"


def demo_password(role: Role) -> str:
    return f"demo-{role.value}-2026"


def create_demo_users(conn: Connection, now: datetime) -> list[tuple[str, str, str, str | None]]:
    """(username, password, role, branch) for one user per role; the username is the role.

    Idempotent: an existing demo user gets its demo password back and is re-enabled.
    """
    made: list[tuple[str, str, str, str | None]] = []
    for role in Role:
        username, password = role.value, demo_password(role)
        branch = DEMO_BRANCH if role in BRANCH_ROLES or role == Role.COLLECTOR else None
        team = DEMO_TEAM if role in (Role.COLLECTOR, Role.COLLECTION_SUPERVISOR) else None
        try:
            get_user(conn, username)
        except UnknownUser:
            create_user(
                conn,
                username=username,
                password=password,
                role=role,
                branch_id=branch,
                team=team,
                display_name=f"Demo {role.value.replace('_', ' ')}",
                now=now,
            )
        else:
            reset_password(conn, username, password)
            enable_user(conn, username)
        made.append((username, password, role.value, branch))
    return made
