"""Web sessions and CSRF protection for the workbench.

The session is the HttpOnly cookie the API also reads (`postloan.api.deps.SESSION_COOKIE`),
holding a `session` token from `postloan.access.tokens.issue_token`.

CSRF: every POST must carry a token (form field `csrf_token` or header `X-CSRF-Token`) equal to
HMAC-SHA256(secret, session token) — the same token the API asks of cookie-authenticated writes
(`postloan.api.csrf`, which holds the secret). Before login (the login form itself) the token
is bound to a random pre-session cookie instead. The secret is `POSTLOAN_WEB_SECRET` when set
(needed with several server processes), else random per process — tokens then last as long as
the process.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import Engine

from postloan.access import User, resolve_token
from postloan.api.csrf import CSRF_HEADER, csrf_token, init_secret, token_matches

try:  # the API owns the cookie name; fall back to the same literal while it is absent
    from postloan.api.deps import SESSION_COOKIE
except ImportError:  # pragma: no cover
    SESSION_COOKIE = "postloan_session"

PRE_SESSION_COOKIE = "postloan_presession"
CSRF_FIELD = "csrf_token"


def now() -> datetime:
    return datetime.now(UTC)


def engine(request: Request) -> Engine:
    """The engine for the calling code: on the event loop (async pages) its own small pool,
    in the thread pool (plain pages) the main one — so the loop never waits for a connection
    that only it could give back (see api.deps)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        value: Engine = request.app.state.engine
        return value
    loop_engine: Engine = request.app.state.loop_engine
    return loop_engine


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def current_user(request: Request) -> User | None:
    """The logged-in user (cached on the request), or None."""
    if hasattr(request.state, "web_user"):
        cached: User | None = request.state.web_user
        return cached
    token = session_token(request)
    user = None
    if token:
        with engine(request).connect() as conn:
            user = resolve_token(conn, token, now())
    request.state.web_user = user if user is not None and user.active else None
    resolved: User | None = request.state.web_user
    return resolved


def _binding(request: Request) -> str | None:
    """What the CSRF token is bound to: the session token, else the pre-session cookie."""
    return session_token(request) or request.cookies.get(PRE_SESSION_COOKIE) or None


def csrf_for(request: Request, binding: str | None = None) -> str:
    bound = binding if binding is not None else _binding(request)
    return csrf_token(request.app, bound) if bound else ""


async def csrf_ok(request: Request) -> bool:
    """True when the request's CSRF token matches its session (or pre-session) binding."""
    bound = _binding(request)
    if not bound:
        return False
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    return token_matches(request.app, bound, sent)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PRE_SESSION_COOKIE",
    "SESSION_COOKIE",
    "csrf_for",
    "csrf_ok",
    "current_user",
    "engine",
    "init_secret",
    "is_https",
    "now",
    "session_token",
]
