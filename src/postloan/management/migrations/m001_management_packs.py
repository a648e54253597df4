"""management area: the stored monthly packs (issue 16 item 5)

Revision ID: m001
Revises: 0009 (a branch of its own from there: branch label "management")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "m001"  # revision ids are global across branches: "m" is management's letter
down_revision = "0009"  # branches off the core chain
branch_labels = ("management",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "management_packs",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("definitions_version", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_management_packs_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("month", "lang", name=op.f("pk_management_packs")),
    )


def downgrade() -> None:
    op.drop_table("management_packs")
