"""Login and logout: a bearer token for the API, an HttpOnly session cookie for pages."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from postloan.access import audit
from postloan.access.errors import AuthenticationFailed
from postloan.access.signin import sign_in
from postloan.access.tokens import TOKEN_LIFETIME, TokenKind, issue_token, revoke_token
from postloan.access.users import User
from postloan.api.deps import SESSION_COOKIE, bearer, current_user, get_engine, now, request_token
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.util import NO_NUL

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERROR_RESPONSES)


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


@router.post("/login", response_model=LoginOut)
def login(
    body: LoginIn, request: Request, response: Response, engine: Engine = Depends(get_engine)
) -> LoginOut:
    """Check the password (5 failures lock the account for a while); issue an API token and
    set the session cookie."""
    at = now()
    with engine.connect() as conn:
        try:
            user = sign_in(conn, body.username, body.password, at, via="api")
        except AuthenticationFailed:
            conn.commit()  # the failure count (and any lock) must stick
            raise
        token = issue_token(conn, user.user_id, TokenKind.API, at)
        session = issue_token(conn, user.user_id, TokenKind.SESSION, at)
        conn.commit()
    expires = at + TOKEN_LIFETIME
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(TOKEN_LIFETIME.total_seconds()),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )
    return LoginOut(token=token, expires_at=expires)


@router.post("/logout", response_model=LoggedOut)
def logout(
    request: Request,
    response: Response,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    user: User = Depends(current_user),
    engine: Engine = Depends(get_engine),
) -> LoggedOut:
    """Revoke the token used (bearer and/or session cookie) and clear the cookie."""
    tokens = {request_token(request, credentials), request.cookies.get(SESSION_COOKIE)}
    revoked = 0
    with engine.connect() as conn:
        for token in tokens - {None, ""}:
            assert token is not None
            revoked += int(revoke_token(conn, token))
        audit.record(
            conn, actor=user.username, action="auth.logout", target_type="user",
            target_id=str(user.user_id), detail={}, now=now(),
        )  # fmt: skip
        conn.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
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
