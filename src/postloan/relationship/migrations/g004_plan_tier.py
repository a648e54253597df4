"""relationship area: a contact plan's segment may name a tier (the tiers area's held tier)

Revision ID: g004
Revises: g003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g004"
down_revision = "g003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: a plan without a tier reaches every tier (the plans made before)
    op.add_column("contact_plans", sa.Column("tier", sa.String(8)))


def downgrade() -> None:
    with op.batch_alter_table("contact_plans") as batch:
        batch.drop_column("tier")
