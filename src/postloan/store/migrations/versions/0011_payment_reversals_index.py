"""store: a partial index on payments.reverses_payment_id (reversals only)

Revision ID: 0011
Revises: 0010

Hand-written; the index is declared in `postloan.store.schema`. Joins from a payment to its
reversal (collections' cash, the month totals) made SQLite build an automatic index over every
payment each time: 11.5 s → 0.4 s for one month's pool at 100k accounts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHERE = sa.text("reverses_payment_id IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_payments_reverses_payment_id",
        "payments",
        ["reverses_payment_id"],
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_payments_reverses_payment_id", table_name="payments")
