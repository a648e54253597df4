"""What the collections pages share: form fields read and checked, the zone times are typed and
shown in, and the two answers a form gets besides its page — back to the page with what was
done, or a refusal page naming what was wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from postloan.access import User
from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError, RefusedError
from postloan.inputs import parse_amount_text, parse_business_date, parse_row_id
from postloan.policy import Policy
from postloan.store.values import as_utc
from postloan.web.pages import render_page


def zone_of(policy: Policy) -> ZoneInfo:
    """The default jurisdiction's zone: contact times are entered and shown in it."""
    return ZoneInfo(policy.contact.rules_for(None).timezone)


def local_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """A stored instant (UTC) as the wall-clock time in `zone`."""
    moment = as_utc(value)
    return None if moment is None else moment.astimezone(zone)


def today(policy: Policy, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone_of(policy)).date()


def row_key(value: str) -> int | None:
    """A record id from the URL, or None when it cannot be one (the page answers 404)."""
    return parse_row_id(value)


def text(form: FormData, name: str) -> str:
    """A form field's text, trimmed; NUL characters dropped (no browser sends them, and
    PostgreSQL text cannot hold them)."""
    value = form.get(name)
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def form_date(form: FormData, name: str, default: date) -> date:
    """The form's date, or `default` when left empty; a bad one raises naming the field."""
    typed = text(form, name)
    return parse_business_date(typed, name) if typed else default


def form_amount(form: FormData, name: str = "amount") -> int:
    """The form's amount in minor units; a bad one raises `InputError` naming the field."""
    return parse_amount_text(text(form, name), name)


def back(url: str, done: str) -> RedirectResponse:
    """After a form: to the page again, saying what was done (`?done=`)."""
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def refused(request: Request, user: User, status: int, message: str) -> HTMLResponse:
    """A refusal page naming what was wrong (the service's message names record and field)."""
    return render_page(
        request, "collections/refused.html", {"message": message}, status_code=status, user=user
    )


T = TypeVar("T")

# A refusal's status on a page, by its kind — the API's too (`api.errors`); first match wins.
_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (RefusedError, 403),
    (InvalidError, 422),
)


def attempt(run: Callable[[], T]) -> tuple[T | None, int, str | None]:
    """Run a service call: (its result, 200, None), or — refused with a domain error —
    (None, the status of its kind, its message naming the record and field)."""
    try:
        return run(), 200, None
    except DomainError as err:
        status = next((status for kind, status in _STATUS if isinstance(err, kind)), 422)
        return None, status, err.message
