"""collections: repayment agreements (maker-checker), restructuring

Revision ID: 0006
Revises: 0005

Hand-written; the tables are defined in `postloan.collections.agreement_tables`, the
`account_status.restructured` column in `postloan.store.schema`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("agreement_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("live_account_id", sa.String(length=64), nullable=True),
        sa.Column("instalments", sa.Integer(), nullable=True),
        sa.Column("first_due_date", sa.Date(), nullable=True),
        sa.Column("extension_months", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proposed_as_of", sa.Date(), nullable=False),
        sa.Column("dpd_at_proposal", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("first_agreed_due", sa.Date(), nullable=True),
        sa.Column("class_at_restructuring", sa.String(length=16), nullable=True),
        sa.Column("repeat", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["loans.loan_id"], name=op.f("fk_agreements_account_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_agreements_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("agreement_id", name=op.f("pk_agreements")),
        sa.UniqueConstraint("live_account_id", name="uq_agreements_live_account_id"),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index("ix_agreements_account_id", ["account_id"])
        batch_op.create_index("ix_agreements_customer_id", ["customer_id"])
        batch_op.create_index("ix_agreements_status", ["status"])
    op.create_table(
        "agreement_instalments",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("principal_due", sa.BigInteger(), nullable=False),
        sa.Column("interest_due", sa.BigInteger(), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.agreement_id"],
            name=op.f("fk_agreement_instalments_agreement_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("agreement_id", "period", name=op.f("pk_agreement_instalments")),
    )
    with op.batch_alter_table("account_status", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restructured", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("account_status", schema=None) as batch_op:
        batch_op.drop_column("restructured")
    op.drop_table("agreement_instalments")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index("ix_agreements_status")
        batch_op.drop_index("ix_agreements_customer_id")
        batch_op.drop_index("ix_agreements_account_id")
    op.drop_table("agreements")
