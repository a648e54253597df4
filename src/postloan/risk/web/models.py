"""The model registry page (`/risk/models`): every registered model with its lifecycle, data
window and training and out-of-time AUC, for the roles holding `risk.models` (risk
management, managers, auditors). Read-only: registering, validating, approving and retiring
go through the API and the CLI, which carry the maker-checker rules (`risk.registry`). The
review pack with its monitoring is `postloan report models --model ID` and
`GET /api/risk/models/{id}/review` (a page would wait for the whole history to be scored)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from postloan.risk import registry
from postloan.risk.actions import RiskAction
from postloan.web.pages import engine, page_gate, render_page

router = APIRouter(include_in_schema=False)


@router.get("/risk/models", response_class=HTMLResponse)
def models_page(request: Request) -> Response:
    user, gated = page_gate(request, RiskAction.MODELS)
    if gated:
        return gated
    with engine(request).connect() as conn:
        models = [registry.describe(r) for r in registry.list_models(conn)]
    return render_page(request, "risk/models.html", {"models": models}, user=user)
