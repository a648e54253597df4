"""collections area: hand-overs from other areas (churn's level-1 customers)

Revision ID: k001
Revises: 0009 (a branch of its own from there: branch label "collections")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "k001"
down_revision = "0009"  # branches off the core chain
branch_labels = ("collections",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("handover_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_key", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("handed_on", sa.Date(), nullable=False),
        sa.Column("actions", sa.String(length=200), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_dpd", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_handovers_customer_id_customers")),
        sa.PrimaryKeyConstraint("handover_id", name=op.f("pk_handovers")),
        sa.UniqueConstraint("source", "source_key", name="uq_handovers_source_key"),
    )  # fmt: skip
    op.create_index("ix_handovers_customer_id", "handovers", ["customer_id"])


def downgrade() -> None:
    op.drop_table("handovers")
