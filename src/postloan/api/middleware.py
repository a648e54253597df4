"""The HTTP guard around the whole app (API, pages, static files, docs): security headers on
every response, a request id, and no internals in any unexpected failure.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware, which would copy every response
body through a task): it only edits the response's start message, so it costs microseconds
per request.

- Headers: a Content-Security-Policy that allows scripts and styles from this origin only (no
  inline script, no CDN), no framing (`frame-ancestors 'none'` and `X-Frame-Options: DENY`
  for old browsers), `nosniff`, `Referrer-Policy: same-origin` (the language switch reads the
  referrer of our own pages; no URL leaves for another site), and `Cache-Control: no-store`
  on everything but static files: API answers and pages carry personal data, which must not
  stay in browser or proxy caches. A header the route set itself is kept.
- Request id: `X-Request-ID` on every response; also in `request.state.request_id`.
- Failures: an exception no handler took is logged here with its traceback and the request
  id, and the client gets a generic 500 — JSON for /api, a page otherwise — naming only the
  request id, so an operator can find the log entry.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("postloan.http")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI's icons are data: URIs in its stylesheet
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
# Static files hold no personal data: browsers may keep them, revalidating (ETag) each time.
STATIC_PREFIXES = ("/static/", "/docs/assets/")
NO_STORE = "no-store"
REVALIDATE = "no-cache"
HSTS = "max-age=31536000"
REQUEST_ID_HEADER = "x-request-id"


def new_request_id() -> str:
    return secrets.token_hex(8)


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state")
    value = state.get("request_id") if isinstance(state, dict) else None
    return value if isinstance(value, str) else None


def _with_defaults(
    headers: Iterable[tuple[bytes, bytes]], defaults: Iterable[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    """`headers` plus each default the response did not set itself."""
    merged = list(headers)
    present = {name.lower() for name, _ in merged}
    merged.extend(
        (name.encode(), value.encode()) for name, value in defaults if name.encode() not in present
    )
    return merged


def response_defaults(scope: Scope, request_id: str) -> list[tuple[str, str]]:
    path: str = scope.get("path", "")
    static = path.startswith(STATIC_PREFIXES)
    defaults = [*SECURITY_HEADERS, ("cache-control", REVALIDATE if static else NO_STORE)]
    if scope.get("scheme") == "https":
        defaults.append(("strict-transport-security", HSTS))
    defaults.append((REQUEST_ID_HEADER, request_id))
    return defaults


def is_api(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    return path.startswith("/api/") or path == "/api" or path == "/openapi.json"


def internal_error_body(scope: Scope, request_id: str) -> tuple[bytes, str]:
    """The generic 500 answer: JSON for the API (the one error shape), a page otherwise."""
    if is_api(scope):
        detail = {
            "code": "internal",
            "message": f"internal error; the server log has the details under request id "
            f"{request_id}",
            "field": None,
            "request_id": request_id,
        }
        return json.dumps({"error": detail}).encode(), "application/json"
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>出错了 · Error · postloan</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main><section class="card"><h1>出错了 · Something went wrong</h1>
<p class="error" role="alert">服务器内部错误，请稍后再试；如问题持续，请向管理员提供请求编号
{request_id}。</p>
<p class="error">An internal error occurred. Please try again; if it persists, give the
operator request id {request_id}.</p>
<p><a href="/">返回首页 · Home</a></p></section></main></body></html>
"""
    return page.encode(), "text/html; charset=utf-8"


class HttpGuard:
    """Security headers and a request id on every response; unexpected errors → generic 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        defaults = response_defaults(scope, request_id)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _with_defaults(message.get("headers", ()), defaults)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception(
                "unhandled error in %s %r (request id %s)",
                scope.get("method"),
                scope.get("path"),
                request_id,
            )
            if started:  # too late for an error answer: the server drops the connection
                raise
            body, content_type = internal_error_body(scope, request_id)
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", content_type.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
