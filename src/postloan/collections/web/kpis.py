"""The KPI page (`/kpis`, `report.collections`): the collection KPIs of a period (default: the
30 days up to the latest stored date) for the lines the user may see, with charts (ECharts
options built here: recovery and reduction rates, cure rate by bucket, strategies)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection

from postloan.collections.actions import CollectionsAction
from postloan.collections.kpis import REDUCTION_PARTS, CollectionKpis, KpiError, kpis_for
from postloan.inputs import InputError, parse_business_date
from postloan.store.dates import latest_stored_date
from postloan.web.charts import PALETTE
from postloan.web.i18n import bucket_label, translate
from postloan.web.pages import engine, lang_of, page_gate, policy_of, render_page

router = APIRouter(include_in_schema=False)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _chart_base() -> dict[str, Any]:
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 50, "bottom": 40},
        "animation": False,
        "yAxis": {"type": "value", "name": "%"},
    }


def row_label(lang: str, level: str, key: str) -> str:
    return translate(lang, "kpi.portfolio") if level == "portfolio" else key


def kpi_charts(result: CollectionKpis, rows: pl.DataFrame, lang: str) -> dict[str, Any]:
    """Chart container id → ECharts option: recovery and reduction rate (the reduction split
    by cause, stacked), cure rate by bucket, and the strategy comparison."""
    t = lambda key: translate(lang, key)  # noqa: E731
    labels = [row_label(lang, r["level"], r["key"]) for r in rows.iter_rows(named=True)]
    rates = _chart_base()
    rates["xAxis"] = {"type": "category", "data": labels}
    rates["series"] = [
        {"name": t("kpi.recovery_rate"), "type": "bar",
         "data": [_pct(v) for v in rows["recovery_rate"].to_list()]},
        *[
            {"name": t(f"kpi.part.{part}"), "type": "bar", "stack": "reduction",
             "data": [
                 _pct(p / o) if o else None
                 for p, o in zip(rows[f"reduction_{part}"].to_list(),
                                 rows["opening_overdue"].to_list(), strict=True)
             ]}
            for part in REDUCTION_PARTS
        ],
    ]  # fmt: skip
    cure = _chart_base()
    buckets = result.cure_by_bucket
    cure["xAxis"] = {
        "type": "category",
        "data": [bucket_label(lang, b) for b in buckets["bucket"].to_list()],
    }
    cure["series"] = [{"name": t("kpi.cure_rate"), "type": "bar",
                       "data": [_pct(v) for v in buckets["cure_rate"].to_list()]}]  # fmt: skip
    plans = result.strategies
    strategies = _chart_base()
    strategies["xAxis"] = {
        "type": "category",
        "data": [
            f"{t('stage.' + s)}\n{st}\n{t('arm.' + a)}"
            for s, st, a in zip(plans["stage"].to_list(), plans["strategy"].to_list(),
                                plans["arm"].to_list(), strict=True)
        ],
        "axisLabel": {"interval": 0},
    }  # fmt: skip
    strategies["grid"] = {**strategies["grid"], "bottom": 70}
    strategies["series"] = [
        {"name": t("kpi.cure_rate"), "type": "bar",
         "data": [_pct(v) for v in plans["cure_rate"].to_list()]},
        {"name": t("kpi.recovery_rate"), "type": "bar",
         "data": [_pct(v) for v in plans["recovery_rate"].to_list()]},
    ]  # fmt: skip
    return {"chart-kpi-rates": rates, "chart-kpi-cure": cure, "chart-kpi-strategies": strategies}


KPI_CAPTIONS = {
    "chart-kpi-rates": "kpi.chart.rates",
    "chart-kpi-cure": "kpi.chart.cure",
    "chart-kpi-strategies": "kpi.chart.strategies",
}


def default_period(conn: Connection) -> tuple[date, date] | None:
    """The 30 days up to the latest stored date (None: nothing stored yet)."""
    end = latest_stored_date(conn)
    return None if end is None else (end - timedelta(days=29), end)


@router.get("/kpis", response_class=HTMLResponse)
def kpi_page(request: Request) -> Response:
    user, gated = page_gate(request, CollectionsAction.REPORT_COLLECTIONS)
    if gated:
        return gated
    assert user is not None
    lang = lang_of(request)
    policy = policy_of(request)
    context: dict[str, Any] = {"result": None, "error": None, "parts": REDUCTION_PARTS}
    with engine(request).connect() as conn:
        period = default_period(conn)
        if period is None:
            return render_page(request, "collections/kpis.html", context, user=user)
        start, end = period
        typed_to, typed_from = request.query_params.get("to"), request.query_params.get("from")
        try:  # business dates: a period ending 0001-01-01 cannot reach back (no overflow)
            end = parse_business_date(typed_to, "to") if typed_to else end
            start = (parse_business_date(typed_from, "from") if typed_from
                     else end - (period[1] - period[0]))  # fmt: skip
        except InputError as exc:
            context.update(error=str(exc), start=start, end=end)
            return render_page(
                request, "collections/kpis.html", context, status_code=422, user=user
            )
        context.update(start=start, end=end)
        try:
            result, rows = kpis_for(conn, user, start, end, policy)
        except KpiError as exc:  # the message names the bound too ("to: ... before from")
            context["error"] = f"{exc.field}: {exc}"
            return render_page(
                request, "collections/kpis.html", context, status_code=422, user=user
            )
    context.update(
        result=result, rows=rows.to_dicts(), charts=kpi_charts(result, rows, lang),
        strategies=result.strategies.to_dicts(),
        captions=KPI_CAPTIONS, row_label=lambda level, key: row_label(lang, level, key),
    )  # fmt: skip
    return render_page(request, "collections/kpis.html", context, user=user)
