"""The customer's risk card on the workbench's 360° page (`Area.customer_panel`): the score,
its grade (and an approved assessment's), the four parts, the signals of the latest date, the
open tasks and watch-list state, and the score's history as an ECharts line (options prepared
here, started by the workbench's app.js — no inline script under the CSP).

For `risk.view` holders whose scope holds the customer; nothing otherwise."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import visible_customer
from postloan.errors import DomainError
from postloan.policy import Policy
from postloan.policy.loader import current_policy
from postloan.risk.actions import RiskAction
from postloan.risk.api import card_json
from postloan.risk.messages import response_text
from postloan.risk.service import decide_override, override_row, propose_override
from postloan.web.charts import PALETTE
from postloan.web.pages import engine, not_found, now, policy_of, post_gate

router = APIRouter(include_in_schema=False)
CARD = "risk/card.html"
CHART_ID = "risk-history-chart"


def history_chart(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The score over the stored dates, oldest first, with the grade bands' scale 0-100."""
    points = list(reversed(history))
    return {
        "color": PALETTE,
        "grid": {"left": 36, "right": 12, "top": 12, "bottom": 24},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": [p["as_of"] for p in points]},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [{"type": "line", "name": "score", "data": [p["score"] for p in points],
                    "showSymbol": len(points) < 40}],
    }  # fmt: skip


def card_context(
    conn: Connection, user: User, customer_id: str, policy: Policy | None = None,
    lang: str = "en",
) -> dict[str, Any]:  # fmt: skip
    data = card_json(conn, user, customer_id)
    # The assessment forms: propose (risk.override in scope, a score to assess, none waiting);
    # decide (risk.approve in scope, someone else's proposal).
    waiting = next((o for o in data["overrides"] if o["status"] == "proposed"), None)
    data["waiting"] = waiting
    data["may_propose"] = (
        policy is not None and data["latest"] is not None and waiting is None
        and visible_customer(conn, user, customer_id, RiskAction.OVERRIDE) is not None
    )  # fmt: skip
    data["may_decide"] = (
        waiting is not None and waiting["proposed_by"] != user.username
        and visible_customer(conn, user, customer_id, RiskAction.APPROVE) is not None
    )  # fmt: skip
    if policy is not None:
        data["grades"] = [g.name for g in policy.risk.score.grades]
        data["reasons"] = list(policy.risk.score.override_reasons)
    data["open_tasks"] = [{**t, "response": response_text(lang, t["signal_id"], t["response"])}
                          for t in data["tasks"] if t["status"] == "open"]  # fmt: skip
    data["on_watch"] = next((w for w in data["watch"] if w["left_on"] is None), None)
    data["chart_id"] = CHART_ID
    data["charts"] = {CHART_ID: history_chart(data["history"])} if data["history"] else {}
    return data


def customer_panel(
    conn: Connection, user: User, customer_id: str, lang: str
) -> tuple[str, dict[str, Any]] | None:
    if not can(user.role, RiskAction.VIEW):
        return None
    if visible_customer(conn, user, customer_id, RiskAction.VIEW) is None:
        return None
    # The policy (grades, reason codes) only for users who may propose: it is read from file.
    policy = current_policy() if can(user.role, RiskAction.OVERRIDE) else None
    return CARD, card_context(conn, user, customer_id, policy, lang)


def _back(customer_id: str, outcome: str) -> RedirectResponse:
    return RedirectResponse(f"/customers/{customer_id}?risk={outcome}#risk-card", status_code=303)


@router.post("/risk/customers/{customer_id}/override", response_class=HTMLResponse)
async def propose(request: Request, customer_id: str) -> Response:
    """The assessment form: through the API's service (validated, audited)."""
    user, gated = await post_gate(request, RiskAction.OVERRIDE)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    typed = {k: str(form.get(k) or "").replace("\x00", "").strip()
             for k in ("grade", "reason_code", "note")}  # fmt: skip
    with engine(request).connect() as conn:
        if visible_customer(conn, user, customer_id, RiskAction.OVERRIDE) is None:
            return not_found(request, user)
        try:
            propose_override(conn, policy_of(request), customer_id, typed["grade"],
                             typed["reason_code"], typed["note"], user.username, now())  # fmt: skip
            conn.commit()
        except DomainError:
            conn.rollback()
            return _back(customer_id, "refused")
    return _back(customer_id, "proposed")


@router.post("/risk/overrides/{override_id}/decision", response_class=HTMLResponse)
async def decide(request: Request, override_id: int) -> Response:
    """Approve or reject (maker-checker: the service refuses the proposer)."""
    user, gated = await post_gate(request, RiskAction.APPROVE)
    if gated:
        return gated
    assert user is not None
    form = await request.form()
    approve = str(form.get("decision") or "") == "approve"
    note = str(form.get("note") or "").replace("\x00", "").strip()
    with engine(request).connect() as conn:
        row = override_row(conn, override_id) if 0 < override_id < 2**31 else None
        if row is None or visible_customer(conn, user, row.customer_id,
                                           RiskAction.APPROVE) is None:  # fmt: skip
            return not_found(request, user)
        try:
            decide_override(conn, override_id, approve, note, user.username, now())
            conn.commit()
        except DomainError:
            conn.rollback()
            return _back(row.customer_id, "refused")
    return _back(row.customer_id, "approved" if approve else "rejected")
