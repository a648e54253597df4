"""Who runs a command, and may they: the permission matrix on the command line.

A command runs for one of two callers:

- a **signed-in user** — `postloan --as USERNAME ...` (or `POSTLOAN_USER`), with the password
  from `POSTLOAN_PASSWORD` or typed at a prompt. The password is checked like a web login
  (Argon2; failures count towards the lock-out) and the command is refused, exit 3, unless the
  user's role may perform its action (`access.permissions.MATRIX`). Portfolio-wide commands need
  the action with scope *all*. The audit log names the user.
- the **local operator** — no user named. Whoever runs postloan without signing in holds the
  store's credentials (the SQLite file, the PostgreSQL URL) and could read every table directly,
  so a login would protect nothing; the operator acts with the admin's rights and the audit log
  names the operating-system user (`cli:<name>`). A deployment that wants every command tied to
  a postloan user sets `POSTLOAN_CLI_REQUIRE_LOGIN=1`: then commands refuse to run unsigned.

`access.permissions.COMMANDS` lists every command that touches the store and the action it
needs; commands that only read files handed to them (`policy validate|show`, `status`) need
none.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime

import typer

from postloan.access.errors import AccessError
from postloan.access.permissions import Action, Scope, scope_for
from postloan.access.signin import sign_in
from postloan.access.users import User
from postloan.store.db import engine_for

USER_VAR = "POSTLOAN_USER"
PASSWORD_VAR = "POSTLOAN_PASSWORD"
REQUIRE_LOGIN_VAR = "POSTLOAN_CLI_REQUIRE_LOGIN"
REFUSED = 3  # exit code of a refused command


@dataclass(frozen=True)
class Caller:
    """Who a command runs for: `user` is None for the local operator."""

    actor: str  # as the audit log names them
    user: User | None = None


def signed_in_as() -> str | None:
    name = os.environ.get(USER_VAR, "").strip()
    return name or None


def authorize(url: str, action: Action | str, what: str) -> Caller:
    """The caller of this command, if they may perform `action` on the whole store; else the
    command ends here with exit 3 and a message naming the role and the action."""
    username = signed_in_as()
    if username is None:
        if os.environ.get(REQUIRE_LOGIN_VAR, "").strip() not in ("", "0"):
            _refuse(f"{what}: sign in first (postloan --as USERNAME); {REQUIRE_LOGIN_VAR} is set")
        return Caller(actor=f"cli:{getpass.getuser()}")
    password = os.environ.get(PASSWORD_VAR)
    if password is None:
        password = typer.prompt(f"password for {username}", hide_input=True)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:  # a failed attempt must be counted: commit either way
            try:
                user = sign_in(conn, username, password, datetime.now(UTC), via="cli")
            except AccessError as exc:
                failure: AccessError | None = exc
            else:
                failure = None
        if failure is not None:
            _refuse(f"{what}: sign-in refused for {username}: {failure}")
    finally:
        engine.dispose()
    if scope_for(user.role, action) != Scope.ALL:
        _refuse(f"{what}: role {user.role} may not {action} (docs/permissions.md)")
    return Caller(actor=user.username, user=user)


def _refuse(message: str) -> None:
    typer.echo(f"refused: {message}", err=True)
    raise typer.Exit(REFUSED)
