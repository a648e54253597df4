"""collections: cases, their stage history and accounts; tasks (reminders); contacts

Revision ID: 0003
Revises: 0002

Hand-written; the tables are defined in `postloan.collections.tables` (on the store's metadata).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("opened_max_dpd", sa.Integer(), nullable=False),
        sa.Column("opened_overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("opened_run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_cases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["opened_run_id"], ["runs.run_id"], name=op.f("fk_cases_opened_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_customer_id_status", ["customer_id", "status"])
        batch_op.create_index("ix_cases_status", ["status"])
    op.create_table(
        "case_stages",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_case_stages_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "entered_on", name=op.f("pk_case_stages")),
    )
    op.create_table(
        "case_accounts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_case_accounts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", "account_id", name=op.f("pk_case_accounts")),
    )
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("overdue_from", sa.Date(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("due_by", sa.Date(), nullable=False),
        sa.Column("pay_by", sa.Date(), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"], name=op.f("fk_tasks_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_tasks")),
        sa.UniqueConstraint(
            "kind", "account_id", "overdue_from", name="uq_tasks_kind_account_episode"
        ),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_status_due_by", ["status", "due_by"])
        batch_op.create_index("ix_tasks_customer_id", ["customer_id"])
    op.create_table(
        "contacts",
        sa.Column("contact_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("staff", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("promise_amount", sa.BigInteger(), nullable=True),
        sa.Column("promise_date", sa.Date(), nullable=True),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name=op.f("fk_contacts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contacts")),
    )  # fmt: skip
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index("ix_contacts_customer_id_at", ["customer_id", "at"])
    op.create_table(
        "contact_refusals",
        sa.Column("refusal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("refusal_id", name=op.f("pk_contact_refusals")),
    )
    op.create_table(
        "contact_opt_outs",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.customer_id"],
            name=op.f("fk_contact_opt_outs_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "channel", name=op.f("pk_contact_opt_outs")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("contact_opt_outs")
    op.drop_table("contact_refusals")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index("ix_contacts_customer_id_at")
    op.drop_table("contacts")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_customer_id")
        batch_op.drop_index("ix_tasks_status_due_by")
    op.drop_table("tasks")
    op.drop_table("case_accounts")
    op.drop_table("case_stages")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_status")
        batch_op.drop_index("ix_cases_customer_id_status")
    op.drop_table("cases")
