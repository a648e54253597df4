"""Signing in, audited: every login and every refused attempt is an audit entry, whichever
door it came through (the API, the web workbench, the command line).

A refused login tells the caller nothing about the account: unknown user, wrong password,
locked and disabled all raise the same `AuthenticationFailed(LOGIN_REFUSED)` after the same
one Argon2 verification; only the audit entry names the reason.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from postloan.access import audit
from postloan.access.errors import LOGIN_REFUSED, AuthenticationFailed
from postloan.access.users import User, authenticate

ANONYMOUS = "anonymous"


def sign_in(
    conn: Connection,
    username: str,
    password: str,
    now: datetime,
    *,
    via: str,
    client: str | None = None,
) -> User:
    """`authenticate`, with an audit entry either way (`client`: the caller's address, when
    there is one). On failure the error is raised after the entry is written: the caller
    commits in both cases (the failure counter must stick too)."""
    where = {"via": via} if client is None else {"via": via, "client": client}
    try:
        user = authenticate(conn, username, password, now)
    except AuthenticationFailed as exc:
        audit.record(
            conn, actor=ANONYMOUS, action="auth.login_failed", target_type="user",
            target_id=username[:64], detail={**where, "reason": exc.reason}, now=now,
        )  # fmt: skip
        raise AuthenticationFailed(LOGIN_REFUSED, reason=exc.reason) from None
    audit.record(
        conn, actor=user.username, action="auth.login", target_type="user",
        target_id=str(user.user_id), detail=where, now=now,
    )  # fmt: skip
    return user


def record_throttled(
    conn: Connection, username: str, now: datetime, *, via: str, client: str, scope: str
) -> None:
    """The audit entry of a login refused by the rate limit (`access.ratelimit`): written
    once when a limit starts refusing, not for every refused request of a flood."""
    audit.record(
        conn, actor=ANONYMOUS, action="auth.login_throttled", target_type="user",
        target_id=username[:64], detail={"via": via, "client": client, "limit": scope},
        now=now,
    )  # fmt: skip
