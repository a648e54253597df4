"""Login and logout: a bearer token for the API, an HttpOnly session cookie for pages.

The password check (Argon2: tens of milliseconds of CPU and 64 MiB) runs in a worker thread,
at most `HASHING_THREADS` at a time per server process, never on the event loop — argon2-cffi
releases the GIL, so requests on the loop are served meanwhile. Failed sign-ins are limited
per client address and per username (`access.ratelimit`): over a limit the answer is 429 with
Retry-After, before any hashing. The web login (`web.routes`) signs in through the same
`sign_in_off_loop`, so both doors share the limits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from postloan.access import audit
from postloan.access.errors import AuthenticationFailed, LoginThrottled
from postloan.access.ratelimit import Limiter, LoginLimiter, Refused
from postloan.access.shared_ratelimit import SharedLoginLimiter
from postloan.access.signin import record_throttled, sign_in
from postloan.access.tokens import TOKEN_LIFETIME, TokenKind, issue_login_tokens, revoke_login
from postloan.access.users import User
from postloan.api.deps import SESSION_COOKIE, bearer, current_user, get_engine, now, request_token
from postloan.api.errors import ERROR_RESPONSES, ErrorBody, error_response
from postloan.api.util import NO_NUL

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)

# Password checks in flight per server process; more wait (on the loop, holding no thread).
# Two keep a core free for everything else and bound the memory to 2 x 64 MiB.
HASHING_THREADS = 2


# `postloan serve --workers N` sets it to "shared": the workers count sign-ins in the store.
LIMITS_VAR = "POSTLOAN_LOGIN_LIMITS"


def login_limiter(app: FastAPI) -> Limiter:
    """The app's login rate limiter (made on first use; a test may put its own in place): in
    the process's memory, or in the store when several server processes share the limits."""
    limiter: Limiter | None = getattr(app.state, "login_limiter", None)
    if limiter is None:
        shared = os.environ.get(LIMITS_VAR, "") == "shared"
        limiter = SharedLoginLimiter(app.state.engine) if shared else LoginLimiter()
        app.state.login_limiter = limiter
    return limiter


def _hashing_slots(app: FastAPI) -> anyio.CapacityLimiter:
    slots: anyio.CapacityLimiter | None = getattr(app.state, "hashing_slots", None)
    if slots is None:  # made on the event loop (anyio needs one); the loop has one thread
        slots = app.state.hashing_slots = anyio.CapacityLimiter(HASHING_THREADS)
    return slots


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class SignedIn:
    user: User
    tokens: dict[TokenKind, str]
    at: datetime


def _sign_in_and_issue(
    engine: Engine, username: str, password: str, *, via: str, client: str,
    kinds: tuple[TokenKind, ...],
) -> SignedIn:  # fmt: skip
    at = now()
    with engine.connect() as conn:
        try:
            user = sign_in(conn, username, password, at, via=via, client=client)
        except AuthenticationFailed:
            conn.commit()  # the failure count (and any lock) must stick
            raise
        tokens = issue_login_tokens(conn, user.user_id, kinds, at)
        conn.commit()
    return SignedIn(user, tokens, at)


def _record_throttled(engine: Engine, username: str, *, via: str, client: str, scope: str) -> None:
    with engine.begin() as conn:
        record_throttled(conn, username, now(), via=via, client=client, scope=scope)


async def sign_in_off_loop(
    request: Request, username: str, password: str, *, via: str, kinds: tuple[TokenKind, ...]
) -> SignedIn:
    """Sign in (audited) and issue the login's tokens, off the event loop. Raises
    `LoginThrottled` over a rate limit, `AuthenticationFailed` (one message for every reason)
    otherwise."""
    app: FastAPI = request.app
    engine: Engine = app.state.engine  # the thread pool's engine: this runs in a thread
    client = client_address(request)
    limiter = login_limiter(app)
    # off the loop: the shared limiter writes to the store
    admitted = await anyio.to_thread.run_sync(limiter.admit, client, username)
    if isinstance(admitted, Refused):
        if admitted.first:
            await anyio.to_thread.run_sync(
                partial(_record_throttled, engine, username, via=via, client=client,
                        scope=admitted.scope)
            )  # fmt: skip
        raise LoginThrottled(admitted.retry_after, admitted.scope)
    signed = await anyio.to_thread.run_sync(
        partial(_sign_in_and_issue, engine, username, password, via=via, client=client,
                kinds=kinds),
        limiter=_hashing_slots(app),
    )  # fmt: skip
    await anyio.to_thread.run_sync(limiter.forgive, admitted)
    return signed


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=1024, pattern=NO_NUL)


class LoginOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`")
    expires_at: datetime


class Me(BaseModel):
    user_id: int
    username: str
    role: str
    branch_id: str | None
    team: str | None
    display_name: str | None


class LoggedOut(BaseModel):
    revoked: int


LOGIN_RESPONSES: dict[int | str, dict[str, object]] = {
    429: {"model": ErrorBody, "description": "Too many failed sign-ins; retry after Retry-After"}
}


@router.post("/login", response_model=LoginOut, responses=LOGIN_RESPONSES)
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut | Response:
    """Check the password (5 failures lock the account for a while; failed sign-ins are
    rate-limited per address and per username: 429); issue an API token and set the session
    cookie. Every refusal answers the same 401, whatever the account's state."""
    try:
        signed = await sign_in_off_loop(
            request, body.username, body.password, via="api",
            kinds=(TokenKind.API, TokenKind.SESSION),
        )  # fmt: skip
    except LoginThrottled as throttled:
        return error_response(
            429, "rate_limited", str(throttled), None, None,
            {"Retry-After": str(throttled.retry_after)},
        )  # fmt: skip
    response.set_cookie(
        SESSION_COOKIE,
        signed.tokens[TokenKind.SESSION],
        max_age=int(TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return LoginOut(token=signed.tokens[TokenKind.API], expires_at=signed.at + TOKEN_LIFETIME)


@router.post("/logout", response_model=LoggedOut)
def logout(
    request: Request,
    response: Response,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    user: User = Depends(current_user),
    engine: Engine = Depends(get_engine),
) -> LoggedOut:
    """End the login: revoke the token used, the session cookie sent, and the other token
    the same login issued (an API login's cookie, even when the cookie is not sent); clear
    the cookie."""
    tokens = {request_token(request, credentials), request.cookies.get(SESSION_COOKIE)}
    revoked = 0
    with engine.connect() as conn:
        for token in sorted(t for t in tokens if t):
            revoked += revoke_login(conn, token)
        audit.record(
            conn, actor=user.username, action="auth.logout", target_type="user",
            target_id=str(user.user_id), detail={"revoked": revoked}, now=now(),
        )  # fmt: skip
        conn.commit()
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return LoggedOut(revoked=revoked)


@router.get("/me", response_model=Me)
def me(user: User = Depends(current_user)) -> Me:
    """Who the token belongs to."""
    return Me(
        user_id=user.user_id,
        username=user.username,
        role=str(user.role),
        branch_id=user.branch_id,
        team=user.team,
        display_name=user.display_name,
    )
