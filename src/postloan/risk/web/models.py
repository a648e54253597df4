"""The model registry's pages, for the roles holding `risk.models` (risk management, managers,
auditors): `/risk/models` lists every registered model with its lifecycle, data window and
training and out-of-time AUC; `/risk/models/{id}` is one model's card (purpose, kind, data
window, characteristics with their bins and points, the validation the server measured, who
registered, validated, approved and retired it) and its monitoring over the stored dates it
scored (`risk.model_monitor`: PSI of the score and of each characteristic against the
development sample with the policy's traffic light, observed against expected bad rate per
band where the outcome is known; per scored month the PSI, and where its outcome window has
elapsed the AUC, KS and — for the month picked with `?month=YYYY-MM`, the latest by default —
the calibration table) with an ECharts line of the score's PSI (options prepared here,
started by the workbench's app.js — no inline script under the CSP). Read-only:
registering, validating, approving and retiring go through the API and the CLI, which carry
the maker-checker rules (`risk.registry`). An id that is not 64 hex characters, or no such
model, or a `month` that is not an observable month of it, is the 404 page."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postloan.errors import NotFoundError
from postloan.risk import registry
from postloan.risk.actions import RiskAction
from postloan.web.charts import PALETTE
from postloan.web.i18n import translate
from postloan.web.pages import engine, lang_of, not_found, page_gate, policy_of, render_page

router = APIRouter(include_in_schema=False)
MODEL_ID = re.compile(r"[0-9a-f]{64}")
CHART_ID = "risk-model-psi-chart"
LIGHTS = {"ok": "#2e9d6a", "warning": "#d9822b", "alert": "#c23b3b"}


@router.get("/risk/models", response_class=HTMLResponse)
def models_page(request: Request) -> Response:
    user, gated = page_gate(request, RiskAction.MODELS)
    if gated:
        return gated
    with engine(request).connect() as conn:
        models = [registry.describe(r) for r in registry.list_models(conn)]
    return render_page(request, "risk/models.html", {"models": models}, user=user)


def psi_chart(monitoring: dict[str, Any], lang: str) -> dict[str, Any]:
    """The score's PSI per scored date with the warning and alert thresholds as lines."""
    days = [d["as_of"] for d in monitoring["dates"]]
    limits = monitoring["thresholds"]

    def line(key: str, value: float, colour: str) -> dict[str, Any]:
        return {"type": "line", "name": translate(lang, key), "data": [value] * len(days),
                "showSymbol": False, "lineStyle": {"type": "dashed", "color": colour},
                "itemStyle": {"color": colour}}  # fmt: skip

    return {
        "color": PALETTE,
        "animation": False,
        "grid": {"left": 48, "right": 12, "top": 28, "bottom": 24},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "category", "data": days},
        "yAxis": {"type": "value", "min": 0},
        "series": [
            {"type": "line", "name": translate(lang, "risk.model.score_psi"),
             "data": [round(d["score_psi"], 4) for d in monitoring["dates"]],
             "showSymbol": len(days) < 40},
            line("risk.model.light.warning", limits["warning"], LIGHTS["warning"]),
            line("risk.model.light.alert", limits["alert"], LIGHTS["alert"]),
        ],
    }  # fmt: skip


@router.get("/risk/models/{model_id}", response_class=HTMLResponse)
def model_page(request: Request, model_id: str) -> Response:
    user, gated = page_gate(request, RiskAction.MODELS)
    if gated:
        return gated
    if not MODEL_ID.fullmatch(model_id):
        return not_found(request, user)
    from postloan.risk.model_monitor import card, monitoring

    with engine(request).connect() as conn:
        try:
            model = card(conn, model_id)
        except NotFoundError:
            return not_found(request, user)
        watch = monitoring(conn, policy_of(request), model_id)
    observable = [m for m in watch["months"] if m["observable"]]
    wanted = request.query_params.get("month")
    calibrated = observable[-1] if observable and wanted is None else next(
        (m for m in observable if m["month"] == wanted), None)  # fmt: skip
    if wanted is not None and calibrated is None:  # not a month with a calibration table
        return not_found(request, user)
    names = sorted({c["characteristic"] for d in watch["dates"] for c in d["characteristics"]},
                   key=model["features"].index)  # fmt: skip
    grid = [{"as_of": d["as_of"],
             "cells": {c["characteristic"]: c for c in d["characteristics"]}}
            for d in reversed(watch["dates"])]  # fmt: skip
    charts = {CHART_ID: psi_chart(watch, lang_of(request))} if watch["dates"] else {}
    context = {"model": model, "watch": watch, "names": names, "grid": grid,
               "latest": watch["dates"][-1] if watch["dates"] else None,
               "chart_id": CHART_ID, "charts": charts, "calibrated": calibrated}  # fmt: skip
    return render_page(request, "risk/model.html", context, user=user)
