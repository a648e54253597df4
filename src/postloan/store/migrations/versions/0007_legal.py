"""collections: legal cases, write-offs and asset disposals

Revision ID: 0007
Revises: 0006

Hand-written; the tables are defined in `postloan.collections.legal_tables`.
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
