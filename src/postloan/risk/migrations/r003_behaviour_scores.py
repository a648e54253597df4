"""risk area: behaviour scores (RK-2) with the model that made them

Revision ID: r003
Revises: r002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r003"
down_revision = "r002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_behaviour_scores",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("reason_1", sa.String(length=64), nullable=True),
        sa.Column("reason_2", sa.String(length=64), nullable=True),
        sa.Column("reason_3", sa.String(length=64), nullable=True),
        sa.Column("ead", sa.BigInteger(), nullable=False),
        sa.Column("lgd", sa.Float(), nullable=True),
        sa.Column("el", sa.BigInteger(), nullable=False),
        sa.Column("pd_band", sa.Integer(), nullable=False),
        sa.Column("exposure_band", sa.Integer(), nullable=False),
        sa.Column("matrix_class", sa.String(length=16), nullable=False),
        sa.Column("risk_class", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["risk_models.model_id"],
                                name=op.f("fk_risk_behaviour_scores_model_id_risk_models")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_risk_behaviour_scores_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", "customer_id", name=op.f("pk_risk_behaviour_scores")),
    )  # fmt: skip
    op.create_index("ix_risk_behaviour_scores_customer_id_as_of", "risk_behaviour_scores",
                    ["customer_id", "as_of"])  # fmt: skip


def downgrade() -> None:
    op.drop_table("risk_behaviour_scores")
