"""risk area: the model registry

Revision ID: r002
Revises: r001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r002"
down_revision = "r001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_models",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("data_window", sa.String(length=64), nullable=True),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("model_json", sa.Text(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validation", sa.Text(), nullable=True),
        sa.Column("validated_by", sa.String(length=64), nullable=True),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=64), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approved_kind", sa.String(length=16), nullable=True),
        sa.UniqueConstraint("approved_kind", name="uq_risk_models_approved_kind"),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_risk_models")),
    )
    op.create_index("ix_risk_models_kind_status", "risk_models", ["kind", "status"])


def downgrade() -> None:
    op.drop_table("risk_models")
