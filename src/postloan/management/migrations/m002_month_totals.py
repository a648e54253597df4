"""management area: the pack's stored month totals (issue 16 item 7)

Revision ID: m002
Revises: m001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "m002"
down_revision = "m001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "management_month_totals",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("totals_key", sa.String(length=64), nullable=False),
        sa.Column("status_run_id", sa.Integer(), nullable=False),
        sa.Column("frames", sa.LargeBinary(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_run_id"],
            ["runs.run_id"],
            name=op.f("fk_management_month_totals_status_run_id_runs"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_management_month_totals_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_management_month_totals")),
        sa.UniqueConstraint("month", name=op.f("uq_management_month_totals_month")),
    )


def downgrade() -> None:
    op.drop_table("management_month_totals")
