"""The printable monthly pack in the workbench (issue 16 item 5): `/management/print` renders
a month's pack live in the caller's scope (`management.pack`), `/management/packs` lists the
packs the daily run stored (whole book: `management.export`) and `/management/packs/{month}`
shows or downloads one (audited as an export).

Each printable document carries its print CSS in one `<style>` element and no script; it is
served under its own Content-Security-Policy naming that element's hash
(`printable.content_security_policy`), so nothing else — no script, no other style — runs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postloan.access import audit
from postloan.access.scope import customer_scope_clause
from postloan.errors import DomainError, NotFoundError
from postloan.inputs import InputError
from postloan.management import packs, printable, queries, service
from postloan.management.actions import ManagementAction
from postloan.web.pages import engine, lang_of, not_found, page_gate, policy_of, render_page

router = APIRouter(include_in_schema=False)
MONTH = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")


def printable_response(html: str, download: str | None = None) -> HTMLResponse:
    headers = {"content-security-policy": printable.content_security_policy()}
    if download:
        headers["content-disposition"] = f'attachment; filename="{download}"'
    return HTMLResponse(html, headers=headers)


def _month_end(conn: Any, month: str) -> date | None:
    """The month's last stored date (the pack's month-end 口径)."""
    year, number = int(month[:4]), int(month[5:])
    following = date(year + (number == 12), number % 12 + 1, 1)
    days = [d for d in queries.stored_dates(conn, following) if d.strftime("%Y-%m") == month]
    return days[-1] if days else None


@router.get("/management/print", response_class=HTMLResponse)
def print_page(request: Request) -> Response:
    user, gated = page_gate(request, ManagementAction.PACK)
    if gated:
        return gated
    assert user is not None
    month = request.query_params.get("month", "")
    policy = policy_of(request)
    with engine(request).connect() as conn:
        if not month:
            days = queries.stored_dates(conn, date(2199, 12, 31))
            month = days[-1].strftime("%Y-%m") if days else ""
        if not MONTH.match(month):
            context = {"error": "month: YYYY-MM", "found": None}
            return render_page(request, "management/drill.html", context, user=user,
                               status_code=422)  # fmt: skip
        day = _month_end(conn, month)
        if day is None:
            return not_found(request, user)
        try:
            built = service.build(
                conn,
                policy,
                printable.month_start(day, policy.management.print_months),
                day,
                customer_scope_clause(user, ManagementAction.PACK),
            )
        except (InputError, DomainError) as exc:
            context = {"error": str(exc), "found": None}
            return render_page(request, "management/drill.html", context, user=user,
                               status_code=422)  # fmt: skip
    html = printable.render(built, lang_of(request), datetime.now(UTC))
    return printable_response(html)


@router.get("/management/packs", response_class=HTMLResponse)
def packs_page(request: Request) -> Response:
    user, gated = page_gate(request, ManagementAction.EXPORT)
    if gated:
        return gated
    with engine(request).connect() as conn:
        stored = packs.listed(conn)
    return render_page(request, "management/packs.html", {"packs": stored}, user=user)


@router.get("/management/packs/{month}", response_class=HTMLResponse)
def stored_pack(request: Request, month: str) -> Response:
    user, gated = page_gate(request, ManagementAction.EXPORT)
    if gated:
        return gated
    assert user is not None
    lang = request.query_params.get("lang", lang_of(request))
    if not MONTH.match(month) or lang not in printable.LANGS:
        return not_found(request, user)
    with engine(request).begin() as conn:
        try:
            html = packs.html_of(conn, month, lang)
        except NotFoundError:
            return not_found(request, user)
        audit.record(
            conn,
            actor=user.username,
            action="export",
            target_type="management_pack",
            target_id=f"{month}/{lang}",
            detail={"format": "html", "stored": True},
            now=datetime.now(UTC),
        )
    download = (
        f"management-pack-{month}-{lang}.html" if request.query_params.get("download") else None
    )
    return printable_response(html, download)
