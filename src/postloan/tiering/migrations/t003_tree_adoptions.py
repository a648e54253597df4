"""tiering area: decision trees proposed for adoption into the policy (maker-checker, issue 14)

Revision ID: t003
Revises: t002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t003"
down_revision = "t002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tier_tree_proposals",
        sa.Column("proposal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fitted_from", sa.Date(), nullable=False),
        sa.Column("fitted_to", sa.Date(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("accuracy", sa.Float(), nullable=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("base_version", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("adopted_version", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_tier_tree_proposals")),
    )


def downgrade() -> None:
    op.drop_table("tier_tree_proposals")
