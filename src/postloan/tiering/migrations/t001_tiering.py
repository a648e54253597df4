"""tiering area: tier assignments per customer and stored date, the dates tiered

Revision ID: t001
Revises: 0009 (a branch of its own from there: branch label "tiering")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t001"
down_revision = "0009"  # branches off the core chain
branch_labels = ("tiering",)
depends_on = None

_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "tier_assignments",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("purpose_class", sa.String(length=16), nullable=False),
        sa.Column("credit_status", sa.String(length=8), nullable=False),
        sa.Column("capacity", sa.String(length=8), nullable=False),
        sa.Column("qualified_tier", sa.String(length=8), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("streak_worst", sa.String(length=8), nullable=True),
        sa.Column("worst_class", sa.String(length=16), nullable=False),
        sa.Column("open_case", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("npl_balance", sa.BigInteger(), nullable=False),
        sa.Column("max_dpd", sa.Integer(), nullable=False),
        sa.Column("times_late", sa.Integer(), nullable=False),
        sa.Column("instalments", sa.BigInteger(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("rfm_r", sa.Integer(), nullable=False),
        sa.Column("rfm_f", sa.Integer(), nullable=False),
        sa.Column("rfm_m", sa.Integer(), nullable=False),
        sa.Column("rfm_segment", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_tier_assignments_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", "customer_id", name=op.f("pk_tier_assignments")),
    )  # fmt: skip
    op.create_index("ix_tier_assignments_customer_id_as_of", "tier_assignments",
                    ["customer_id", "as_of"])  # fmt: skip
    op.create_index("ix_tier_assignments_as_of_tier", "tier_assignments", ["as_of", "tier"])
    op.create_table(
        "tier_dates",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_tier_dates_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_tier_dates")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("tier_dates")
    op.drop_table("tier_assignments")
