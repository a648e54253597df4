"""collections: repayment agreements (maker-checker), restructuring

Revision ID: 0006
Revises: 0005

Hand-written; the tables are defined in `postloan.collections.agreement_tables`.
"""

from __future__ import annotations

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
