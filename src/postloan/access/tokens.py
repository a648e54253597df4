"""Bearer tokens for the API and web sessions: random, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, bindparam, select, update

from postloan.access.tables import api_tokens, users
from postloan.access.times import from_db, to_utc
from postloan.access.users import User, user_from_row

TOKEN_LIFETIME = timedelta(hours=12)
TOKEN_BYTES = 32


class TokenKind(StrEnum):
    API = "api"
    SESSION = "session"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(conn: Connection, user_id: int, kind: TokenKind | str, now: datetime) -> str:
    """A new token for the user, valid `TOKEN_LIFETIME` from `now`; only its hash is stored."""
    kind = TokenKind(kind)
    now = to_utc(now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        api_tokens.insert().values(
            token_hash=token_hash(token),
            user_id=user_id,
            kind=kind.value,
            issued_at=now,
            expires_at=now + TOKEN_LIFETIME,
            revoked=False,
        )
    )
    return token


# Built once: every API request resolves its token, and building the statement cost more than
# running it.
_BY_TOKEN = (
    select(users, api_tokens.c.expires_at, api_tokens.c.revoked)
    .join(api_tokens, api_tokens.c.user_id == users.c.user_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)


def resolve_token(conn: Connection, token: str, now: datetime) -> User | None:
    """The token's user; None when unknown, expired, revoked, or the user is disabled."""
    if not token:
        return None
    row = conn.execute(_BY_TOKEN, {"token_hash": token_hash(token)}).first()
    if row is None or row.revoked or not row.active:
        return None
    expires_at = from_db(row.expires_at)
    if expires_at is None or to_utc(now) >= expires_at:
        return None
    return user_from_row(row)


def revoke_token(conn: Connection, token: str) -> bool:
    """Revoke one token (logout); True when it existed."""
    result = conn.execute(
        update(api_tokens).where(api_tokens.c.token_hash == token_hash(token)).values(revoked=True)
    )
    return result.rowcount > 0
