"""The management pack in the workbench (KPI-3 dashboards): `/management` — a period, a view
per role (overview for management, risk, collections, retention), ECharts served from the
package, the figures by a chosen breakdown with every ratio a link to the accounts behind it —
and `/management/drill`, that list (audited). Export is the API's workbook (`pack.xlsx`),
reached with the session cookie."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postloan.access.permissions import can
from postloan.access.scope import customer_scope_clause
from postloan.errors import DomainError
from postloan.inputs import InputError, parse_business_date
from postloan.management import area_drill, queries, service
from postloan.management.actions import ManagementAction
from postloan.management.rules.pack import DIMENSIONS
from postloan.web.charts import PALETTE
from postloan.web.i18n import translate
from postloan.web.pages import engine, lang_of, page_gate, policy_of, render_page

router = APIRouter(include_in_schema=False)

# Each role's dashboard: which KPIs lead its table and trend (KPI-3).
VIEWS: dict[str, tuple[str, ...]] = {
    "overview": ("npl_ratio", "overdue_rate", "overdue_rate_lagged", "dpd30_ratio"),
    "risk": ("npl_ratio", "dpd30_ratio", "dpd30_ever", "loss_rate"),
    "collections": ("overdue_rate", "overdue_count_rate", "c_m1_rate", "cure_rate"),
    "retention": ("overdue_rate", "npl_ratio"),
}
CAPTIONS = {
    "chart-trend": "management.trend",
    "chart-roll": "management.roll",
    "chart-vintage": "management.vintage",
}


def _date(request: Request, name: str, default: date | None) -> date | None:
    typed = request.query_params.get(name)
    return parse_business_date(typed, name) if typed else default


def charts(built: service.Pack, kpis: tuple[str, ...], lang: str) -> dict[str, Any]:
    """Chart id → ECharts option: the portfolio's KPIs per month (lines), the last month's
    roll-rate matrix (heatmap of shares), the DPD30+ vintage curves (lines per cohort)."""
    t = lambda key: translate(lang, key)  # noqa: E731
    label = "name_zh" if lang == "zh-CN" else "name_en"
    whole = built.figures.filter(pl.col("dimension") == "portfolio").sort("as_of")
    months = whole["month"].to_list()
    names = {
        k: built.definitions[k][label] if k in built.definitions else t(f"management.kpi.{k}")
        for k in kpis
    }
    trend = {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "animation": False,
        "legend": {"top": 0},
        "grid": {"left": 60, "right": 20, "top": 40, "bottom": 40},
        "xAxis": {"type": "category", "data": months},
        "yAxis": {"type": "value", "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {
                "type": "line",
                "name": names[k],
                "data": [None if v is None else round(v * 100, 3) for v in whole[k]],
            }
            for k in kpis
            if k in whole.columns
        ],
    }
    found: dict[str, Any] = {"chart-trend": trend}
    last = built.roll.filter(
        (pl.col("dimension") == "portfolio") & (pl.col("as_of") == built.months["as_of"][-1])
    )
    if last.height:
        froms = list(dict.fromkeys(last["from_bucket"].to_list()))
        tos = list(dict.fromkeys([*froms, *last["to_bucket"].to_list()]))
        cells = [
            [tos.index(r["to_bucket"]), froms.index(r["from_bucket"]), round(r["share"] * 100, 1)]
            for r in last.iter_rows(named=True)
        ]
        found["chart-roll"] = {
            "tooltip": {},
            "animation": False,
            "grid": {"left": 80, "right": 20, "top": 20, "bottom": 50},
            "xAxis": {"type": "category", "data": tos},
            "yAxis": {"type": "category", "data": froms, "inverse": True},
            "visualMap": {
                "min": 0,
                "max": 100,
                "show": False,
                "inRange": {"color": ["#f4f6f8", PALETTE[0]]},
            },
            "series": [{"type": "heatmap", "data": cells, "label": {"show": True}}],
        }
    first_dpd = built.vintage["dpd"].min() if built.vintage.height else None
    curves = built.vintage.filter(pl.col("dpd") == first_dpd)
    if curves.height:
        top = int(curves["mob"].max() or 0)  # type: ignore[arg-type]
        found["chart-vintage"] = {
            "color": PALETTE,
            "tooltip": {"trigger": "axis"},
            "animation": False,
            "legend": {"top": 0, "type": "scroll"},
            "grid": {"left": 60, "right": 20, "top": 40, "bottom": 40},
            "xAxis": {"type": "category", "data": list(range(top + 1)), "name": "MOB"},
            "yAxis": {"type": "value", "axisLabel": {"formatter": "{value}%"}},
            "series": [
                {
                    "type": "line",
                    "name": cohort,
                    "data": [round(r * 100, 2) for r in part.sort("mob")["rate"]],
                }
                for (cohort,), part in curves.group_by(["cohort"], maintain_order=True)
            ],
        }
    return found


# Which areas' figures each dashboard shows (the other areas' panel).
VIEW_AREAS: dict[str, tuple[str, ...]] = {
    "overview": ("churn", "relationship", "collections"),
    "risk": (),
    "collections": ("collections",),
    "retention": ("churn", "relationship"),
}


def _amount_or_count(value: float | None, basis: str) -> str:
    if value is None:
        return "-"
    if basis == "amount":
        return f"{value / 100:,.2f}"
    return f"{value:,.0f}"


def area_rows(built: service.Pack, view: str, lang: str) -> list[dict[str, Any]]:
    """The other areas' whole-book figures of the pack's last month for the view's areas:
    each KPI's name, definition version, numerator, denominator and figure as text."""
    wanted = VIEW_AREAS.get(view, ())
    last = built.months["as_of"][-1]
    rows = built.area_figures.filter(
        (pl.col("dimension") == "portfolio")
        & (pl.col("as_of") == last)
        & pl.col("area").is_in(list(wanted))
    )
    label = "name_zh" if lang == "zh-CN" else "name_en"
    out = []
    for r in rows.iter_rows(named=True):
        d = built.area_definitions.get(r["kpi"], {})
        basis = d.get("basis", "count")
        ratio = r["ratio"]
        if ratio is None:
            shown = "-"
        elif basis == "score":
            shown = f"{ratio * 100:.1f}"
        else:
            shown = f"{ratio:.2%}"
        if ratio is not None and r["low"] is not None and r["high"] is not None:
            shown += f" [{r['low'] * 100:.1f}, {r['high'] * 100:.1f}]"
        out.append(
            {
                **r,
                "as_of": r["as_of"].isoformat(),
                "drillable": area_drill.drillable(r["area"]),
                "name": d.get(label, r["kpi"]),
                "numerator_text": _amount_or_count(r["numerator"], basis),
                "denominator_text": _amount_or_count(r["denominator"], basis),
                "ratio_text": shown,
            }
        )
    return out


@router.get("/management", response_class=HTMLResponse)
def management_page(request: Request) -> Response:
    user, gated = page_gate(request, ManagementAction.PACK)
    if gated:
        return gated
    assert user is not None
    lang = lang_of(request)
    view = request.query_params.get("view", "overview")
    view = view if view in VIEWS else "overview"
    dimension = request.query_params.get("dimension", "branch")
    dimension = dimension if dimension in DIMENSIONS else "branch"
    context: dict[str, Any] = {
        "built": None,
        "error": None,
        "views": list(VIEWS),
        "view": view,
        "kpis": VIEWS[view],
        "dimensions": DIMENSIONS,
        "dimension": dimension,
        "captions": CAPTIONS,
        "can_drill": can(user.role, ManagementAction.DRILL),
        "can_export": can(user.role, ManagementAction.EXPORT),
    }
    scope = customer_scope_clause(user, ManagementAction.PACK)
    with engine(request).connect() as conn:
        days = queries.stored_dates(conn, date(2199, 12, 31))
        if not days:
            return render_page(request, "management/page.html", context, user=user)
        try:
            end = _date(request, "to", days[-1])
            assert end is not None
            start = _date(request, "from", date(end.year - 1, end.month, 1))
            assert start is not None
            context.update(start=start, end=end)
            built = service.build(conn, policy_of(request), start, end, scope)
        except (InputError, DomainError) as exc:
            context["error"] = str(exc)
            return render_page(request, "management/page.html", context, user=user, status_code=422)
    rows = built.figures.filter(pl.col("dimension") == dimension).sort("as_of", "value")
    label = "name_zh" if lang == "zh-CN" else "name_en"
    staff_kpis = list(dict.fromkeys(t.kpi for t in policy_of(request).management.targets))
    context.update(
        built=built,
        rows=rows.with_columns(pl.col("as_of").cast(pl.String)).to_dicts(),
        names={
            k: built.definitions[k][label]
            if k in built.definitions
            else translate(lang, f"management.kpi.{k}")
            for k in VIEWS[view]
        },
        staff=built.staff.to_dicts(),
        staff_kpis=staff_kpis,
        staff_names={
            k: built.definitions[k][label]
            if k in built.definitions
            else translate(lang, f"management.kpi.{k}")
            for k in staff_kpis
        },
        area_rows=area_rows(built, view, lang),
        charts=charts(built, VIEWS[view], lang),
        drillable=set(built.definitions),
    )
    return render_page(request, "management/page.html", context, user=user)


def _drill(request: Request, template: str, lookup: Any, *, rows: bool = False) -> Response:
    """A drill-down page: gated by `management.drill`, the cell read from the query string by
    `lookup(conn, user, params, as_of)` (audited there), 422 with the reason on a bad cell;
    `rows`: the answer's rows are of any shape, their columns named by the answer."""
    user, gated = page_gate(request, ManagementAction.DRILL)
    if gated:
        return gated
    assert user is not None
    params = request.query_params
    context: dict[str, Any] = {"found": None, "error": None}
    try:
        as_of = parse_business_date(params.get("as_of", ""), "as_of")
        with engine(request).begin() as conn:
            found = lookup(conn, user, params, as_of)
    except (InputError, DomainError) as exc:
        context["error"] = str(exc)
        return render_page(request, template, context, user=user, status_code=422)
    context["found"] = found
    if rows:  # the area names its rows' columns (`counted` is shown last, on its own)
        context["columns"] = [c for c in found["columns"] if c != "counted"]
    return render_page(request, template, context, user=user)


@router.get("/management/drill", response_class=HTMLResponse)
def drill_page(request: Request) -> Response:
    def lookup(conn: Any, user: Any, params: Any, as_of: Any) -> Any:
        return service.audited_drill(
            conn, policy_of(request), as_of,
            (params.get("dimension", "portfolio"), params.get("value", "all")[:64],
             params.get("kpi", "")[:40]),
            customer_scope_clause(user, ManagementAction.DRILL), user.username,
            datetime.now(UTC),
        )  # fmt: skip

    return _drill(request, "management/drill.html", lookup)


@router.get("/management/drill/area", response_class=HTMLResponse)
def area_drill_page(request: Request) -> Response:
    """The rows behind one of the other areas' figures (audited; `area_drill`)."""

    def lookup(conn: Any, user: Any, params: Any, as_of: Any) -> Any:
        cell = (as_of, params.get("kpi", "")[:40], params.get("dimension", "portfolio")[:20],
                params.get("value", "all")[:64])  # fmt: skip
        return area_drill.audited(
            conn, policy_of(request), cell, customer_scope_clause(user, ManagementAction.DRILL),
            user.username, datetime.now(UTC),
        )  # fmt: skip

    return _drill(request, "management/area_drill.html", lookup, rows=True)
