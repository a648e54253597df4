"""churn area: measures per grade (CH-6) and level-2 win-back offers

Revision ID: c002
Revises: c001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c002"
down_revision = "c001"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "churn_measures",
        sa.Column("measure_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("refused_rules", sa.String(length=100), nullable=True),
        sa.Column("refusal_detail", sa.Text(), nullable=True),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_churn_measures_customer_id_customers")),
        sa.PrimaryKeyConstraint("measure_id", name=op.f("pk_churn_measures")),
        sa.UniqueConstraint("customer_id", "entered_on", "grade", "kind", "channel",
                            name="uq_churn_measures_episode_grade_kind_channel"),
    )  # fmt: skip
    op.create_index(
        "ix_churn_measures_status_created_on", "churn_measures", ["status", "created_on"]
    )
    op.create_table(
        "churn_offers",
        sa.Column("offer_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["measure_id"], ["churn_measures.measure_id"],
                                name=op.f("fk_churn_offers_measure_id_churn_measures")),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_churn_offers")),
        sa.UniqueConstraint("measure_id", "kind", name="uq_churn_offers_measure_kind"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("churn_offers")
    op.drop_table("churn_measures")
