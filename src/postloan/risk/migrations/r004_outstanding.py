"""risk area: each scored customer's total outstanding balance (the rising-liabilities signal)

Revision ID: r004
Revises: r003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r004"
down_revision = "r003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: scores stored before have no balance, and compare with nothing
    op.add_column("risk_scores", sa.Column("outstanding", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_scores") as batch:
        batch.drop_column("outstanding")
