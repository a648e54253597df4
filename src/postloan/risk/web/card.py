"""The customer's risk card on the workbench's 360° page (`Area.customer_panel`): the score,
its grade (and an approved assessment's), the four parts, the signals of the latest date, the
open tasks and watch-list state, and the score's history as an ECharts line (options prepared
here, started by the workbench's app.js — no inline script under the CSP).

For `risk.view` holders whose scope holds the customer; nothing otherwise."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import visible_customer
from postloan.risk.actions import RiskAction
from postloan.risk.api import card_json
from postloan.web.charts import PALETTE

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


def card_context(conn: Connection, user: User, customer_id: str) -> dict[str, Any]:
    data = card_json(conn, user, customer_id)
    data["open_tasks"] = [t for t in data["tasks"] if t["status"] == "open"]
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
    return CARD, card_context(conn, user, customer_id)
