"""The workbench's pages (server-rendered Jinja2; htmx for partial updates)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import BaseLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from postloan import areas
from postloan.access import (
    Action,
    AuthenticationFailed,
    PermissionDenied,
    ReasonRequired,
    User,
    can,
    reveal,
    scope_for,
)
from postloan.access.errors import LoginThrottled
from postloan.access.reveal import REVEALABLE_FIELDS, is_revealable
from postloan.access.tokens import TokenKind, revoke_login
from postloan.api.routes.auth import sign_in_off_loop
from postloan.api.routes.policy import effective_policy_and_version
from postloan.inputs import parse_row_id
from postloan.runs.liveness import fail_abandoned_runs
from postloan.views.customer_search import FullIdentifierQuery
from postloan.web import data
from postloan.web.charts import CAPTIONS, all_charts
from postloan.web.customer_page import extra_rows, field_dom_id, history_grid, reason_minimum
from postloan.web.customer_page import labels as customer_page_labels
from postloan.web.i18n import (
    LANG_COOKIE,
    LANGS,
    bucket_label,
    class_label,
    normalise,
    role_name,
    translate,
)
from postloan.web.security import (
    CSRF_FIELD,
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    csrf_for,
    csrf_ok,
    current_user,
    engine,
    is_https,
    now,
    session_token,
)

TEMPLATES = Path(__file__).parent / "templates"
SESSION_MAX_AGE = 12 * 3600


class _AreaTemplates(BaseLoader):
    """The workbench's templates, then each registered area's `templates` folder (an area's
    pages name theirs `<area>/<page>.html`); the search path follows the registry."""

    def __init__(self) -> None:
        self._version = -1
        self._loader = FileSystemLoader(TEMPLATES)

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        if self._version != areas.version():
            folders = [a.templates for a in areas.areas() if a.templates is not None]
            self._loader = FileSystemLoader([TEMPLATES, *folders])
            self._version = areas.version()
        return self._loader.get_source(environment, template)


_env = Environment(
    loader=_AreaTemplates(),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship inside the package: no stat() of each file per render
)
templates = Jinja2Templates(env=_env)
router = APIRouter(include_in_schema=False)


def _money(minor: int | None) -> str:
    if minor is None:
        return "-"
    sign = "-" if minor < 0 else ""
    yuan, fen = divmod(abs(int(minor)), 100)
    return f"{sign}{yuan:,}.{fen:02d}"


def _percent(ratio: float) -> str:
    return f"{100 * ratio:.2f}%"


def lang_of(request: Request) -> str:
    return normalise(request.cookies.get(LANG_COOKIE))


def _render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    user: User | None = None,
) -> HTMLResponse:
    lang = lang_of(request)
    ctx: dict[str, Any] = {
        "lang": lang,
        "other_lang": "en" if lang == "zh-CN" else "zh-CN",
        "t": lambda key, **v: translate(lang, key, **v),
        "role_name": lambda role: role_name(lang, role),
        "bucket_label": lambda b: bucket_label(lang, b),
        "class_label": lambda c: class_label(lang, c),
        "money": _money,
        "percent": _percent,
        "user": user,
        "can": (lambda action: can(user.role, action)) if user else (lambda action: False),
        "area_nav": [  # the business areas' links this user may follow (postloan.areas)
            entry
            for entry in areas.nav_entries()
            if user and any(can(user.role, action) for action in entry.actions)
        ],
        "csrf": csrf_for(request),
        "csrf_field": CSRF_FIELD,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target)}"
    if _is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _forbidden(request: Request, user: User | None, key: str = "error.forbidden") -> HTMLResponse:
    return _render(request, "error.html", {"message_key": key}, status_code=403, user=user)


def _not_found(request: Request, user: User | None) -> HTMLResponse:
    return _render(request, "error.html", {"message_key": "error.not_found"}, 404, user=user)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# --- login, logout, language ---------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    existing = request.cookies.get(PRE_SESSION_COOKIE)
    fresh = not existing
    binding = existing or secrets.token_urlsafe(24)
    response = _render(
        request,
        "login.html",
        {"next": _safe_next(next), "csrf": csrf_for(request, binding), "error_key": None},
    )
    if fresh:
        response.set_cookie(
            PRE_SESSION_COOKIE,
            binding,
            httponly=True,
            samesite="strict",
            secure=is_https(request),
            path="/",
        )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    if not await csrf_ok(request):
        return _forbidden(request, None)
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or "/"))
    refused: tuple[str, int, dict[str, str]] | None = None
    try:  # the Argon2 check runs in a worker thread, rate-limited (api.routes.auth)
        signed = await sign_in_off_loop(
            request, username[:64], password[:1024], via="web", kinds=(TokenKind.SESSION,)
        )
    except LoginThrottled as throttled:
        retry = str(throttled.retry_after)
        refused = ("login.throttled", 429, {"Retry-After": retry})
    except AuthenticationFailed:  # one message, whatever the account's state
        refused = ("login.failed", 401, {})
    if refused is not None:
        error_key, status, headers = refused
        page = _render(
            request,
            "login.html",
            {"next": target, "error_key": error_key, "username": username},
            status_code=status,
        )
        page.headers.update(headers)
        return page
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.tokens[TokenKind.SESSION],
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")
    return response


def _end_login(store: Engine, token: str) -> None:
    with store.begin() as conn:
        revoke_login(conn, token)


@router.post("/logout")
async def logout(request: Request) -> Response:
    if not await csrf_ok(request):
        return _forbidden(request, current_user(request))
    token = session_token(request)
    if token:  # the whole login (an API login's bearer token ends with its cookie), written
        # from a thread: a write may wait for the store's lock, the event loop must not
        await run_in_threadpool(_end_login, request.app.state.engine, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
def switch_language(request: Request, code: str) -> Response:
    lang = normalise(code)
    if lang not in LANGS:  # pragma: no cover - normalise always answers a supported one
        lang = LANGS[0]
    referer = request.headers.get("referer")
    target = "/"
    if referer:
        parts = urlsplit(referer)
        if parts.netloc == request.url.netloc:
            target = _safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/", httponly=True
    )
    return response


# --- dashboard -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return _to_login(request)
    lang = lang_of(request)
    context: dict[str, Any] = {"dashboard": None, "charts": None, "customers": None}
    scope = scope_for(user.role, Action.DASHBOARD_VIEW)
    if scope is not None:
        with engine(request).connect() as conn:
            board = data.dashboard(conn, user)
        context.update(
            dashboard=board,
            scope_key=f"scope.{scope.value}",
            charts=all_charts(board, lang) if board.as_of else None,
            captions=CAPTIONS,
        )
    elif can(user.role, Action.CUSTOMER_SEARCH):
        with engine(request).connect() as conn:
            context["customers"] = data.search_customers(conn, user, "")
        search_scope = scope_for(user.role, Action.CUSTOMER_SEARCH)
        context["scope_key"] = f"scope.{search_scope.value}" if search_scope else None
    return _render(request, "dashboard.html", context, user=user)


# --- customers -----------------------------------------------------------------------------


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request, q: str = "") -> Response:
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not can(user.role, Action.CUSTOMER_SEARCH):
        return _forbidden(request, user)
    may_lookup = can(user.role, Action.CUSTOMER_REVEAL)
    notice_key = None
    with engine(request).connect() as conn:
        try:
            results = data.search_customers(conn, user, q)
        except FullIdentifierQuery:  # the API's 422 `q`: finding who holds it is a reveal
            results = []
            notice_key = "cust.identifier_lookup" if may_lookup else "cust.identifier_refused"
    context = {"q": q, "results": results, "limit": data.SEARCH_LIMIT,
               "notice_key": notice_key, "may_lookup": may_lookup}  # fmt: skip
    if _is_htmx(request) and request.headers.get("HX-Target") == "results":
        return _render(request, "partials/customer_results.html", context, user=user)
    return _render(request, "customers.html", context, user=user)


@router.post("/customers/lookup", response_class=HTMLResponse)
async def customer_lookup(request: Request) -> Response:
    """Find the customers holding a whole mobile or ID number — a reveal, like the API's
    `POST /api/customers/lookup`: `customer.reveal`, the policy's reason minimum, audited.
    htmx swaps the results in; without htmx the search page is rendered with them."""
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not await csrf_ok(request) or not can(user.role, Action.CUSTOMER_REVEAL):
        return _forbidden(request, user)
    form = await request.form()
    identifier, reason = str(form.get("identifier") or ""), str(form.get("reason") or "")
    policy, _, _ = effective_policy_and_version(request)
    context: dict[str, Any] = {
        "q": "",
        "results": [],
        "limit": data.SEARCH_LIMIT,
        "may_lookup": True,
        "identifier": "",
        "lookup_reason": reason,
    }
    try:
        with engine(request).begin() as conn:
            context["results"] = data.lookup_customers(
                conn, user, identifier, reason, now(), policy
            )
        context["notice_key"] = "lookup.done"
    except ReasonRequired:
        context.update(identifier=identifier, notice_key="reveal.reason_required",
                       notice_params=reason_minimum(policy))  # fmt: skip
    except PermissionDenied:
        return _forbidden(request, user)
    except ValueError:  # not a whole mobile or ID number
        context.update(identifier=identifier, notice_key="lookup.invalid")
    if _is_htmx(request):
        return _render(request, "partials/customer_results.html", context, user=user)
    return _render(request, "customers.html", context, user=user)


LEDGER_SECTIONS = ("schedules", "statements", "payments")


def _customer_view(
    request: Request, user: User, customer_id: str, *, ledger: bool = False
) -> data.Customer360 | None:
    policy, _, version = effective_policy_and_version(request)
    with engine(request).connect() as conn:
        return data.customer_360(
            conn, user, customer_id, policy, policy_version=version,
            cache=request.app.state.views, ledger=ledger,
        )  # fmt: skip


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(request: Request, customer_id: str) -> Response:
    # On the event loop, like the API's 360° route (api.deps explains why).
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not can(user.role, Action.CUSTOMER_VIEW):
        return _forbidden(request, user)
    view = _customer_view(request, user, customer_id)
    if view is None:  # unknown or out of scope: not told apart
        return _not_found(request, user)
    lang = lang_of(request)
    with engine(request).connect() as conn:  # the areas' parts of the page (Area.customer_panel)
        panels = [
            panel
            for hook in areas.customer_panel_hooks()
            if (panel := hook(conn, user, customer_id, lang)) is not None
        ]
    return _render(
        request,
        "customer.html",
        {
            "area_panels": panels,
            "view": view,
            "c": view.customer,
            "revealable": REVEALABLE_FIELDS if can(user.role, Action.CUSTOMER_REVEAL) else (),
            "extras": extra_rows(view, effective_policy_and_version(request)[0], user),
            "field_dom_id": field_dom_id,
            "event_limit": data.EVENT_LIMIT,
            "L": customer_page_labels(lang),
            "history": history_grid(view, lang),
        },
        user=user,
    )


@router.get("/customers/{customer_id}/ledger/{section}", response_class=HTMLResponse)
async def customer_ledger_section(request: Request, customer_id: str, section: str) -> Response:
    """One of the 360° page's long tables (schedules, statements, payments), loaded by htmx
    when its section is opened; the same checks as the page."""
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if section not in LEDGER_SECTIONS or not can(user.role, Action.ACCOUNT_VIEW):
        return (
            _forbidden(request, user) if section in LEDGER_SECTIONS else _not_found(request, user)
        )
    view = _customer_view(request, user, customer_id, ledger=True)
    if view is None:
        return _not_found(request, user)
    return _render(
        request, "partials/ledger_section.html", {"view": view, "section": section}, user=user
    )


@router.post("/customers/{customer_id}/reveal", response_class=HTMLResponse)
async def reveal_field(request: Request, customer_id: str) -> Response:
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not await csrf_ok(request):
        return _forbidden(request, user)
    form = await request.form()
    field = str(form.get("field") or "")
    reason = str(form.get("reason") or "")
    if not is_revealable(field):
        return _not_found(request, user)
    context: dict[str, Any] = {"customer_id": customer_id, "field": field, "reason": reason,
                               "field_dom_id": field_dom_id}  # fmt: skip
    policy, _, _ = effective_policy_and_version(request)
    try:
        with engine(request).begin() as conn:
            value = reveal(conn, user, customer_id, field, reason, now(), policy=policy)
    except ReasonRequired:
        context.update(error_key="reveal.reason_required", masked=str(form.get("masked") or ""),
                       error_params=reason_minimum(policy))  # fmt: skip
        return _render(request, "partials/reveal_form.html", context, user=user)
    except PermissionDenied:
        return _forbidden(request, user)
    except ValueError:  # an extra attribute this customer does not have
        return _not_found(request, user)
    context["value"] = value
    return _render(request, "partials/revealed.html", context, user=user)


# --- runs ----------------------------------------------------------------------------------


@router.get("/runs", response_class=HTMLResponse)
def runs_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not can(user.role, Action.RUN_VIEW):
        return _forbidden(request, user)
    tracker = getattr(request.app.state, "runs", None)
    fail_abandoned_runs(request.app.state.url)  # a killed run shows failed, not running forever
    with engine(request).connect() as conn:
        history = data.run_history(conn, tracker)
    return _render(request, "runs.html", {"runs": history}, user=user)


@router.get("/runs/{run_id}/row", response_class=HTMLResponse)
def run_row(request: Request, run_id: str) -> Response:
    user = current_user(request)
    if user is None:
        return _to_login(request)
    if not can(user.role, Action.RUN_VIEW):
        return _forbidden(request, user)
    key = parse_row_id(run_id)  # not a row id (e.g. beyond 64 bits): no such run
    if key is None:
        return _not_found(request, user)
    tracker = getattr(request.app.state, "runs", None)
    with engine(request).connect() as conn:
        row = data.run_one(conn, key, tracker)
    if row is None:
        return _not_found(request, user)
    return _render(request, "partials/run_row.html", {"run": row}, user=user)
