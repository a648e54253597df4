from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from postloan.access.tables import api_tokens
from postloan.access.tokens import TOKEN_LIFETIME, issue_token, resolve_token, revoke_token
from postloan.access.users import User, create_user, disable_user, reset_password
from tests.access.conftest import NOW


@pytest.fixture
def amy(engine: Engine) -> User:
    with engine.begin() as conn:
        return create_user(conn, username="amy", password="long enough", role="manager", now=NOW)


def test_issue_and_resolve(engine: Engine, amy: User) -> None:
    with engine.begin() as conn:
        token = issue_token(conn, amy.user_id, "api", NOW)
        other = issue_token(conn, amy.user_id, "session", NOW)
    assert token != other
    assert len(token) >= 43  # 32 random bytes, urlsafe base64
    with engine.begin() as conn:
        stored = conn.execute(select(api_tokens.c.token_hash, api_tokens.c.kind)).all()
        assert {row.token_hash for row in stored} == {
            hashlib.sha256(t.encode()).hexdigest() for t in (token, other)
        }
        assert resolve_token(conn, token, NOW) == amy
        assert resolve_token(conn, token, NOW + TOKEN_LIFETIME - timedelta(seconds=1)) == amy
        assert resolve_token(conn, token, NOW + TOKEN_LIFETIME) is None  # expired
        assert resolve_token(conn, "not-a-token", NOW) is None
        assert resolve_token(conn, "", NOW) is None
    with pytest.raises(ValueError), engine.begin() as conn:
        issue_token(conn, amy.user_id, "forever", NOW)


def test_revoke(engine: Engine, amy: User) -> None:
    with engine.begin() as conn:
        token = issue_token(conn, amy.user_id, "session", NOW)
        other = issue_token(conn, amy.user_id, "session", NOW)
    with engine.begin() as conn:
        assert revoke_token(conn, token)
        assert not revoke_token(conn, "unknown")
    with engine.begin() as conn:
        assert resolve_token(conn, token, NOW) is None
        assert resolve_token(conn, other, NOW) == amy


def test_disabled_user_and_password_reset_invalidate_tokens(engine: Engine, amy: User) -> None:
    with engine.begin() as conn:
        first = issue_token(conn, amy.user_id, "api", NOW)
        reset_password(conn, "amy", "another long one")
        assert resolve_token(conn, first, NOW) is None
        second = issue_token(conn, amy.user_id, "api", NOW)
        assert resolve_token(conn, second, NOW) == amy
        disable_user(conn, "amy")
        assert resolve_token(conn, second, NOW) is None
