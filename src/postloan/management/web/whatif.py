"""The policy what-if in the workbench (`/management/whatif`, risk management and managers):
paste or upload a candidate policy (TOML), pick stored dates, and see each area's figures in
force / candidate / difference side by side (rows that differ; the API and `postloan whatif
--out` give every row). The POST carries the CSRF token; the what-if runs in the server's
worker process and is audited; nothing stored changes."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.management import service, whatif
from postloan.management.actions import ManagementAction
from postloan.policy import PolicyError
from postloan.web.pages import engine, page_gate, policy_of, post_gate, render_page

router = APIRouter(include_in_schema=False)
PAGE = "management/whatif.html"


def _context(request: Request, start: date | None, end: date | None) -> dict[str, Any]:
    with engine(request).connect() as conn:
        latest = service.latest_date(conn)
    return {"start": start or latest, "end": end or latest, "policy_text": "", "found": None,
            "error": None, "problems": []}  # fmt: skip


@router.get("/management/whatif", response_class=HTMLResponse)
def whatif_page(request: Request) -> Response:
    user, gated = page_gate(request, ManagementAction.WHATIF)
    if gated:
        return gated
    return render_page(request, PAGE, _context(request, None, None), user=user)


def changed(found: dict[str, Any]) -> list[dict[str, Any]]:
    """Each figure with only its rows that differ (any `_diff` column not zero)."""
    out = []
    for figure in found["figures"]:
        diffs = [c for c in figure["columns"] if c.endswith("_diff")]
        rows = [r for r in figure["rows"] if any(r[c] not in (0, 0.0, None) for c in diffs)]
        out.append({**figure, "changed": rows, "total_rows": len(figure["rows"])})
    return out


@router.post("/management/whatif", response_class=HTMLResponse)
async def whatif_post(request: Request) -> Response:
    user, gated = await post_gate(request, ManagementAction.WHATIF)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    upload = form.get("policy_file")
    text = str(form.get("policy") or "")
    raw: bytes | str = text
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(whatif.MAX_POLICY_BYTES + 1)
    context: dict[str, Any] = {"start": None, "end": None, "policy_text": text[:300_000],
                               "found": None, "error": None, "problems": []}  # fmt: skip
    try:
        start = parse_business_date(str(form.get("from") or ""), "from")
        end = parse_business_date(str(form.get("to") or ""), "to")
        context.update(start=start, end=end)
        candidate = whatif.parse_candidate(raw, "candidate")
        in_force = policy_of(request)
        url = request.app.state.url

        def work() -> whatif.WhatIf:
            with engine(request).connect() as conn:
                return whatif.served(conn, url, in_force, candidate, start, end,
                                     user.username, "workbench")  # fmt: skip

        found = whatif.as_data(await run_in_threadpool(work))
        context["found"] = {**found, "figures": changed(found)}
    except PolicyError as exc:
        context["problems"] = [str(p) for p in exc.problems]
        return render_page(request, PAGE, context, user=user, status_code=422)
    except (InputError, DomainError) as exc:
        context["error"] = str(exc)
        return render_page(request, PAGE, context, user=user, status_code=422)
    return render_page(request, PAGE, context, user=user)
