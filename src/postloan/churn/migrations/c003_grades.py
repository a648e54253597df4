"""churn area: the first churn date of each episode at each grade (derived; read by measures)

Revision ID: c003
Revises: c002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c003"
down_revision = "c002"
branch_labels = None
depends_on = None

# The table is derived from the identification rows and the episodes: filled here from what is
# stored, kept by `churn.identify` from then on.
_BACKFILL = """
INSERT INTO churn_grades (customer_id, entered_on, grade, first_on)
SELECT i.customer_id, e.entered_on, i.grade, MIN(i.as_of)
FROM churn_identified i
JOIN churn_episodes e ON e.customer_id = i.customer_id AND i.as_of >= e.entered_on
  AND (e.left_on IS NULL OR i.as_of < e.left_on)
GROUP BY i.customer_id, e.entered_on, i.grade
"""


def upgrade() -> None:
    op.create_table(
        "churn_grades",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "entered_on", "grade",
                                name=op.f("pk_churn_grades")),
    )  # fmt: skip
    op.create_index("ix_churn_grades_first_on", "churn_grades", ["first_on"])
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_churn_grades_first_on", table_name="churn_grades")
    op.drop_table("churn_grades")
