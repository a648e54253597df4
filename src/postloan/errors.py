"""Typed domain errors: what went wrong, in the domain's words, with the field at fault.

Rules and services raise these; every shell maps them once by kind — the API to an HTTP status
(`api.errors`: not found 404, conflict 409, invalid 422, refused 403), the command line to a
message and an exit code. A business area subclasses them (`AgreementNotFound(NotFoundError)`)
and never talks HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base: `message` for people, `field` the input at fault (or None), `code` a stable word
    for programs (default: the kind's)."""

    code = "invalid"

    def __init__(self, message: str, field: str | None = None, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFoundError(DomainError):
    """The thing named does not exist — or lies outside the caller's data scope (the same
    answer, so scope never leaks existence)."""

    code = "not_found"


class ConflictError(DomainError):
    """The thing is not in a state that allows this (already decided, closed, changed since)."""

    code = "conflict"


class InvalidError(DomainError):
    """The request breaks a rule (the message says which)."""

    code = "invalid"


class RefusedError(DomainError):
    """This user may not do this to this thing (e.g. maker-checker: not one's own proposal)."""

    code = "forbidden"
