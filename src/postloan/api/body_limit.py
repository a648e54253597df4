"""Request body limits, enforced before a body is read into memory.

Without a limit a single request could make the server hold any amount of data (a 200 MB
login body took a worker from 224 to 758 MB). The limit is checked twice:

- against `Content-Length`, before any byte is read: the client gets 413 at once;
- while the body streams in (chunked uploads have no length), by counting: past the limit the
  next read raises `BodyTooLarge`, a 413 HTTP error, so nothing reads further.

Contract files are legitimately large (a customers CSV can be hundreds of MB) and go to
/api/imports/, which streams them to disk: it gets its own limit, `POSTLOAN_MAX_UPLOAD_MB`
(default 512). Every other request — JSON, forms, the policy — gets `POSTLOAN_MAX_BODY_KB`
(default 1024, 1 MB).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UPLOAD_LIMIT_VAR = "POSTLOAN_MAX_UPLOAD_MB"
BODY_LIMIT_VAR = "POSTLOAN_MAX_BODY_KB"
DEFAULT_UPLOAD_MB = 512
DEFAULT_BODY_KB = 1024
UPLOAD_PREFIX = "/api/imports/"


def _positive_int(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{variable} must be a positive whole number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class BodyLimits:
    """Bytes a request body may have: `uploads` under /api/imports/, `other` elsewhere."""

    other: int = DEFAULT_BODY_KB * 1024
    uploads: int = DEFAULT_UPLOAD_MB * 1024 * 1024

    @classmethod
    def from_env(cls) -> BodyLimits:
        return cls(
            other=_positive_int(BODY_LIMIT_VAR, DEFAULT_BODY_KB) * 1024,
            uploads=_positive_int(UPLOAD_LIMIT_VAR, DEFAULT_UPLOAD_MB) * 1024 * 1024,
        )

    def for_path(self, path: str) -> int:
        return self.uploads if path.startswith(UPLOAD_PREFIX) else self.other


def _readable(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised by the counting receive: an HTTP error, so FastAPI's body parsing passes it on
    (it turns other exceptions into 400) and the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request body is larger than this route accepts ({_readable(limit)}); "
            f"uploads of contract files go to /api/imports/ (limit set by {UPLOAD_LIMIT_VAR})",
            headers={"Connection": "close"},  # the unread rest must not be taken as a request
        )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we get here
    return None


async def _send_413(send: Send, limit: int) -> None:
    """The 413 answer where no handler can give it (before the app runs)."""
    message = BodyTooLarge(limit).detail
    body = json.dumps({"error": {"code": "too_large", "message": message, "field": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuses request bodies over the path's limit with 413, before reading them."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope.get("path", ""))
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _send_413(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await _send_413(send, limit)
