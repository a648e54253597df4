"""tiering area: each tier row's value contribution and ABC class (issue 14)

Rows tiered before this revision keep both empty until their date is run again.

Revision ID: t002
Revises: t001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "t002"
down_revision = "t001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tier_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("abc", sa.String(length=1), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tier_assignments", schema=None) as batch_op:
        batch_op.drop_column("abc")
        batch_op.drop_column("value")
