"""Churn KPIs (`/churn/kpis`, `churn.report`): for a period (default: the year up to the latest
churn date) over the customers in the user's scope — pool size and flows (entries, exits) per
month, churn rate per rule by customers and by balance per month (branch "*": every branch of
the scope together), per branch on the last month — through the report the API and the
command line use (`churn.report.churn_report`), with ECharts charts (options built here,
embedded as JSON and started by the workbench's static script: the CSP allows no inline
script). Balances are account data: withheld from roles without `account.view`.

The evaluation of the measures (CH-7, `churn.evaluate`: each measure kind against its random
holdout, as of the period's end, over the scope's customers — `churn.evaluation.evaluate`, the
API's) is the `#churn-evaluation` section: per kind, the primary outcome's rate in each arm,
the difference with its interval, keep / adjust, and a chart of the same figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from postloan.access import User, can
from postloan.access.scope import customer_scope_clause
from postloan.churn import read
from postloan.churn.actions import ChurnAction
from postloan.churn.evaluation import evaluate
from postloan.churn.report import churn_report
from postloan.churn.rules.frames import RULES
from postloan.churn.rules.kpis import ALL_BRANCHES, ChurnKpis
from postloan.churn.web.common import shows_accounts
from postloan.errors import InvalidError
from postloan.inputs import InputError, parse_business_date
from postloan.policy import Policy
from postloan.web.charts import PALETTE
from postloan.web.i18n import translate
from postloan.web.pages import engine, lang_of, page_gate, policy_of, render_page

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 365  # the API's default period too
RATE_KEYS = (*RULES, "any")
CAPTIONS = {"chart-churn-flows": "churn.chart.flows", "chart-churn-rates": "churn.chart.rates"}
EVALUATION_CHART = "chart-churn-evaluation"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _base() -> dict[str, Any]:
    return {"color": PALETTE, "tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "grid": {"left": 60, "right": 60, "top": 50, "bottom": 40},
            "animation": False}  # fmt: skip


def churn_charts(kpis: ChurnKpis, lang: str) -> dict[str, Any]:
    """Chart id → ECharts option: the pool's size (line) with entries and exits (bars) per
    month; the churn rate per rule by customers per month — all branches of the scope."""
    t = lambda key: translate(lang, key)  # noqa: E731
    flows = kpis.flows.filter(kpis.flows["branch_id"] == ALL_BRANCHES)
    months = flows["month"].to_list()
    flow = _base()
    flow["xAxis"] = {"type": "category", "data": months}
    flow["yAxis"] = {"type": "value", "name": t("churn.customers")}
    flow["series"] = [
        {"name": t("churn.pool_size"), "type": "line", "data": flows["pool_size"].to_list()},
        {"name": t("churn.entries"), "type": "bar", "data": flows["entries"].to_list()},
        {"name": t("churn.exits"), "type": "bar", "data": flows["exits"].to_list()},
    ]
    rates = kpis.rates.filter(kpis.rates["branch_id"] == ALL_BRANCHES)
    rate = _base()
    rate["xAxis"] = {"type": "category", "data": rates["month"].to_list()}
    rate["yAxis"] = {"type": "value", "name": "%"}
    rate["series"] = [
        {"name": t("churn.rule." + k), "type": "line",
         "data": [_pct(v) for v in rates[f"{k}_rate_customers"].to_list()]}
        for k in RATE_KEYS
    ]  # fmt: skip
    return {"chart-churn-flows": flow, "chart-churn-rates": rate}


def _points(value: float | None) -> float | str:
    """A rate or difference in percent(age points) for a chart; ECharts' "-" for none."""
    return "-" if value is None else round(100 * value, 2)


def evaluation_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per measure kind, the primary outcome's figures as the table and chart show them."""
    rows = []
    for item in items:
        e = item["effects"][item["primary"]]
        rows.append({"kind": item["kind"], "primary": item["primary"],
                     "treated_n": item["treated_n"], "holdout_n": item["holdout_n"],
                     "treated_rate": e["treated_rate"], "holdout_rate": e["holdout_rate"],
                     "difference": e["difference"], "lower": e["lower"], "upper": e["upper"],
                     "flag": item["flag"], "why": item["why"]})  # fmt: skip
    return rows


def evaluation_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Treated and holdout rates (bars, %) and the difference with its interval (a candlestick
    whose body is the difference and whose whiskers are the interval, in points) per kind."""
    t = lambda key: translate(lang, key)  # noqa: E731
    chart = _base()
    chart["xAxis"] = {"type": "category",
                      "data": [t("churn.measure.short." + r["kind"]) for r in rows]}  # fmt: skip
    chart["yAxis"] = {"type": "value", "name": "%"}
    chart["series"] = [
        {"name": t("churn.evaluation.treated"), "type": "bar",
         "data": [_points(r["treated_rate"]) for r in rows]},
        {"name": t("churn.evaluation.holdout"), "type": "bar",
         "data": [_points(r["holdout_rate"]) for r in rows]},
        # One colour whatever the sign: the body is a line at the difference, not a rise/fall.
        {"name": t("churn.evaluation.difference"), "type": "candlestick", "barMaxWidth": 24,
         "itemStyle": {"color": PALETTE[3], "color0": PALETTE[3], "borderColor": PALETTE[3],
                       "borderColor0": PALETTE[3]},
         "data": [[_points(r["difference"]), _points(r["difference"]), _points(r["lower"]),
                   _points(r["upper"])] for r in rows]},
    ]  # fmt: skip
    return chart


def _evaluation(conn: Connection, user: User, day: date, policy: Policy,
                lang: str) -> dict[str, Any]:  # fmt: skip
    """The evaluation section's context (nothing for roles without `churn.evaluate`)."""
    if not can(user.role, ChurnAction.EVALUATE):
        return {"evaluation": None}
    scope = customer_scope_clause(user, ChurnAction.EVALUATE)
    rows = evaluation_rows(evaluate(conn, day, policy, scope))
    measured = any(r["treated_n"] + r["holdout_n"] for r in rows)
    m = policy.churn.measures
    return {"evaluation": {"as_of": day, "rows": rows if measured else [],
                           "days": m.evaluation_days, "confidence": f"{m.confidence:.0%}",
                           "min_arm": m.min_arm_size},
            "evaluation_chart": evaluation_chart(rows, lang) if measured else None}  # fmt: skip


def _period(request: Request, latest: date | None) -> tuple[date, date]:
    params = request.query_params
    typed_to, typed_from = params.get("to"), params.get("from")
    end = parse_business_date(typed_to, "to") if typed_to else latest or date.today()
    start = (parse_business_date(typed_from, "from") if typed_from
             else max(end - timedelta(days=DEFAULT_DAYS), date(1900, 1, 1)))  # fmt: skip
    return start, end


@router.get("/churn/kpis", response_class=HTMLResponse)
def kpi_page(request: Request) -> Response:
    user, gated = page_gate(request, ChurnAction.REPORT)
    if gated:
        return gated
    assert user is not None
    lang = lang_of(request)
    context: dict[str, Any] = {"kpis": None, "error": None, "rate_keys": RATE_KEYS,
                               "captions": CAPTIONS, "all_branches": ALL_BRANCHES,
                               "shows_accounts": shows_accounts(user)}  # fmt: skip
    with engine(request).connect() as conn:
        latest = read.latest_churn_date(conn)
        try:
            start, end = _period(request, latest)
            context.update(start=start, end=end)
            found = churn_report(conn, start, end, customer_scope_clause(user, ChurnAction.REPORT))
        except (InputError, InvalidError) as exc:
            context["error"] = str(exc)
            return render_page(request, "churn/kpis.html", context, user=user, status_code=422)
        if latest is None:
            return render_page(request, "churn/kpis.html", context, user=user)
        context.update(_evaluation(conn, user, end, policy_of(request), lang))
    rates = found.rates.to_dicts()
    last_as_of = max((r["as_of"] for r in rates), default=None)
    context.update(
        kpis=found,
        flows=[f for f in found.flows.to_dicts() if f["branch_id"] == ALL_BRANCHES],
        branch_rates=[r for r in rates if r["as_of"] == last_as_of],
        last_as_of=last_as_of,
        charts=churn_charts(found, lang),
    )  # fmt: skip
    if context.get("evaluation_chart"):
        context["charts"][EVALUATION_CHART] = context["evaluation_chart"]
    return render_page(request, "churn/kpis.html", context, user=user)
