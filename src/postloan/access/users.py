"""Users: creation, Argon2 authentication with lock-out, disable, password reset, listing.

`conn` is a SQLAlchemy Connection; callers commit. `authenticate` records a failure (and a
lock) *before* raising, so callers must commit on `AuthenticationFailed` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, func, or_, select, update

from postloan.access import lockout
from postloan.access.errors import (
    AccountDisabled,
    AccountLocked,
    AuthenticationFailed,
    InvalidBranch,
    InvalidUsername,
    UnknownUser,
    UserExists,
)
from postloan.access.passwords import (
    DUMMY_HASH,
    check_strength,
    hash_password,
    needs_rehash,
    rehash,
    verify_password,
)
from postloan.access.permissions import Scope, scopes_of
from postloan.access.roles import Role
from postloan.access.tables import api_tokens, users
from postloan.access.times import from_db, to_utc
from postloan.store.schema import customers, loans

# Login names: lower-case ASCII letters, digits and . _ - (no look-alike or case-only twins in
# the audit log, nothing a shell or a URL must escape), starting with a letter or digit.
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
USERNAME_LENGTH = (2, 64)


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


def check_username(username: str) -> str:
    """The username, if it may be used for a new user (else `InvalidUsername`, saying why)."""
    shortest, longest = USERNAME_LENGTH
    if not shortest <= len(username) <= longest:
        raise InvalidUsername(f"a username has {shortest} to {longest} characters")
    if not USERNAME.fullmatch(username):
        raise InvalidUsername(
            "a username has lower-case letters a-z, digits and . _ - only, and starts with a "
            "letter or a digit"
        )
    return username


def needs_branch(role: Role | str) -> bool:
    """Whether the role's data scope depends on a branch: branch-scoped roles see their
    branch, collectors are allocated cases of their branch (`permissions.MATRIX`)."""
    return any(s in (Scope.BRANCH, Scope.ASSIGNED) for s in scopes_of(role))


def known_branch(conn: Connection, branch_id: str) -> bool:
    """A branch the store knows: some customer, loan or user has it (there is no table of
    branches: they come with the lender's files)."""
    query = select(
        or_(
            exists().where(customers.c.branch_id == branch_id),
            exists().where(loans.c.branch_id == branch_id),
            exists().where(users.c.branch_id == branch_id),
        )
    )
    return bool(conn.execute(query).scalar())


def check_branch(
    conn: Connection, role: Role | str, branch_id: str | None, *, new_branch: bool = False
) -> None:
    """`InvalidBranch` unless a role that needs a branch has one the store knows (or one
    the caller says is new: the first user of a branch not imported yet)."""
    role = Role(role)
    if branch_id is None or not branch_id.strip():
        if needs_branch(role):
            raise InvalidBranch(f"role {role} needs a branch (--branch)")
        return
    if not new_branch and not known_branch(conn, branch_id):
        raise InvalidBranch(
            f"branch {branch_id!r} is unknown: no customer, loan or user has it (check the "
            "spelling; --new-branch creates the first user of a new branch)"
        )


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
    """A new active user. `now` stamps `created_at` (defaults to the database clock). The
    username and the password are checked here, for every caller; whether the branch fits
    the role is `check_branch`, which `postloan user create` applies."""
    role = Role(role)
    username = check_username(username.strip())
    check_strength(password, username)
    if _row(conn, username) is not None:
        raise UserExists(f"user {username!r} exists")
    values: dict[str, Any] = {
        "username": username,
        "password_hash": hash_password(password, username),
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

    Every attempt costs one Argon2 verification — unknown user, locked or disabled account
    alike — so the time taken does not tell them apart. Raises `AccountLocked` while locked
    (even for the right password; the failure that reaches the limit raises it too),
    `AccountDisabled`, or `AuthenticationFailed`. Success resets the failures. The counting
    is done by the database (`lockout.count_failure`), so parallel guesses all count.
    """
    now = to_utc(now)
    row = _row(conn, username)
    if row is None:
        verify_password(DUMMY_HASH, password)
        raise AuthenticationFailed(reason="unknown_user")
    right = verify_password(row.password_hash, password)
    locked_until = from_db(row.locked_until)
    if locked_until is not None and lockout.is_locked(locked_until, now):
        raise AccountLocked(username, locked_until)
    if not right:
        counted = conn.execute(lockout.count_failure(row.user_id, now)).first()
        if counted is None:  # a parallel guess locked the account meanwhile
            raise AccountLocked(username, _locked_until(conn, row.user_id) or now)
        if counted.locked_until is not None:
            raise AccountLocked(username, to_utc(counted.locked_until))
        raise AuthenticationFailed(reason="wrong_password")
    if not row.active:
        raise AccountDisabled(reason="disabled")
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if needs_rehash(row.password_hash):
        values["password_hash"] = rehash(password)
    # Only while still unlocked: parallel wrong guesses may have locked it since the read.
    reset = conn.execute(
        update(users)
        .where(users.c.user_id == row.user_id, lockout.not_locked(now))
        .values(**values)
    )
    if reset.rowcount == 0:
        raise AccountLocked(username, _locked_until(conn, row.user_id) or now)
    return user_from_row(row)


def _locked_until(conn: Connection, user_id: int) -> datetime | None:
    return from_db(
        conn.execute(select(users.c.locked_until).where(users.c.user_id == user_id)).scalar()
    )


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
        password_hash=hash_password(password, username),
        failed_attempts=0,
        locked_until=None,
    )
    _revoke_all(conn, username)
    return user


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(select(users).order_by(users.c.username)).all()
    return [user_from_row(row) for row in rows]
