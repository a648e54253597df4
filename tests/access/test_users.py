from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from postloan.access.errors import (
    AccountLocked,
    AuthenticationFailed,
    UnknownUser,
    UserExists,
    WeakPassword,
)
from postloan.access.lockout import LOCK_DURATION, MAX_FAILED_ATTEMPTS
from postloan.access.passwords import hash_password, needs_rehash, verify_password
from postloan.access.roles import Role
from postloan.access.tables import users
from postloan.access.users import (
    User,
    authenticate,
    create_user,
    disable_user,
    enable_user,
    list_users,
    reset_password,
)
from tests.access.conftest import NOW

PASSWORD = "correct horse battery"


@pytest.mark.usefixtures("production_argon2")
def test_argon2_hash_and_verify() -> None:
    digest = hash_password(PASSWORD)
    assert digest.startswith("$argon2id$")
    assert PASSWORD not in digest
    assert verify_password(digest, PASSWORD)
    assert not verify_password(digest, "wrong password")
    assert not verify_password("not-a-hash", PASSWORD)
    assert hash_password(PASSWORD) != digest  # salted
    assert not needs_rehash(digest)
    assert "m=65536,t=3,p=4" in digest  # argon2-cffi's recommended (RFC 9106 low-memory) cost


def test_outdated_hash_is_upgraded_on_login(engine: Engine) -> None:
    _make(engine)
    old = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(old)
    with engine.begin() as conn:
        conn.execute(users.update().values(password_hash=old))
    _attempt(engine, PASSWORD)
    with engine.begin() as conn:
        upgraded = conn.execute(select(users.c.password_hash)).scalar_one()
    assert upgraded != old
    assert not needs_rehash(upgraded)
    assert verify_password(upgraded, PASSWORD)


def test_weak_password_refused() -> None:
    with pytest.raises(WeakPassword):
        hash_password("short")


def _make(engine: Engine, **overrides: object) -> User:
    values: dict[str, object] = {
        "username": "amy",
        "password": PASSWORD,
        "role": "credit_officer",
        "branch_id": "BR01",
        "team": None,
        "display_name": "Amy",
        "now": NOW,
    }
    values.update(overrides)
    with engine.begin() as conn:
        return create_user(conn, **values)


def test_create_and_list(engine: Engine) -> None:
    user = _make(engine)
    assert user == User(user.user_id, "amy", Role.CREDIT_OFFICER, "BR01", None, "Amy", True)
    with engine.begin() as conn:
        assert list_users(conn) == [user]
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    with pytest.raises(UserExists), engine.begin() as conn:
        create_user(conn, username="amy", password=PASSWORD, role="admin")
    with pytest.raises(ValueError), engine.begin() as conn:
        create_user(conn, username="bob", password=PASSWORD, role="janitor")


def test_created_at_defaults_to_the_database_clock(engine: Engine) -> None:
    with engine.begin() as conn:
        create_user(conn, username="zed", password=PASSWORD, role="admin")
        assert conn.execute(select(users.c.created_at)).scalar_one() is not None


def _attempt(engine: Engine, password: str, now: datetime = NOW) -> User:
    """One login attempt in its own transaction, committed even when it fails."""
    with engine.connect() as conn:
        try:
            return authenticate(conn, "amy", password, now)
        finally:
            conn.commit()


def test_authenticate(engine: Engine) -> None:
    user = _make(engine)
    assert _attempt(engine, PASSWORD) == user
    with pytest.raises(AuthenticationFailed) as info:
        _attempt(engine, "wrong password")
    assert not isinstance(info.value, AccountLocked)
    with pytest.raises(AuthenticationFailed), engine.begin() as conn:
        authenticate(conn, "nobody", PASSWORD, NOW)


def test_lockout_after_five_failures_and_expiry(engine: Engine) -> None:
    _make(engine)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed) as info:
            _attempt(engine, "wrong password")
        assert not isinstance(info.value, AccountLocked)
    with pytest.raises(AccountLocked) as locked:
        _attempt(engine, "wrong password")
    assert locked.value.until == NOW + LOCK_DURATION
    # the right password while locked still fails
    with pytest.raises(AccountLocked):
        _attempt(engine, PASSWORD, NOW + LOCK_DURATION - timedelta(seconds=1))
    # after the lock, the right password works
    assert _attempt(engine, PASSWORD, NOW + LOCK_DURATION).username == "amy"
    with engine.begin() as conn:
        row = conn.execute(select(users.c.failed_attempts, users.c.locked_until)).one()
    assert (row.failed_attempts, row.locked_until) == (0, None)


def test_success_resets_the_failure_count(engine: Engine) -> None:
    _make(engine)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            _attempt(engine, "wrong password")
    _attempt(engine, PASSWORD)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):  # a fresh run of failures, not yet a lock
        with pytest.raises(AuthenticationFailed) as info:
            _attempt(engine, "wrong password")
        assert not isinstance(info.value, AccountLocked)
    assert _attempt(engine, PASSWORD).username == "amy"


def test_disable_enable_and_reset_password(engine: Engine) -> None:
    _make(engine)
    with engine.begin() as conn:
        assert disable_user(conn, "amy").active is False
    with pytest.raises(AuthenticationFailed):
        _attempt(engine, PASSWORD)
    with engine.begin() as conn:
        enable_user(conn, "amy")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            _attempt(engine, "wrong password")
    with engine.begin() as conn:
        reset_password(conn, "amy", "a brand new password")
    assert _attempt(engine, "a brand new password").username == "amy"  # lock cleared
    with pytest.raises(AuthenticationFailed):
        _attempt(engine, PASSWORD)
    with pytest.raises(UnknownUser), engine.begin() as conn:
        disable_user(conn, "nobody")
    with pytest.raises(UnknownUser), engine.begin() as conn:
        reset_password(conn, "nobody", "a brand new password")
