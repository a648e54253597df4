"""tiering area: each tier row's need level and signals (ABC's need, issue 14)

Rows tiered before this revision keep both empty until their date is run again.

Revision ID: t004
Revises: t003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t004"
down_revision = "t003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tier_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("need", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("need_signals", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tier_assignments", schema=None) as batch_op:
        batch_op.drop_column("need_signals")
        batch_op.drop_column("need")
