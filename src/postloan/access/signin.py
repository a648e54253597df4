"""Signing in, audited: every login and every refused attempt is an audit entry, whichever
door it came through (the API, the web workbench, the command line)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from postloan.access import audit
from postloan.access.errors import AccessError
from postloan.access.users import User, authenticate

ANONYMOUS = "anonymous"


def sign_in(conn: Connection, username: str, password: str, now: datetime, *, via: str) -> User:
    """`authenticate`, with an audit entry either way. On failure the error is raised after the
    entry is written: the caller commits in both cases (the failure counter must stick too)."""
    try:
        user = authenticate(conn, username, password, now)
    except AccessError as exc:
        audit.record(
            conn, actor=ANONYMOUS, action="auth.login_failed", target_type="user",
            target_id=username[:64], detail={"via": via, "reason": type(exc).__name__}, now=now,
        )  # fmt: skip
        raise
    audit.record(
        conn, actor=user.username, action="auth.login", target_type="user",
        target_id=str(user.user_id), detail={"via": via}, now=now,
    )  # fmt: skip
    return user
