"""relationship area: a complaint's reference in the file it was imported from (unique), so a
re-import of the same file lands nothing twice

Revision ID: g003
Revises: g002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g003"
down_revision = "g002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: complaints taken in on the workbench or the API have no file reference
    op.add_column("complaints", sa.Column("complaint_ref", sa.String(64)))
    op.create_index("ux_complaints_complaint_ref", "complaints", ["complaint_ref"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_complaints_complaint_ref", table_name="complaints")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("complaint_ref")
