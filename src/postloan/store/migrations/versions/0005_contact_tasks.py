"""collections: scheduled contact tasks (weekly floors)

Revision ID: 0005
Revises: 0004

Hand-written; the tables are defined in `postloan.collections.tables`.
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
