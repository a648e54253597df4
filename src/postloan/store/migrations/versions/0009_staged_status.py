"""runs: staged_status, a run's account-status rows until the run publishes them

Revision ID: 0009
Revises: 0008

Hand-written; the table is defined in `postloan.store.schema` (the same columns as
account_status, no keys: rows are only appended by one run and moved out by it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "staged_status",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("account_type", sa.String(length=8), nullable=False),
        sa.Column("outstanding_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_principal", sa.BigInteger(), nullable=False),
        sa.Column("overdue_interest", sa.BigInteger(), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("risk_class", sa.String(length=16), nullable=False),
        sa.Column("consecutive_overdue_periods", sa.Integer(), nullable=False),
        sa.Column("cumulative_overdue_periods", sa.Integer(), nullable=False),
        sa.Column("last_payment_date", sa.Date(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("restructured", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staged_status")
