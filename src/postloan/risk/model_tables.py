"""The model registry's table (SQLAlchemy Core, on the store's metadata; created by the risk
branch's migration `r002`).

`risk_models`: one row per registered model. The model id is the SHA-256 of the model's
canonical `model.json` (`risk.registry.model_id`), so the same fit registered twice is one
row, and a score that names a model id names exactly the bins and points that made it. The
whole `model.json` is kept (text, no pickle): the daily run scores from the store, not from a
directory that may have changed. The lifecycle draft → validated → approved → retired is
recorded with who and when for each step; every step is also in the audit log.

`risk_model_validations` (migration `r006`): validation requests on the store's history. The
API only records a request (a request must not rebuild a portfolio-wide sample); the job
`postloan model run-validations` measures it and records the outcome here and, when the
model passes, in `risk_models` (`risk.validation_jobs`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from postloan.store.schema import metadata

risk_models = Table(
    "risk_models",
    metadata,
    Column("model_id", String(64), primary_key=True),  # sha256 hex of the canonical model.json
    Column("kind", String(16), nullable=False),  # behaviour | churn | generic
    Column("name", String(64), nullable=False),
    Column("status", String(10), nullable=False),  # draft | validated | approved | retired
    Column("target", String(64), nullable=False),
    Column("data_window", String(64)),
    Column("features", Text, nullable=False),  # JSON list of the characteristics
    Column("seed", Integer, nullable=False),
    Column("metrics", Text, nullable=False),  # JSON: the fit's metrics (incl. out-of-time ones)
    Column("model_json", Text, nullable=False),  # the canonical model.json
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("validation", Text),  # JSON: the validation's metrics and where they came from
    Column("validated_by", String(64)),
    Column("validated_at", DateTime(timezone=True)),
    Column("approved_by", String(64)),
    Column("approved_at", DateTime(timezone=True)),
    Column("retired_by", String(64)),
    Column("retired_at", DateTime(timezone=True)),
    Column("note", Text),  # the last step's note
    # The kind while approved, else null: unique, so one approved model per kind even when two
    # approvals race (nulls do not collide, on SQLite and PostgreSQL alike).
    Column("approved_kind", String(16)),
    UniqueConstraint("approved_kind", name="uq_risk_models_approved_kind"),
    Index("ix_risk_models_kind_status", "kind", "status"),
)

risk_model_validations = Table(
    "risk_model_validations",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", String(64), ForeignKey("risk_models.model_id"), nullable=False),
    Column("status", String(10), nullable=False),  # queued | running | done | failed
    Column("note", Text, nullable=False),  # the requester's note, recorded with the validation
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("run_by", String(64)),  # who ran the job that measured it
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("result", Text),  # JSON: the validation measured (done)
    Column("error", Text),  # why it was not validated (failed)
    # The model id while queued or running, else null: unique, so one open request per model
    # even when two requests race (nulls do not collide).
    Column("open_model_id", String(64)),
    UniqueConstraint("open_model_id", name="uq_risk_model_validations_open_model_id"),
    Index("ix_risk_model_validations_model_id", "model_id", "request_id"),
    Index("ix_risk_model_validations_status", "status", "request_id"),
)
