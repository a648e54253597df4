"""CSRF tokens: one HMAC per session, shared by the API and the workbench.

A browser sends the HttpOnly session cookie with every request to the host — also requests
that another site (or another port of the same host: cookies are not isolated by port, and
SameSite counts it as the same site) makes it send. So the cookie alone may never change
anything: a state-changing request authenticated by the cookie must also carry
``X-CSRF-Token: HMAC-SHA256(secret, "csrf:" + session token)``, a value only pages of this
origin can read. Bearer tokens are not sent by browsers on their own and need no such check.

The secret is `POSTLOAN_WEB_SECRET` when set (needed with several server processes), else
random per process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from fastapi import FastAPI, Request

from postloan.api.errors import Forbidden

SECRET_VAR = "POSTLOAN_WEB_SECRET"
CSRF_HEADER = "X-CSRF-Token"
# Methods that only read (RFC 9110 "safe"); every other method needs the token — a method
# added later is covered without touching this list.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def init_secret(app: FastAPI) -> None:
    """Give `app` its signing secret once (kept if already set)."""
    if getattr(app.state, "web_secret", None):
        return
    configured = os.environ.get(SECRET_VAR)
    app.state.web_secret = configured.encode() if configured else secrets.token_bytes(32)


def csrf_token(app: FastAPI, binding: str) -> str:
    """The CSRF token for a session (or pre-session) token."""
    init_secret(app)
    secret: bytes = app.state.web_secret
    return hmac.new(secret, f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def token_matches(app: FastAPI, binding: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent), csrf_token(app, binding))


def check_cookie_write(request: Request, session: str) -> None:
    """403 unless `request`, authenticated by the session cookie `session`, only reads or
    carries the session's CSRF token in the `X-CSRF-Token` header."""
    if request.method.upper() in SAFE_METHODS:
        return
    if not token_matches(request.app, session, request.headers.get(CSRF_HEADER)):
        raise Forbidden(
            f"a {request.method} authenticated by the session cookie must send the session's "
            f"CSRF token in the {CSRF_HEADER} header (or authenticate with a bearer token)",
            code="csrf_failed",
        )
