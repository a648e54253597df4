"""ping area: ping_marks — the first revision of the area's own Alembic branch

Revision ID: p001
Revises: 0009 (a branch of its own from there: branch label "ping")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "p001"
down_revision = "0009"  # branches off the core chain
branch_labels = ("ping",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ping_marks",
        sa.Column("as_of", sa.Date(), primary_key=True),
        sa.Column("overdue_accounts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ping_marks")
