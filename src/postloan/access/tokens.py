"""Bearer tokens for the API and web sessions: random, stored only as their SHA-256.

One API login issues two tokens, the bearer token and the session cookie's
(`issue_login_tokens`); they share their user and their `issued_at` instant, which is what ties
them together: logging out with either revokes both (`revoke_login`), so a logout through the
API does not leave the cookie it set alive in the browser.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, and_, bindparam, select, update

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


def issue_login_tokens(
    conn: Connection, user_id: int, kinds: tuple[TokenKind, ...], now: datetime
) -> dict[TokenKind, str]:
    """The tokens of one login, one per kind, issued at the same instant (`revoke_login`)."""
    return {kind: issue_token(conn, user_id, kind, now) for kind in kinds}


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


def revoke_login(conn: Connection, token: str) -> int:
    """Revoke the token and every token issued with it by the same login (same user, same
    instant); the number of tokens revoked (0 when the token is unknown)."""
    hashed = token_hash(token)
    issued = select(api_tokens.c.user_id, api_tokens.c.issued_at).where(
        api_tokens.c.token_hash == hashed
    )
    same_login = and_(
        api_tokens.c.user_id == issued.with_only_columns(api_tokens.c.user_id).scalar_subquery(),
        api_tokens.c.issued_at
        == issued.with_only_columns(api_tokens.c.issued_at).scalar_subquery(),
    )
    result = conn.execute(
        update(api_tokens).where(same_login, api_tokens.c.revoked.is_(False)).values(revoked=True)
    )
    return result.rowcount
