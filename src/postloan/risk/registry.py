"""The model registry (issue 13 item 4): every scorecard the lender uses, versioned and
governed — draft → validated → approved (by a second person) → retired.

- **The model id is the content**: the SHA-256 of the canonical `model.json` (keys sorted, no
  spaces) without its `metrics`, so a retrain on the same data with the same seed is the same
  id, a changed bin is a new one, and a score naming a model id names exactly the bins and
  points that made it.
- **Metrics are measured here, never taken from the submitter.** A `model.json` is a claim:
  whoever posts it can write any AUC into it. The registry drops the file's `metrics` on
  registration and records only what it measures itself at validation (`validate`): for a
  behaviour or churn model on the store's own history (`behaviour.measure_on_history`: the
  observation months after the model's training window, scored and compared with their
  outcomes — after checking that the training window reproduces the band counts the model
  records), or on held-out data the CLI operator hands in (`measure`, `--data`). Through the
  API validation is a request a job measures (`risk.validation_jobs`): the history is rebuilt
  by `postloan model run-validations`, never inside an HTTP request.
- **Validated** needs that out-of-time AUC at or above the policy's `risk.models
  .min_validation_auc_pct`.
- **Approved** by another user than the one who registered it and the one who validated it
  (maker-checker; the caller checked `risk.model_approve`). One model per kind is approved at
  a time — approving a new one retires the one it replaces in the same transaction, and a
  unique key (`approved_kind`) stops two approvals racing — so the daily run has exactly one
  model per kind to score with (`approved_model`).
- Every step is audited; writes flush, never commit (the caller's transaction does); errors
  are `postloan.errors` kinds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from postloan.access import audit
from postloan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from postloan.policy import Policy
from postloan.policy.risk import MODEL_KINDS
from postloan.risk.model_tables import risk_models

if TYPE_CHECKING:
    from postloan.modelling import ScorecardModel

# postloan.modelling (optbinning, scikit-learn) is imported by the functions that need it:
# the registry is imported by the API, the CLI and the daily run, which must not pay for
# loading the fitting libraries on every start.

MAX_NOTE = 1000
MAX_NAME = 64
STATUSES = ("draft", "validated", "approved", "retired")
HISTORY_KINDS = ("behaviour", "churn")  # fitted on the store's history: measured on it


def without_claims(model: ScorecardModel) -> ScorecardModel:
    """The model without the metrics its file states: those are the submitter's claims (the
    registry measures its own at validation)."""
    from dataclasses import replace

    return replace(model, metrics={})


def canonical_text(model: ScorecardModel) -> str:
    """The model's `model.json` in one canonical spelling, without the file's metrics: what the
    id hashes, the store keeps."""
    from postloan.modelling.model_dir import to_json

    return json.dumps(to_json(without_claims(model)), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)  # fmt: skip


def model_id(model: ScorecardModel) -> str:
    return hashlib.sha256(canonical_text(model).encode("utf-8")).hexdigest()


def parse_model(text: str) -> ScorecardModel:
    """A `model.json` handed in (file or API body): complete, or `InvalidError`."""
    from postloan.modelling.model_dir import from_json

    try:
        return from_json(json.loads(text))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        # ModellingError is a ValueError: the format or version is not ours
        raise InvalidError(f"model: not a complete postloan model.json ({exc})",
                           field="model") from None  # fmt: skip


def note_text(note: str) -> str:
    text = note.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
    return text


def row(conn: Connection, mid: str) -> Any:
    found = conn.execute(select(risk_models).where(risk_models.c.model_id == mid)).first()
    if found is None:
        raise NotFoundError(f"model {mid}: not found", field="model_id")
    return found


MIN_PREFIX = 8


def resolve(conn: Connection, ref: str) -> str:
    """A model id from the id or a unique prefix of at least 8 hex characters (the CLI's
    12-character ids)."""
    text = ref.strip().lower()
    if len(text) < MIN_PREFIX or len(text) > 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidError(f"model: an id or a prefix of {MIN_PREFIX} to 64 hex characters",
                           field="model_id")  # fmt: skip
    found = conn.execute(
        select(risk_models.c.model_id).where(risk_models.c.model_id.startswith(text)).limit(2)
    ).scalars().all()  # fmt: skip
    if not found:
        raise NotFoundError(f"model {text}: not found", field="model_id")
    if len(found) > 1:
        raise InvalidError(f"model {text}: more than one model starts so", field="model_id")
    return str(found[0])


def list_models(conn: Connection, kind: str | None = None, status: str | None = None) -> list[Any]:
    m = risk_models
    query = select(m).order_by(m.c.registered_at.desc(), m.c.model_id)
    if kind is not None:
        query = query.where(m.c.kind == kind)
    if status is not None:
        query = query.where(m.c.status == status)
    return list(conn.execute(query).all())


def stored_model(found: Any) -> ScorecardModel:
    from postloan.modelling.model_dir import from_json

    return from_json(json.loads(found.model_json))


def approved_id(conn: Connection, kind: str) -> str | None:
    """The id of the one approved model of `kind`, or None (no model loaded)."""
    m = risk_models
    found = conn.execute(
        select(m.c.model_id).where(m.c.kind == kind, m.c.status == "approved")
    ).scalar()
    return None if found is None else str(found)


def approved_model(conn: Connection, kind: str) -> tuple[str, ScorecardModel] | None:
    """The one approved model of `kind` the daily run scores with, or None."""
    m = risk_models
    found = conn.execute(select(m).where(m.c.kind == kind, m.c.status == "approved")).first()
    return None if found is None else (found.model_id, stored_model(found))


@dataclass(frozen=True)
class Registered:
    model_id: str
    status: str
    created: bool  # False: this very model was registered before (same content, same id)


def register(
    conn: Connection, model: ScorecardModel, kind: str, name: str, note: str, actor: str,
    now: datetime,
) -> Registered:  # fmt: skip
    """Register a fitted model as a draft. The same content again answers the row it already
    has (nothing written): a retrain on the same data is not a new version."""
    if kind not in MODEL_KINDS:
        raise InvalidError(f"kind: one of {', '.join(MODEL_KINDS)}", field="kind")
    label = name.strip()
    if not label or len(label) > MAX_NAME or "\x00" in label:
        raise InvalidError(f"name: 1 to {MAX_NAME} characters", field="name")
    text = note_text(note)
    mid = model_id(model)
    existing = conn.execute(
        select(risk_models.c.status, risk_models.c.kind).where(risk_models.c.model_id == mid)
    ).first()
    if existing is not None:
        if existing.kind != kind:
            raise ConflictError(f"model {mid} is registered as a {existing.kind} model",
                                field="kind")  # fmt: skip
        return Registered(mid, existing.status, created=False)
    conn.execute(
        insert(risk_models).values(
            model_id=mid, kind=kind, name=label, status="draft", target=model.target,
            data_window=model.data_window, features=json.dumps(model.features),
            seed=model.seed, metrics="{}",  # measured at validation, never the file's
            model_json=canonical_text(model), registered_by=actor, registered_at=now,
            note=text,
        )
    )  # fmt: skip
    audit.record(conn, actor=actor, action="risk.model.register", target_type="model",
                 target_id=mid, now=now,
                 detail={"kind": kind, "name": label, "data_window": model.data_window,
                         "seed": model.seed, "features": model.features,
                         "metrics_ignored": sorted(model.metrics), "note": text})  # fmt: skip
    return Registered(mid, "draft", created=True)


def measure(model: ScorecardModel, frame: Any) -> dict[str, Any]:
    """The model's ranking power on data it was not fitted on (`frame` holds its inputs and
    its target): rows, bads, AUC, KS, Gini, and the PSI of the score against the training
    distribution over the model's score bands."""
    import numpy as np

    from postloan.modelling import ModellingError, auc, gini, ks, psi
    from postloan.modelling.frames import as_pandas, binary_target

    df = as_pandas(frame)
    if len(df) == 0:
        raise InvalidError("the validation data has no rows", field="data")
    try:
        y = binary_target(df, model.target, model.bad_value)
        scores = model.score(df)
    except ModellingError as exc:
        raise InvalidError(f"the validation data: {exc}", field="data") from None
    if y.min() == y.max():
        raise InvalidError("the validation data needs both good and bad rows", field="data")
    size = len(model.band_edges) + 1
    actual = np.bincount(model.band_of(scores), minlength=size)
    return {
        "source": "data", "rows": len(df), "bads": int(y.sum()),
        "auc": auc(y, scores), "ks": ks(y, scores), "gini": gini(y, scores),
        "score_psi": psi(np.asarray(model.band_counts), actual),
    }  # fmt: skip


def validate(
    conn: Connection, policy: Policy, mid: str, note: str, actor: str, now: datetime,
    measured: dict[str, Any] | None = None, audit_extra: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Draft → validated, when the out-of-time AUC measured here reaches the policy's minimum:
    `measured` (the CLI's held-out file, measured by `measure`) or, without it, measured on the
    store's history for a behaviour or churn model. Returns the validation recorded; the
    registry's metrics become the measured ones."""
    found = row(conn, mid)
    if found.status != "draft":
        raise ConflictError(f"model {mid} is {found.status}: only a draft is validated")
    text = note_text(note)
    if measured is not None:
        evidence = measured
    elif found.kind in HISTORY_KINDS:
        from postloan.risk.behaviour import measure_on_history

        evidence = measure_on_history(conn, policy, stored_model(found), found.kind)
    else:
        raise ConflictError(
            f"model {mid} is a {found.kind} model: its out-of-time metrics are measured on "
            "held-out data (postloan model validate --data FILE), not taken from its file"
        )
    floor = policy.risk.models.min_validation_auc_pct / 100
    if not evidence["auc"] >= floor:
        raise ConflictError(f"out-of-time AUC {evidence['auc']:.4f} is below the policy's "
                            f"minimum {floor:.2f}: the model is not validated")  # fmt: skip
    evidence = {**evidence, "min_auc": floor}
    metrics = {k: v for k, v in evidence.items()
               if isinstance(v, int | float) and k not in ("min_auc", "score_psi")}  # fmt: skip
    _move(conn, mid, "draft", validated_by=actor, validated_at=now, note=text,
          validation=json.dumps(evidence), metrics=json.dumps(metrics),
          status="validated")  # fmt: skip
    audit.record(conn, actor=actor, action="risk.model.validate", target_type="model",
                 target_id=mid, now=now,
                 detail={**evidence, "note": text, **(audit_extra or {})})  # fmt: skip
    return evidence


def approve(conn: Connection, mid: str, note: str, actor: str, now: datetime) -> str | None:
    """Validated → approved by a second person; the model of the same kind approved before is
    retired (its id returned)."""
    found = row(conn, mid)
    if found.status != "validated":
        raise ConflictError(f"model {mid} is {found.status}: only a validated model is approved")
    if actor in (found.registered_by, found.validated_by):
        raise RefusedError("maker-checker: a model is approved by another user than the one "
                           "who registered or validated it")  # fmt: skip
    text = note_text(note)
    m = risk_models
    before = conn.execute(
        select(m.c.model_id).where(m.c.kind == found.kind, m.c.status == "approved")
    ).scalar()
    if before is not None:
        _move(conn, before, "approved", status="retired", retired_by=actor, retired_at=now,
              approved_kind=None, note=f"replaced by {mid}")  # fmt: skip
        audit.record(conn, actor=actor, action="risk.model.retire", target_type="model",
                     target_id=before, now=now,
                     detail={"kind": found.kind, "replaced_by": mid})  # fmt: skip
    try:
        _move(conn, mid, "validated", status="approved", approved_by=actor, approved_at=now,
              approved_kind=found.kind, note=text)  # fmt: skip
    except IntegrityError:  # another approval of this kind committed meanwhile (the index)
        raise ConflictError(f"another {found.kind} model was approved meanwhile") from None
    audit.record(conn, actor=actor, action="risk.model.approve", target_type="model",
                 target_id=mid, now=now,
                 detail={"kind": found.kind, "registered_by": found.registered_by,
                         "validated_by": found.validated_by, "replaces": before,
                         "note": text})  # fmt: skip
    return str(before) if before is not None else None


def retire(conn: Connection, mid: str, note: str, actor: str, now: datetime) -> None:
    """Any status but retired → retired: it no longer scores (an approved one leaves its kind
    without a model until another is approved)."""
    found = row(conn, mid)
    if found.status == "retired":
        raise ConflictError(f"model {mid} is already retired")
    text = note_text(note)
    _move(
        conn,
        mid,
        found.status,
        status="retired",
        retired_by=actor,
        retired_at=now,
        approved_kind=None,
        note=text,
    )
    audit.record(conn, actor=actor, action="risk.model.retire", target_type="model",
                 target_id=mid, now=now,
                 detail={"kind": found.kind, "was": found.status, "note": text})  # fmt: skip


def _move(conn: Connection, mid: str, expected: str, **values: Any) -> None:
    m = risk_models
    done = conn.execute(
        update(m).where(m.c.model_id == mid, m.c.status == expected).values(**values)
    )
    if done.rowcount != 1:  # moved meanwhile by someone else
        raise ConflictError(f"model {mid} changed meanwhile")


def describe(found: Any) -> dict[str, Any]:
    """A registry row as the API and the CLI show it (without the model.json itself)."""
    from postloan.store.values import as_utc

    def instant(value: Any) -> str | None:
        moment = as_utc(value)
        return None if moment is None else moment.isoformat()

    return {
        "model_id": found.model_id, "kind": found.kind, "name": found.name,
        "status": found.status, "target": found.target, "data_window": found.data_window,
        "features": json.loads(found.features), "seed": int(found.seed),
        "metrics": json.loads(found.metrics),
        "validation": None if found.validation is None else json.loads(found.validation),
        "registered_by": found.registered_by, "registered_at": instant(found.registered_at),
        "validated_by": found.validated_by, "validated_at": instant(found.validated_at),
        "approved_by": found.approved_by, "approved_at": instant(found.approved_at),
        "retired_by": found.retired_by, "retired_at": instant(found.retired_at),
        "note": found.note,
    }  # fmt: skip


def review(conn: Connection, mid: str) -> dict[str, Any]:
    """One model's review pack: its registry card and its score bands (training PD per band)."""
    found = row(conn, mid)
    model = stored_model(found)
    edges = (None, *model.band_edges, None)
    bands = [
        {"band": i, "score_above": edges[i], "score_to": edges[i + 1],
         "training_rows": model.band_counts[i], "training_bad_rate": model.band_pd[i]}
        for i in range(len(model.band_counts))
    ]  # fmt: skip
    return {"model": describe(found), "bands": bands}
