"""collections: allocation, reassignment log, case ratings, strategies

Revision ID: 0008
Revises: 0007

Hand-written; the tables are defined in `postloan.collections.casework_tables`.
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
