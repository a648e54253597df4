"""relationship area: contact plans and the contacts derived from them

Revision ID: g002
Revises: g001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g002"
down_revision = "g001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_plans",
        sa.Column("plan_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("branch_id", sa.String(32)),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("cadence_days", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "planned_contacts",
        sa.Column("contact_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("refused_rules", sa.String(100)),
        sa.Column("outcome", sa.String(24)),
        sa.Column("done_by", sa.String(64)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["contact_plans.plan_id"],
            name=op.f("fk_planned_contacts_plan_id_contact_plans"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_planned_contacts_customer_id_customers"),
        ),
        sa.UniqueConstraint("plan_id", "customer_id", "due_on", name="uq_planned_contacts_plan_id"),
    )
    op.create_index("ix_planned_contacts_due_on_status", "planned_contacts", ["due_on", "status"])


def downgrade() -> None:
    op.drop_table("planned_contacts")
    op.drop_table("contact_plans")
