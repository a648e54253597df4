"""churn area: identification per stored date, the dates churn ran, the pool's episodes,
officers' reasons and screenings

Revision ID: c001
Revises: 0009 (a branch of its own from there: branch label "churn")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c001"
down_revision = "0009"  # branches off the core chain
branch_labels = ("churn",)
depends_on = None

_ID = sa.String(length=64)
_RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out", "inactive")


def upgrade() -> None:
    op.create_table(
        "churn_identified",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        *(sa.Column(name, sa.Boolean(), nullable=False) for name in _RULES),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("max_dpd", sa.Integer(), nullable=False),
        sa.Column("open_accounts", sa.Integer(), nullable=False),
        sa.Column("degree", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("suggested_reason", sa.String(length=16), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_churn_identified_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", "customer_id", name=op.f("pk_churn_identified")),
    )  # fmt: skip
    op.create_index(
        "ix_churn_identified_customer_id_as_of", "churn_identified", ["customer_id", "as_of"]
    )
    op.create_table(
        "churn_dates",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("identified", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_churn_dates_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_churn_dates")),
    )
    op.create_table(
        "churn_episodes",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=16), nullable=True),
        sa.Column("entry_rules", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "entered_on", name=op.f("pk_churn_episodes")),
    )
    op.create_index("ix_churn_episodes_left_on", "churn_episodes", ["left_on"])
    op.create_table(
        "churn_reasons",
        sa.Column("reason_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("suggested", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_churn_reasons_customer_id_customers")),
        sa.PrimaryKeyConstraint("reason_id", name=op.f("pk_churn_reasons")),
    )  # fmt: skip
    op.create_index("ix_churn_reasons_customer_id_as_of", "churn_reasons", ["customer_id", "as_of"])
    op.create_table(
        "churn_screenings",
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("degree", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("screened_on", "customer_id", name=op.f("pk_churn_screenings")),
    )


def downgrade() -> None:
    for table in ("churn_screenings", "churn_reasons", "churn_episodes",
                  "churn_dates", "churn_identified"):  # fmt: skip
        op.drop_table(table)
