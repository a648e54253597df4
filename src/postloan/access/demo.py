"""Demo users: one per role, with deterministic passwords the demo prints."""

from __future__ import annotations

import secrets
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


def create_demo_collectors(
    conn: Connection, customers_by_branch: dict[str, int], now: datetime
) -> list[str]:
    """A collection team for every branch, so the daily run's allocation has collectors to
    balance the cases over: one collector per 1,500 customers (at least two) — about 130 open
    cases each at the demo's overdue rate, within the policy's cap. They cannot sign in (their
    passwords are random and never shown); the demo's `collector` login works alongside them
    in BR01. Idempotent."""
    made = []
    for branch, count in sorted(customers_by_branch.items()):
        for n in range(1, max(2, count // 1500) + 1):
            username = f"collector-{branch.lower()}-{n}"
            try:
                get_user(conn, username)
            except UnknownUser:
                create_user(
                    conn, username=username, password=secrets.token_urlsafe(24),
                    role=Role.COLLECTOR, branch_id=branch, team=DEMO_TEAM,
                    display_name=f"Collector {branch} {n}", now=now,
                )  # fmt: skip
                made.append(username)
    return made
