"""`postloan user ...` (create, disable, reset-password, list) and `postloan audit verify`,
`postloan audit anchor`.

Every user change writes an audit entry naming who made it (`postloan.cli.operator`). Exit
codes: 0 done; 1 refused (unknown user, existing username, bad username, weak password, a
branch missing or unknown) or, for `audit verify`, problems found; 2 a malformed option;
3 the caller may not (docs/permissions.md).

The audit anchor: `audit anchor` prints the newest entry as `SEQ:HASH`. Kept somewhere the
store's administrators cannot rewrite (a ticket, a signed e-mail, another system's log), it
lets `audit verify --anchor SEQ:HASH` catch what the chain alone cannot: the newest entries
deleted, or the whole chain rewritten with recomputed hashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection

from postloan.access import audit
from postloan.access.errors import AccessError
from postloan.access.permissions import Action
from postloan.access.roles import Role
from postloan.access.users import (
    check_branch,
    create_user,
    disable_user,
    list_users,
    reset_password,
)
from postloan.cli.operator import Caller, authorize
from postloan.store.db import engine_for, ready

user_app = typer.Typer(help="Manage users (用户): create, disable, reset password, list.")
audit_app = typer.Typer(help="The tamper-evident audit log (审计日志).")


@contextmanager
def _transaction(action: Action, what: str) -> Iterator[tuple[Connection, Caller]]:
    """One transaction on the store, for a caller allowed to `action` (else exit 3)."""
    url = ready()
    caller = authorize(url, action, what)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            yield conn, caller
    finally:
        engine.dispose()


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _now() -> datetime:
    return datetime.now(UTC)


@user_app.command("create")
def create(
    username: Annotated[str, typer.Option(help="Login name (unique).")],
    role: Annotated[Role, typer.Option(help="The user's role.")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ],
    branch: Annotated[
        str | None,
        typer.Option(help="Branch id, e.g. BR01 (required for branch roles and collectors)."),
    ] = None,
    team: Annotated[str | None, typer.Option(help="Team (collectors).")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UI.")] = None,
    new_branch: Annotated[
        bool,
        typer.Option(
            "--new-branch",
            help="The branch is new: no customer, loan or user has it yet (else refused).",
        ),
    ] = False,
) -> None:
    """Create an active user. Usernames: 2-64 of a-z 0-9 . _ - ; passwords: at least 10
    characters, not a common one nor the username or 'postloan' with digits added."""
    now = _now()
    try:
        with _transaction(Action.USER_MANAGE, "user create") as (conn, caller):
            check_branch(conn, role, branch, new_branch=new_branch)
            user = create_user(
                conn,
                username=username,
                password=password,
                role=role,
                branch_id=branch,
                team=team,
                display_name=display_name,
                now=now,
            )
            audit.record(
                conn,
                actor=caller.actor,
                action="user.create",
                target_type="user",
                target_id=user.username,
                detail={"role": user.role.value, "branch_id": branch, "team": team},
                now=now,
            )
    except (AccessError, ValueError) as exc:
        raise _fail(exc) from None
    typer.echo(f"created user {user.username} ({user.role.value}, id {user.user_id})")


@user_app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Disable a user (kept for the audit trail) and revoke their tokens."""
    try:
        with _transaction(Action.USER_MANAGE, "user disable") as (conn, caller):
            disable_user(conn, username)
            audit.record(
                conn,
                actor=caller.actor,
                action="user.disable",
                target_type="user",
                target_id=username,
                now=_now(),
            )
    except AccessError as exc:
        raise _fail(exc) from None
    typer.echo(f"disabled user {username}")


@user_app.command("reset-password")
def reset_password_(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password."),
    ],
) -> None:
    """Set a new password; clears a lock-out and revokes the user's tokens."""
    try:
        with _transaction(Action.USER_MANAGE, "user reset-password") as (conn, caller):
            reset_password(conn, username, password)
            audit.record(
                conn,
                actor=caller.actor,
                action="user.reset_password",
                target_type="user",
                target_id=username,
                now=_now(),
            )
    except (AccessError, ValueError) as exc:
        raise _fail(exc) from None
    typer.echo(f"password reset for {username}")


@user_app.command("list")
def list_() -> None:
    """List users (never their password hashes)."""
    with _transaction(Action.USER_MANAGE, "user list") as (conn, _caller):
        users = list_users(conn)
    table = Table(title="Users (用户)")
    for column in ("id", "username", "role", "branch", "team", "display name", "active"):
        table.add_column(column)
    for user in users:
        table.add_row(
            str(user.user_id),
            user.username,
            user.role.value,
            user.branch_id or "",
            user.team or "",
            user.display_name or "",
            "yes" if user.active else "no",
        )
    Console().print(table)


ANCHOR = re.compile(r"(\d{1,18}):([0-9a-f]{64})")


def _anchor(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    found = ANCHOR.fullmatch(value.strip().lower())
    if found is None:
        raise typer.BadParameter("give SEQ:HASH as `postloan audit anchor` printed it")
    return int(found[1]), found[2]


@audit_app.command("anchor")
def anchor() -> None:
    """Print the newest entry as SEQ:HASH, to keep outside the store (see `verify --anchor`)."""
    with _transaction(Action.AUDIT_VERIFY, "audit anchor") as (conn, _caller):
        seq, digest = audit.head(conn)
    typer.echo(f"{seq}:{digest}")


@audit_app.command("verify")
def verify(
    anchor: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            metavar="SEQ:HASH",
            help="An anchor printed earlier by `audit anchor`: the chain must still hold it.",
        ),
    ] = None,
) -> None:
    """Check the hash chain (and an anchor): exit 0 and print OK when intact, else list the
    problems and exit 1."""
    anchored = _anchor(anchor)
    with _transaction(Action.AUDIT_VERIFY, "audit verify") as (conn, _caller):
        problems = audit.verify(conn, anchor=anchored)
        last_seq, _ = audit.head(conn)
    if not problems:
        held = f"; holds the anchor at seq {anchored[0]}" if anchored else ""
        typer.echo(f"OK: audit log intact ({last_seq} entries){held}")
        return
    typer.echo(f"audit log: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    for problem in problems:
        typer.echo(f"  {problem}")
    raise typer.Exit(1)
