"""Authentication and permission dependencies.

The API takes a bearer token (``Authorization: Bearer <token>``); pages send the HttpOnly
session cookie. Both resolve through `postloan.access.tokens.resolve_token`. The cookie is a
credential for reads only: a state-changing request it authenticates must carry the session's
CSRF token too (`postloan.api.csrf`) — checked here, where the cookie becomes a user, so every
route that authenticates is covered. `require(action)` checks the permission matrix
(`postloan.access.permissions.can`) and hands the route the `User`; row-level scope is the
route's job (out-of-scope rows answer 404, never 403).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from postloan.access.permissions import Action, can
from postloan.access.tokens import resolve_token
from postloan.access.users import User
from postloan.api.csrf import check_cookie_write
from postloan.api.errors import Forbidden, Unauthorized

SESSION_COOKIE = "postloan_session"

bearer = HTTPBearer(auto_error=False, description="A token from POST /api/auth/login")


def now() -> datetime:
    return datetime.now(UTC)


# The authentication dependencies are `async def`: FastAPI runs every plain `def` dependency
# in its thread pool, and the hops between threads cost more than a whole 360° view's queries.
# The one that does I/O (the token lookup: one indexed read) blocks the event loop for well
# under a millisecond, and each server worker is one process per core anyway.


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_loop_engine(request: Request) -> Engine:
    """The engine for code running on the event loop (app.state.loop_engine): its pool is
    separate from the thread pool's, so the loop never waits for a connection that only the
    loop could give back."""
    engine: Engine = request.app.state.loop_engine
    return engine


def get_conn(engine: Engine = Depends(get_engine)) -> Iterator[Connection]:
    """A connection for the request, for routes that run in the thread pool; they commit
    what they write. (Its clean-up is scheduled by the event loop, which is why code on the
    loop takes connections from `get_loop_engine` instead.)"""
    with engine.connect() as conn:
        yield conn


def bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    if credentials and credentials.scheme.lower() == "bearer" and credentials.credentials:
        return credentials.credentials
    return None


def request_token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token the request authenticates with: the bearer token, else the session cookie."""
    return bearer_token(credentials) or request.cookies.get(SESSION_COOKIE) or None


def authenticate(
    conn: Connection, request: Request, credentials: HTTPAuthorizationCredentials | None
) -> User:
    """The caller's user from their token, read on `conn` (401 without a valid one). Routes
    that read anyway pass their own connection: one pool checkout per request, not two."""
    sent_bearer = bearer_token(credentials)
    token = sent_bearer or request.cookies.get(SESSION_COOKIE) or None
    if not token:
        raise Unauthorized("authentication required: send a bearer token or the session cookie")
    user = resolve_token(conn, token, now())
    if user is None or not user.active:
        raise Unauthorized("the token is invalid, expired or revoked")
    if sent_bearer is None:  # the cookie, which browsers also send for other sites' requests
        check_cookie_write(request, token)
    return user


async def current_user(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    engine: Engine = Depends(get_loop_engine),
) -> User:
    with engine.connect() as conn:  # (a read: nothing to commit)
        return authenticate(conn, request, credentials)


def require(action: Action | str) -> Callable[..., Awaitable[User]]:
    """A dependency: the authenticated user, if their role may perform `action` (else 403)."""
    wanted = str(action)  # a core `Action` or an area's action (access.permissions)

    async def dependency(user: User = Depends(current_user)) -> User:
        if not can(user.role, wanted):
            raise Forbidden(f"role {user.role} may not {wanted}", code="forbidden")
        return user

    dependency.__name__ = f"require_{str(wanted).replace('.', '_')}"
    return dependency
