"""Typed domain errors and the one JSON error shape of the API.

Every error answer is ``{"error": {"code": ..., "message": ..., "field": ...}}``: `code` is a
stable machine word, `message` is for people, `field` names the request field at fault (or is
null). Bad input is never a 500: request validation names the field (422), policies name the
parameter (422), unreadable uploads are 400. No message shows where the server keeps files:
`public_message` cuts server paths down to the file's name (an upload's temporary folder, the
data directory, the installation) and drops tracebacks. Unexpected errors are answered by
`api.middleware.HttpGuard` (a generic 500 with a request id; the details go to the log).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from pathlib import Path, PurePath
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from postloan.access.errors import (
    AccountLocked,
    AuthenticationFailed,
    ConsentRequired,
    PermissionDenied,
    ReasonRequired,
    UnknownUser,
    UserExists,
    WeakPassword,
)
from postloan.api.middleware import internal_error_body
from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError, RefusedError
from postloan.imports.service import ImportFileError
from postloan.policy import PolicyError

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None
    problems: list[dict[str, str]] | None = None
    request_id: str | None = None  # on 500s: where the server log has the details


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """A domain error with its HTTP status."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        problems: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems
        if code:
            self.code = code


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class Invalid(ApiError):
    status = 422
    code = "invalid"


# Documented on every route, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "Not authenticated"),
        (403, "Not permitted for this role"),
        (404, "Not found (or outside the user's data scope)"),
        (409, "Conflict"),
        (422, "Invalid input; `field` names it"),
    )
}

# A domain error's HTTP status, by kind (postloan.errors); the first match wins.
_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (RefusedError, 403),
    (InvalidError, 422),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


def _server_roots() -> list[str]:
    """Folders whose paths would tell a client about the server's layout."""
    package_home = Path(__file__).resolve().parents[2]  # src/ (or site-packages/)
    roots = {tempfile.gettempdir(), sys.prefix, sys.base_prefix, sys.exec_prefix,
             str(package_home), str(Path.home()), os.getcwd()}  # fmt: skip
    roots |= {str(Path(r).resolve()) for r in list(roots)}
    return sorted((r.rstrip("/") for r in roots if len(r.rstrip("/")) > 1), key=len, reverse=True)


# A root, then the rest of its path — or nothing, if the root is a whole word ("/usr", not
# the start of "/usrdata").
_SERVER_PATH = re.compile(
    "(?:"
    + "|".join(re.escape(r) for r in _server_roots())
    + r")(?:/[^\s'\"`,;:()\[\]<>]*|(?![\w.-]))"
)
_TRACEBACK = "Traceback (most recent call last)"


def public_message(text: str) -> str:
    """`text` without server paths (each cut to its last part, the file's name) or tracebacks."""
    if _TRACEBACK in text:
        return "the request failed; the server log has the details"
    return _SERVER_PATH.sub(lambda m: PurePath(m.group(0)).name or "(server path)", text)


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    problems: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    detail: dict[str, Any] = {"code": code, "message": public_message(message), "field": field}
    if problems is not None:
        detail["problems"] = [
            {k: public_message(v) if isinstance(v, str) else v for k, v in p.items()}
            for p in problems
        ]
    return JSONResponse({"error": detail}, status_code=status, headers=headers)


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str | None:
    """("query", "page_size") -> "page_size"; ("body", "to") -> "to";
    ("body", "rules", 0, "x") -> "rules[0].x"."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or None


def _validation_message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.problems, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        problems = [
            {
                "field": _field_name(e.get("loc", ())) or "(request)",
                "reason": _validation_message(e),
            }
            for e in errors
        ]
        first = problems[0] if problems else {"field": "(request)", "reason": "invalid request"}
        field = first["field"] if first["field"] != "(request)" else None
        message = f"{first['field']}: {first['reason']}" if field else first["reason"]
        return error_response(422, "invalid", message, field, problems)

    @app.exception_handler(PolicyError)
    async def _policy(_request: Request, exc: PolicyError) -> JSONResponse:
        problems = [{"field": p.parameter, "reason": p.reason} for p in exc.problems]
        first = exc.problems[0] if exc.problems else None
        return error_response(
            422,
            "invalid_policy",
            str(first) if first else "invalid policy",
            first.parameter if first else None,
            problems,
        )

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        """Every rule's error, mapped once by its kind (postloan.errors)."""
        status = next((status for kind, status in _DOMAIN_STATUS if isinstance(exc, kind)), 422)
        return error_response(status, exc.code, exc.message, exc.field)

    @app.exception_handler(ImportFileError)
    async def _import_file(_request: Request, exc: ImportFileError) -> JSONResponse:
        return error_response(400, "unreadable_file", str(exc), "file")

    access_errors: dict[type[Exception], tuple[int, str, str | None]] = {
        AccountLocked: (401, "account_locked", None),
        AuthenticationFailed: (401, "authentication_failed", None),
        PermissionDenied: (403, "forbidden", None),
        ConsentRequired: (403, "consent_required", None),
        ReasonRequired: (422, "reason_required", "reason"),
        WeakPassword: (422, "weak_password", "password"),
        UserExists: (409, "user_exists", "username"),
        UnknownUser: (404, "not_found", None),
    }

    async def _access(_request: Request, exc: Exception) -> JSONResponse:
        for kind, (status, code, field) in access_errors.items():
            if isinstance(exc, kind):
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                return error_response(status, code, str(exc), field, None, headers)
        return error_response(400, "bad_request", str(exc))

    for kind in access_errors:
        app.add_exception_handler(kind, _access)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, str(exc.detail), None, None, headers)

    # The last resort, for an error HttpGuard did not catch (normally it answers them all).
    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", None) or "-"
        log.error("unexpected error (request id %s)", request_id, exc_info=exc)
        body, media_type = internal_error_body(request.scope, request_id)
        return Response(body, status_code=500, media_type=media_type)
