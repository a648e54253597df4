"""Users: creation, Argon2 authentication with lock-out, disable, password reset, listing.

`conn` is a SQLAlchemy Connection; callers commit. `authenticate` records a failure (and a
lock) *before* raising, so callers must commit on `AuthenticationFailed` too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from postloan.access import lockout
from postloan.access.errors import (
    AccountLocked,
    AuthenticationFailed,
    UnknownUser,
    UserExists,
)
from postloan.access.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from postloan.access.roles import Role
from postloan.access.tables import api_tokens, users
from postloan.access.times import from_db, to_utc


@dataclass(frozen=True)
class User:
    user_id: int
    username: str
    role: Role
    branch_id: str | None
    team: str | None
    display_name: str | None
    active: bool


def user_from_row(row: Any) -> User:
    return User(
        user_id=row.user_id,
        username=row.username,
        role=Role(row.role),
        branch_id=row.branch_id,
        team=row.team,
        display_name=row.display_name,
        active=bool(row.active),
    )


def _row(conn: Connection, username: str) -> Any:
    return conn.execute(select(users).where(users.c.username == username)).first()


def get_user(conn: Connection, username: str) -> User:
    row = _row(conn, username)
    if row is None:
        raise UnknownUser(f"no user {username!r}")
    return user_from_row(row)


def get_user_by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return None if row is None else user_from_row(row)


def create_user(
    conn: Connection,
    *,
    username: str,
    password: str,
    role: Role | str,
    branch_id: str | None = None,
    team: str | None = None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> User:
    """A new active user. `now` stamps `created_at` (defaults to the database clock)."""
    role = Role(role)
    username = username.strip()
    if not username:
        raise ValueError("username must not be empty")
    if _row(conn, username) is not None:
        raise UserExists(f"user {username!r} exists")
    values: dict[str, Any] = {
        "username": username,
        "password_hash": hash_password(password),
        "role": role.value,
        "branch_id": branch_id,
        "team": team,
        "display_name": display_name,
        "active": True,
        "failed_attempts": 0,
    }
    if now is not None:
        values["created_at"] = to_utc(now)
    else:
        values["created_at"] = func.current_timestamp()
    conn.execute(users.insert().values(**values))
    return get_user(conn, username)


def authenticate(conn: Connection, username: str, password: str, now: datetime) -> User:
    """The user, when the password is right and the account active and not locked.

    Raises `AccountLocked` while locked (even for the right password; the fifth consecutive
    failure raises it too) and `AuthenticationFailed` otherwise. Success resets the failures.
    """
    now = to_utc(now)
    row = _row(conn, username)
    if row is None:
        verify_password(DUMMY_HASH, password)
        raise AuthenticationFailed("unknown user or wrong password")
    locked_until = from_db(row.locked_until)
    if locked_until is not None and lockout.is_locked(locked_until, now):
        raise AccountLocked(username, locked_until)
    if not verify_password(row.password_hash, password):
        failed, until = lockout.after_failure(row.failed_attempts, now)
        conn.execute(
            update(users)
            .where(users.c.user_id == row.user_id)
            .values(failed_attempts=failed, locked_until=until)
        )
        if until is not None:
            raise AccountLocked(username, until)
        raise AuthenticationFailed("unknown user or wrong password")
    if not row.active:
        raise AuthenticationFailed("account disabled")
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if needs_rehash(row.password_hash):
        values["password_hash"] = hash_password(password)
    conn.execute(update(users).where(users.c.user_id == row.user_id).values(**values))
    return user_from_row(row)


def _set(conn: Connection, username: str, **values: Any) -> User:
    result = conn.execute(update(users).where(users.c.username == username).values(**values))
    if result.rowcount == 0:
        raise UnknownUser(f"no user {username!r}")
    return get_user(conn, username)


def _revoke_all(conn: Connection, username: str) -> None:
    user_ids = select(users.c.user_id).where(users.c.username == username).scalar_subquery()
    conn.execute(update(api_tokens).where(api_tokens.c.user_id == user_ids).values(revoked=True))


def disable_user(conn: Connection, username: str) -> User:
    """Deactivate (never delete: audit entries name the user); revokes their tokens."""
    user = _set(conn, username, active=False)
    _revoke_all(conn, username)
    return user


def enable_user(conn: Connection, username: str) -> User:
    return _set(conn, username, active=True, failed_attempts=0, locked_until=None)


def reset_password(conn: Connection, username: str, password: str) -> User:
    """New password; clears a lock-out and revokes every token of the user."""
    user = _set(
        conn,
        username,
        password_hash=hash_password(password),
        failed_attempts=0,
        locked_until=None,
    )
    _revoke_all(conn, username)
    return user


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(users).order_by(users.c.username)).all()
    return [user_from_row(row) for row in rows]
