"""risk area: the behaviour score's bin counts per scored date (model monitoring)

Revision ID: r005
Revises: r004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r005"
down_revision = "r004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_behaviour_bins",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("characteristic", sa.String(length=64), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["risk_models.model_id"],
                                name=op.f("fk_risk_behaviour_bins_model_id_risk_models")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_risk_behaviour_bins_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", "model_id", "characteristic", "bin",
                                name=op.f("pk_risk_behaviour_bins")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("risk_behaviour_bins")
