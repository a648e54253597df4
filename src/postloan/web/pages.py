"""What an area's workbench pages use: the signed-in user with the page's permission, and the
page rendered in the workbench's frame (navigation, language, CSRF token, messages).

    user, refused = page_gate(request, "ping.view")
    if refused:
        return refused
    return render_page(request, "ping/marks.html", {"rows": rows}, user=user)

A form's POST handler asks `post_gate` (signed in, CSRF token valid, action granted); a record
missing or outside the user's scope is `not_found` (the workbench's 404 page, the same for
both). The rest: the store's `engine`, the request's language (`lang_of`), the policy in force
(`policy_of`), the current instant (`now`), whether htmx asked (`is_htmx`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from postloan.access import Action, User, can
from postloan.api.routes.policy import effective_policy
from postloan.policy import Policy
from postloan.web.routes import _forbidden, _is_htmx, _not_found, _render, _to_login, lang_of
from postloan.web.security import csrf_ok, current_user, engine, now

__all__ = [
    "current_user",
    "engine",
    "is_htmx",
    "lang_of",
    "not_found",
    "now",
    "page_gate",
    "policy_of",
    "post_gate",
    "render_page",
    "to_login",
]


def page_gate(request: Request, action: Action | str) -> tuple[User | None, Response | None]:
    """(user, None) when someone is signed in whose role may do `action`; otherwise the
    answer to send instead: the login page, or 403."""
    user = current_user(request)
    if user is None:
        return None, _to_login(request)
    if not can(user.role, action):
        return user, _forbidden(request, user)
    return user, None


async def post_gate(request: Request, action: Action | str) -> tuple[User | None, Response | None]:
    """`page_gate` for a form's POST: signed in, the CSRF token valid, and the action granted —
    in that order (a forged request learns nothing about the permission)."""
    user = current_user(request)
    if user is None:
        return None, _to_login(request)
    if not await csrf_ok(request):
        return user, _forbidden(request, user)
    if not can(user.role, action):
        return user, _forbidden(request, user)
    return user, None


def render_page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None,
    status_code: int = 200,
) -> HTMLResponse:
    return _render(request, name, context, status_code=status_code, user=user)


def not_found(request: Request, user: User | None) -> HTMLResponse:
    """The 404 page: for a record that does not exist and for one outside the user's scope
    alike (`access.scope.NotFoundError`), so a page never tells that it exists."""
    return _not_found(request, user)


def to_login(request: Request) -> Response:
    """To the login page, coming back here after (htmx: by an `HX-Redirect`)."""
    return _to_login(request)


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it then swaps a fragment instead of a whole page)."""
    return _is_htmx(request)


def policy_of(request: Request) -> Policy:
    """The policy in force (the API's and the command line's too)."""
    return effective_policy(request)[0]
