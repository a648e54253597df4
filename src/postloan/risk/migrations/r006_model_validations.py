"""risk area: validation requests measured by a job, not in the request

Revision ID: r006
Revises: r005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r006"
down_revision = "r005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_model_validations",
        sa.Column("request_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("open_model_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["risk_models.model_id"],
                                name=op.f("fk_risk_model_validations_model_id_risk_models")),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_risk_model_validations")),
        sa.UniqueConstraint("open_model_id", name="uq_risk_model_validations_open_model_id"),
    )  # fmt: skip
    op.create_index("ix_risk_model_validations_model_id", "risk_model_validations",
                    ["model_id", "request_id"])  # fmt: skip
    op.create_index("ix_risk_model_validations_status", "risk_model_validations",
                    ["status", "request_id"])  # fmt: skip


def downgrade() -> None:
    op.drop_table("risk_model_validations")
