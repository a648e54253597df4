"""The ping area's workbench page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from postloan.web.pages import engine, page_gate, render_page
from tests.areas.pingarea.tables import ping_marks

router = APIRouter(include_in_schema=False)


@router.get("/ping")
def ping_page(request: Request) -> Response:
    user, refused = page_gate(request, "ping.view")
    if refused:
        return refused
    with engine(request).connect() as conn:
        rows = conn.execute(select(ping_marks).order_by(ping_marks.c.as_of)).all()
    return render_page(request, "ping/marks.html", {"rows": rows}, user=user)
