"""risk area: scores, signal hits, the watch list, tasks and officers' overrides

Revision ID: r001
Revises: 0009 (a branch of its own from there: branch label "risk")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r001"
down_revision = "0009"  # branches off the core chain
branch_labels = ("risk",)
depends_on = None

_ID = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "risk_scores",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("worst_dpd", sa.Integer(), nullable=False),
        sa.Column("times_late", sa.Integer(), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("debt_ratio", sa.Integer(), nullable=True),
        sa.Column("income_drop_pct", sa.Integer(), nullable=False),
        sa.Column("income_reported_on", sa.Date(), nullable=True),
        sa.Column("industry_listed", sa.Boolean(), nullable=False),
        sa.Column("churn_grade", sa.Integer(), nullable=True),
        *(sa.Column(f"{name}_points", sa.Integer(), nullable=False)
          for name in ("credit", "capacity", "industry", "churn")),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"],
                                name=op.f("fk_risk_scores_run_id_runs")),
        sa.PrimaryKeyConstraint("as_of", "customer_id", name=op.f("pk_risk_scores")),
    )  # fmt: skip
    op.create_index("ix_risk_scores_customer_id_as_of", "risk_scores", ["customer_id", "as_of"])
    op.create_table(
        "risk_hits",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("signal_id", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("as_of", "customer_id", "signal_id", name=op.f("pk_risk_hits")),
    )
    op.create_index("ix_risk_hits_customer_id_as_of", "risk_hits", ["customer_id", "as_of"])
    op.create_table(
        "risk_watch",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("entry_signals", sa.String(length=400), nullable=False),
        sa.Column("exit_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", "entered_on", name=op.f("pk_risk_watch")),
    )
    op.create_index("ix_risk_watch_left_on", "risk_watch", ["left_on"])
    op.create_table(
        "risk_tasks",
        sa.Column("task_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("signal_id", sa.String(length=32), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("owner_role", sa.String(length=32), nullable=False),
        sa.Column("response", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_risk_tasks_customer_id_customers")),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_risk_tasks")),
        sa.UniqueConstraint("customer_id", "signal_id", "opened_on",
                            name="uq_risk_tasks_customer_signal_opened"),
    )  # fmt: skip
    op.create_index("ix_risk_tasks_status_due_on", "risk_tasks", ["status", "due_on"])
    op.create_table(
        "risk_overrides",
        sa.Column("override_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_grade", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.customer_id"],
                                name=op.f("fk_risk_overrides_customer_id_customers")),
        sa.PrimaryKeyConstraint("override_id", name=op.f("pk_risk_overrides")),
    )  # fmt: skip
    op.create_index("ix_risk_overrides_customer_id", "risk_overrides", ["customer_id"])


def downgrade() -> None:
    for table in ("risk_overrides", "risk_tasks", "risk_watch", "risk_hits", "risk_scores"):
        op.drop_table(table)
