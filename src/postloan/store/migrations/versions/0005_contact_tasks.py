"""collections: scheduled contact tasks (weekly floors)

Revision ID: 0005
Revises: 0004

Hand-written; the tables are defined in `postloan.collections.tables`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("overdue_from", existing_type=sa.Date(), nullable=True)
        batch_op.alter_column("pay_by", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM tasks WHERE kind <> 'reminder'")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("pay_by", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("overdue_from", existing_type=sa.Date(), nullable=False)
