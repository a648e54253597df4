"""The model registry's API routes (`/api/risk/models…`): list and read models, register a
fitted `model.json` as a draft (the metrics the file states are dropped: they are the
submitter's claims), ask for its validation on out-of-time metrics the server measures itself
on the store's history — a request recorded here, measured by a job
(`risk.validation_jobs`), never rebuilt in the request; a request carrying metrics is refused —
approve it (another risk manager: maker-checker) and retire it. Models hold figures, no
customer, so the routes are portfolio-wide (every grant has scope all). Writes are audited
and, with the session cookie, need the CSRF token (`api.deps`)."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL
from postloan.policy.risk import ModelKind
from postloan.risk import registry
from postloan.risk.actions import RiskAction

router = APIRouter(prefix="/api/risk/models", tags=["risk models"], responses=ERROR_RESPONSES)

ModelId = Path(pattern=r"^[0-9a-f]{64}$", description="the model id (SHA-256 of its model.json)")
Status = Literal["draft", "validated", "approved", "retired"]


class ModelPage(BaseModel):
    items: list[dict[str, Any]]


@router.get("", response_model=ModelPage)
def models(
    kind: ModelKind | None = Query(None),
    status: Status | None = Query(None),
    user: User = Depends(require(RiskAction.MODELS)),
    conn: Connection = Depends(get_conn),
) -> ModelPage:
    """Registered models, newest first: kind, status, data window, features, seed, metrics
    and who moved them through the lifecycle."""
    return ModelPage(items=[registry.describe(r) for r in registry.list_models(conn, kind, status)])


@router.get("/{model_id}", response_model=dict[str, Any])
def model(
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODELS)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """One model with its whole model.json (bins and points of every characteristic)."""
    found = registry.row(conn, model_id)
    return {**registry.describe(found), "model": json.loads(found.model_json)}


@router.get("/{model_id}/review", response_model=dict[str, Any])
def review(
    request: Request,
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODELS)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """The model's review pack (EW-2): card, score bands and, for a behaviour model, its
    monitoring on the stored history (PSI, AUC/KS per month, calibration, alerts)."""
    from postloan.risk.model_review import review as review_pack

    registry.row(conn, model_id)  # 404 before any work
    return review_pack(conn, effective_policy(request)[0], model_id)


@router.get("/{model_id}/monitoring", response_model=dict[str, Any])
def monitoring(
    request: Request,
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODELS)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """The model's monitoring over the stored dates it scored (EW-2): per date the PSI of the
    score bands and of each characteristic's bins against the development sample recorded in
    the model, with the policy's traffic light, and per score band the observed against the
    expected bad rate where the outcome is known (`risk.model_monitor`; from the stored scores,
    nothing re-scored)."""
    from postloan.risk.model_monitor import monitoring as monitoring_of

    return monitoring_of(conn, effective_policy(request)[0], model_id)


class RegisterIn(BaseModel):
    kind: ModelKind
    name: str = Field(min_length=1, max_length=registry.MAX_NAME, pattern=NO_NUL)
    note: str = Field(min_length=1, max_length=registry.MAX_NOTE, pattern=NO_NUL)
    model: dict[str, Any] = Field(description="the model.json `postloan model fit-scorecard` wrote")


@router.post("", response_model=dict[str, Any])
def register(
    body: RegisterIn,
    user: User = Depends(require(RiskAction.MODEL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Register a fitted model as a draft. Its id is the hash of its content without the
    file's `metrics` (claims the registry does not keep: it measures its own at validation);
    the same model again answers the existing row (`created` false) and writes nothing."""
    fitted = registry.parse_model(json.dumps(body.model))
    done = registry.register(conn, fitted, body.kind, body.name, body.note, user.username, now())
    conn.commit()
    return {"model_id": done.model_id, "status": done.status, "created": done.created}


class NoteIn(BaseModel):
    # only a note: a client posting figures (an AUC, say) is refused, not quietly believed
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=registry.MAX_NOTE, pattern=NO_NUL)


@router.post("/{model_id}/validate", response_model=dict[str, Any], status_code=202)
def validate(
    request: Request,
    body: NoteIn,
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODEL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Ask for the draft's validation on the store's history: 202 with the request, `queued`
    (or the model's request already open, `queued` or `running`, with `created` false). The
    job `postloan model run-validations` measures the observation months after the model's
    training window — rebuilding the portfolio's history is no work for a request — and
    validates the model when its out-of-time AUC reaches the policy's minimum; the outcome
    (the measured validation, or why not) is read at `GET …/validations`. Refused at once
    (409): not a draft, a generic model (validated on held-out data: `postloan model validate
    --data`), no training window recorded, a target other than the policy's. The body holds
    only the note: metrics sent with it are refused (422)."""
    from postloan.risk import validation_jobs

    policy = effective_policy(request)[0]
    asked, created = validation_jobs.request(conn, policy, model_id, body.note, user.username,
                                             now())  # fmt: skip
    conn.commit()
    return {"model_id": model_id, "created": created, "request": asked}


@router.get("/{model_id}/validations", response_model=dict[str, Any])
def validations(
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODELS)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """The model's status and its validation requests, newest first: queued, running, done
    (with the validation the job measured) or failed (with the reason)."""
    from postloan.risk import validation_jobs

    items = validation_jobs.requests(conn, model_id)
    return {"model_id": model_id, "status": registry.row(conn, model_id).status, "items": items}


@router.post("/{model_id}/approve", response_model=dict[str, Any])
def approve(
    body: NoteIn,
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODEL_APPROVE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Validated → approved by another user than its registrant and validator (403 otherwise);
    the kind's model approved before is retired."""
    replaced = registry.approve(conn, model_id, body.note, user.username, now())
    conn.commit()
    return {"model_id": model_id, "status": "approved", "retired": replaced}


@router.post("/{model_id}/retire", response_model=dict[str, Any])
def retire(
    body: NoteIn,
    model_id: str = ModelId,
    user: User = Depends(require(RiskAction.MODEL_MANAGE)),
    conn: Connection = Depends(get_conn),
) -> dict[str, Any]:
    """Retire a model: it no longer scores (409 when already retired)."""
    registry.retire(conn, model_id, body.note, user.username, now())
    conn.commit()
    return {"model_id": model_id, "status": "retired"}
