"""collections: promises to pay, case priority

Revision ID: 0004
Revises: 0003

Hand-written; the tables are defined in `postloan.collections.tables`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("promise_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.contact_id"], name=op.f("fk_promises_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("promise_id", name=op.f("pk_promises")),
    )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.create_index("ix_promises_customer_id", ["customer_id"])
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("priority")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_index("ix_promises_customer_id")
    op.drop_table("promises")
