"""Apache ECharts option objects for the dashboard (plain dicts, embedded as JSON in the page).

Amounts arrive in minor units (分) and are charted in yuan (元); ratios in percent.
"""

from __future__ import annotations

from typing import Any

from postloan.web.data import Dashboard
from postloan.web.i18n import bucket_label, class_label, translate

PALETTE = ["#2f6db5", "#d9822b", "#2e9d6a", "#c23b3b", "#7a4fb0", "#5b8d9a", "#a3a13a", "#888"]
CLASS_COLOURS = ["#2e9d6a", "#d9c22b", "#d9822b", "#c23b3b", "#6b1f1f"]


def _yuan(minor: int) -> float:
    return round(minor / 100, 2)


def _base() -> dict[str, Any]:
    """Common options; titles are HTML captions (translatable text in the page, not the canvas)."""
    return {
        "color": PALETTE,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 80, "right": 20, "top": 40, "bottom": 30},
        "animation": False,
    }


def bucket_chart(d: Dashboard, lang: str) -> dict[str, Any]:
    option = _base()
    option["legend"] = {"top": 0}
    option["xAxis"] = {
        "type": "category",
        "data": [bucket_label(lang, b["bucket"]) for b in d.by_bucket],
    }
    # Overdue amounts are a few percent of the current bucket's balance: on one scale their
    # bars vanish, so they get their own axis on the right.
    option["yAxis"] = [
        {"type": "value", "name": "¥ " + translate(lang, "series.outstanding")},
        {"type": "value", "name": "¥ " + translate(lang, "series.overdue"), "splitLine":
         {"show": False}},
    ]  # fmt: skip
    option["grid"] = {**option["grid"], "right": 80}
    option["series"] = [
        {
            "name": translate(lang, "series.outstanding"),
            "type": "bar",
            "data": [_yuan(b["outstanding"]) for b in d.by_bucket],
        },
        {
            "name": translate(lang, "series.overdue"),
            "type": "bar",
            "yAxisIndex": 1,
            "data": [_yuan(b["overdue"]) for b in d.by_bucket],
        },
    ]
    return option


def class_chart(d: Dashboard, lang: str) -> dict[str, Any]:
    option = _base()
    option["tooltip"] = {"trigger": "item", "formatter": "{b}: ¥{c} ({d}%)"}
    option["legend"] = {"bottom": 0}
    option["color"] = CLASS_COLOURS
    option["series"] = [
        {
            "name": translate(lang, "chart.class"),
            "type": "pie",
            "radius": ["35%", "65%"],
            "center": ["50%", "52%"],
            "data": [
                {"name": class_label(lang, c["risk_class"]), "value": _yuan(c["outstanding"])}
                for c in d.by_class
            ],
        }
    ]
    return option


def trend_chart(d: Dashboard, lang: str) -> dict[str, Any]:
    option = _base()
    option["xAxis"] = {"type": "category", "data": [t["as_of"].isoformat() for t in d.trend]}
    option["yAxis"] = {"type": "value", "name": "%"}
    option["series"] = [
        {
            "name": translate(lang, "series.dpd30"),
            "type": "line",
            "showSymbol": len(d.trend) <= 31,
            "areaStyle": {"opacity": 0.15},
            "data": [round(100 * t["ratio"], 3) for t in d.trend],
        }
    ]
    return option


def branch_chart(d: Dashboard, lang: str) -> dict[str, Any]:
    option = _base()
    option["xAxis"] = {"type": "category", "data": [b["branch"] for b in d.by_branch]}
    option["yAxis"] = {"type": "value"}
    option["series"] = [
        {
            "name": translate(lang, "series.accounts"),
            "type": "bar",
            "data": [b["accounts"] for b in d.by_branch],
        }
    ]
    return option


CAPTIONS = {
    "chart-bucket": "chart.bucket",
    "chart-class": "chart.class",
    "chart-dpd30": "chart.dpd30",
    "chart-branch": "chart.branch",
}


def all_charts(d: Dashboard, lang: str) -> dict[str, dict[str, Any]]:
    """Chart container id → ECharts option (captions: `CAPTIONS`, message keys)."""
    return {
        "chart-bucket": bucket_chart(d, lang),
        "chart-class": class_chart(d, lang),
        "chart-dpd30": trend_chart(d, lang),
        "chart-branch": branch_chart(d, lang),
    }
