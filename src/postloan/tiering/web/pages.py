"""Tiering's workbench: `/tiering` (tier distribution, the transition matrix between two dates,
RFM segments; `tiering.report` in its scope) with ECharts charts (options built here, embedded
as JSON and started by the workbench's static script: the CSP allows no inline script), and the
tier card on the 360° page (`customer_panel`, `tiering.view` in its scope). Reads only."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause, visible_customer
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.policy.loader import current_policy
from postloan.policy.tiering import TIERS
from postloan.tiering import read, report
from postloan.tiering.actions import TieringAction
from postloan.tiering.card import card, shows_accounts
from postloan.tiering.rules.review import ORDER
from postloan.web.charts import PALETTE
from postloan.web.i18n import translate
from postloan.web.pages import engine, lang_of, page_gate, render_page

router = APIRouter(include_in_schema=False)
CARD = "tiering/card.html"
CAPTIONS = {"chart-tier-distribution": "tiering.distribution",
            "chart-tier-transitions": "tiering.transitions"}  # fmt: skip


def customer_panel(
    conn: Connection, user: User, customer_id: str, lang: str
) -> tuple[str, dict[str, Any]] | None:
    """The tier card on the 360° page, for `tiering.view` holders whose scope holds the
    customer (none otherwise)."""
    if not can(user.role, TieringAction.VIEW):
        return None
    customer = visible_customer(conn, user, customer_id, TieringAction.VIEW)
    if customer is None:
        return None
    return CARD, card(conn, user, customer, current_policy())


def charts(dist: dict[str, Any], moves: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    """Chart id → ECharts option: customers per tier (bars); the transition matrix (heatmap)."""
    t = lambda key: translate(lang, key)  # noqa: E731
    bars = {
        "color": PALETTE, "tooltip": {"trigger": "axis"}, "animation": False,
        "grid": {"left": 60, "right": 20, "top": 20, "bottom": 40},
        "xAxis": {"type": "category", "data": [t("tiering.tier." + r["tier"])
                                               for r in dist["tiers"]]},
        "yAxis": {"type": "value", "name": t("tiering.customers")},
        "series": [{"type": "bar", "name": t("tiering.customers"),
                    "data": [r["customers"] for r in dist["tiers"]]}],
    }  # fmt: skip
    found = {"chart-tier-distribution": bars}
    if moves is not None:
        labels = [t("tiering.tier." + k) for k in ORDER]
        cells = [[ORDER.index(c["to_tier"]), ORDER.index(c["from_tier"]), c["customers"]]
                 for c in moves["cells"]]  # fmt: skip
        top = max((c[2] for c in cells), default=0)
        found["chart-tier-transitions"] = {
            "tooltip": {}, "animation": False,
            "grid": {"left": 100, "right": 20, "top": 20, "bottom": 60},
            "xAxis": {"type": "category", "data": labels, "name": t("tiering.to")},
            "yAxis": {"type": "category", "data": labels, "name": t("tiering.from"),
                      "inverse": True},  # rows read top-down like the table
            "visualMap": {"min": 0, "max": max(top, 1), "show": False,
                          "inRange": {"color": ["#f4f6f8", PALETTE[0]]}},
            "series": [{"type": "heatmap", "data": cells, "label": {"show": True}}],
        }  # fmt: skip
    return found


def _date(request: Request, name: str, default: date | None) -> date | None:
    typed = request.query_params.get(name)
    return parse_business_date(typed, name) if typed else default


@router.get("/tiering", response_class=HTMLResponse)
def tiering_page(request: Request) -> Response:
    user, gated = page_gate(request, TieringAction.REPORT)
    if gated:
        return gated
    assert user is not None
    lang = lang_of(request)
    context: dict[str, Any] = {"dist": None, "moves": None, "error": None, "order": ORDER,
                               "tiers": TIERS, "captions": CAPTIONS,
                               "shows_accounts": shows_accounts(user),
                               "may_review": can(user.role, TieringAction.REVIEW)}  # fmt: skip
    scope = customer_scope_clause(user, TieringAction.REPORT)
    with engine(request).connect() as conn:
        latest = read.latest_date(conn)
        if latest is None:
            return render_page(request, "tiering/page.html", context, user=user)
        try:
            end = _date(request, "to", latest)
            assert end is not None
            start = _date(request, "from", None)
            context.update(start=start, end=end)
            dist = report.distribution(conn, end, scope)
            moves = None if start is None else report.transition_matrix(conn, start, end, scope)
        except (InputError, DomainError) as exc:
            context["error"] = str(exc)
            return render_page(request, "tiering/page.html", context, user=user, status_code=422)
    cells = {} if moves is None else {(c["from_tier"], c["to_tier"]): c["customers"]
                                      for c in moves["cells"]}  # fmt: skip
    context.update(dist=dist, moves=moves, cells=cells, charts=charts(dist, moves, lang))
    return render_page(request, "tiering/page.html", context, user=user)
