"""The churned-customer pool (`/churn`, `churn.view`; 流失客户信息库): the pool on the latest
churn date or a chosen stored one, in the user's data scope, worst grade first, with filters
(rule, degree, grade, reason, branch, screening) and pages — the API's read model
(`churn.read.pool_page`) and masking (`common.pool_row`). A customer links to its churn card
on the 360° page."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, select

from postloan.access.scope import customer_scope_clause
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.rules.frames import RULES
from postloan.churn.tables import churn_dates
from postloan.churn.web.common import pool_row, shows_accounts
from postloan.inputs import InputError, parse_business_date
from postloan.policy.churn import DEGREES, REASON_CLASSES
from postloan.store.values import stored_date
from postloan.web.pages import engine, page_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
DATES_OFFERED = 400  # the newest stored churn dates in the date picker
MAX_PAGE = 100_000
FILTERS = ("rule", "degree", "grade", "reason", "branch", "worth")


class _Bad(Exception):
    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status


def _choice(params: Any, name: str, allowed: tuple[str, ...]) -> str | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise _Bad(name, f"one of {', '.join(allowed)}")
    return value


def _wanted(params: Any) -> tuple[read.PoolFilter, dict[str, str]]:
    rule = _choice(params, "rule", RULES)
    degree = _choice(params, "degree", DEGREES)
    grade = _choice(params, "grade", ("1", "2", "3"))
    reason = _choice(params, "reason", (*REASON_CLASSES, "none"))
    worth = _choice(params, "worth", ("yes", "no"))
    branch = (params.get("branch") or "").strip() or None
    if branch is not None and (len(branch) > 32 or "\x00" in branch):
        raise _Bad("branch", "at most 32 characters")
    typed = {"rule": rule, "degree": degree, "grade": grade, "reason": reason, "branch": branch,
             "worth": worth}  # fmt: skip
    wanted = read.PoolFilter(
        rule=rule, degree=degree, grade=None if grade is None else int(grade), reason=reason,
        branch=branch, worth_pursuing=None if worth is None else worth == "yes",
    )  # fmt: skip
    return wanted, {k: v for k, v in typed.items() if v is not None}


def _page(params: Any) -> int:
    typed = (params.get("page") or "1").strip()
    if not typed.isdigit() or not 1 <= int(typed) <= MAX_PAGE:
        raise _Bad("page", f"a whole number from 1 to {MAX_PAGE}")
    return int(typed)


def _day(conn: Connection, params: Any) -> date | None:
    typed = (params.get("as_of") or "").strip()
    if not typed:
        return read.latest_churn_date(conn)
    try:
        day = parse_business_date(typed, "as_of")
    except InputError as exc:
        raise _Bad("as_of", str(exc).partition(": ")[2]) from exc
    if not read.is_churn_date(conn, day):
        raise _Bad("as_of", f"no churn identification stored for {day}", status=404)
    return day


def stored_churn_dates(conn: Connection) -> list[str]:
    query = select(churn_dates.c.as_of).order_by(churn_dates.c.as_of.desc()).limit(DATES_OFFERED)
    return [stored_date(d).isoformat() for d in conn.execute(query).scalars()]


@router.get("/churn", response_class=HTMLResponse)
def pool_page(request: Request) -> Response:
    user, gated = page_gate(request, ChurnAction.VIEW)
    if gated:
        return gated
    assert user is not None
    params = request.query_params
    context: dict[str, Any] = {
        "rules": RULES, "degrees": DEGREES, "reasons": REASON_CLASSES, "rows": [], "total": 0,
        "day": None, "chosen": {}, "error": None, "page": 1, "pages": 1,
        "shows_accounts": shows_accounts(user),
    }  # fmt: skip
    with engine(request).connect() as conn:
        context["dates"] = stored_churn_dates(conn)
        context["chosen"] = {k: str(params.get(k) or "") for k in (*FILTERS, "as_of")}
        try:
            wanted, chosen = _wanted(params)
            page = _page(params)
            day = _day(conn, params)
        except _Bad as exc:
            context["error"] = str(exc)
            return render_page(request, "churn/pool.html", context, user=user,
                               status_code=exc.status)  # fmt: skip
        if day is not None:
            scope = customer_scope_clause(user, ChurnAction.VIEW)
            total, rows = read.pool_page(conn, day, scope, wanted, page, PAGE_SIZE)
            context.update(total=total, rows=[pool_row(r, user) for r in rows])
    keep = {**chosen, **({"as_of": day.isoformat()} if params.get("as_of") and day else {})}
    pages = max(1, -(-int(context["total"]) // PAGE_SIZE))
    context.update(
        day=day, page=page, pages=pages,
        prev_url=f"/churn?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/churn?{urlencode({**keep, 'page': page + 1})}" if page < pages else None,
    )  # fmt: skip
    return render_page(request, "churn/pool.html", context, user=user)
