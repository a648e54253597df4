"""What an area's workbench pages use: the signed-in user with the page's permission, and the
page rendered in the workbench's frame (navigation, language, CSRF token, messages).

    user, refused = page_gate(request, "ping.view")
    if refused:
        return refused
    return render_page(request, "ping/marks.html", {"rows": rows}, user=user)
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from postloan.access import User, can
from postloan.web.routes import _forbidden, _render, _to_login
from postloan.web.security import current_user, engine

__all__ = ["engine", "page_gate", "render_page"]


def page_gate(request: Request, action: str) -> tuple[User | None, Response | None]:
    """(user, None) when someone is signed in whose role may do `action`; otherwise the
    answer to send instead: the login page, or 403."""
    user = current_user(request)
    if user is None:
        return None, _to_login(request)
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
