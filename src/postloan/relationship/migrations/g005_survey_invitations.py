"""relationship area: survey invitations after an event (a case closed, a complaint decided)

Revision ID: g005
Revises: g004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g005"
down_revision = "g004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("invitation_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("event_key", sa.String(80), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("refused_rules", sa.String(100)),
        sa.UniqueConstraint("event_key", name=op.f("uq_survey_invitations_event_key")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_survey_invitations_customer_id_customers"),
        ),
    )
    op.create_index(
        "ix_survey_invitations_customer_id_invited_on",
        "survey_invitations",
        ["customer_id", "invited_on"],
    )


def downgrade() -> None:
    op.drop_table("survey_invitations")
