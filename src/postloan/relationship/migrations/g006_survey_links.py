"""relationship area: a survey response names the invitation it answers (at most one response
per invitation) and may carry the customer's comment; survey follow-ups for the departments
that own a low-scored dimension

Revision ID: g006
Revises: g005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g006"
down_revision = "g005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: walk-in responses (and those entered before) answer no invitation
    op.add_column("survey_responses", sa.Column("invitation_id", sa.Integer()))
    op.add_column("survey_responses", sa.Column("comment", sa.Text()))
    op.create_index(
        "ux_survey_responses_invitation_id", "survey_responses", ["invitation_id"], unique=True
    )
    op.create_table(
        "survey_followups",
        sa.Column("followup_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("dimensions", sa.String(400), nullable=False),
        sa.Column("lowest", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text()),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.response_id"],
            name=op.f("fk_survey_followups_response_id_survey_responses"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.customer_id"],
            name=op.f("fk_survey_followups_customer_id_customers"),
        ),
        sa.UniqueConstraint("response_id", "department", name="uq_survey_followups_response_id"),
    )
    op.create_index(
        "ix_survey_followups_department_status", "survey_followups", ["department", "status"]
    )


def downgrade() -> None:
    op.drop_table("survey_followups")
    op.drop_index("ux_survey_responses_invitation_id", table_name="survey_responses")
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("comment")
        batch.drop_column("invitation_id")
