"""collections: allocation, reassignment log, case ratings, strategies

Revision ID: 0008
Revises: 0007

Hand-written; the tables are defined in `postloan.collections.casework_tables`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)


def _fk(table: str, column: str, referred: str, referred_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.{referred_column}"], name=op.f(f"fk_{table}_{column}_{referred}")
    )


def upgrade() -> None:
    op.create_table(
        "case_strategies",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("case_opened_on", sa.Date(), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("arm", sa.String(length=12), nullable=False),
        _fk("case_strategies", "customer_id", "customers", "customer_id"),
        sa.PrimaryKeyConstraint(
            "customer_id", "case_opened_on", "entered_on", name=op.f("pk_case_strategies")
        ),
    )
    with op.batch_alter_table("case_strategies", schema=None) as batch_op:
        batch_op.create_index("ix_case_strategies_strategy", ["strategy"])
    op.create_table(
        "case_ratings",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("case_opened_on", sa.Date(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("dpd_points", sa.Integer(), nullable=False),
        sa.Column("amount_points", sa.Integer(), nullable=False),
        sa.Column("capacity_points", sa.Integer(), nullable=False),
        sa.Column("credit_points", sa.Integer(), nullable=False),
        _fk("case_ratings", "customer_id", "customers", "customer_id"),
        sa.PrimaryKeyConstraint(
            "customer_id", "case_opened_on", "rated_on", name=op.f("pk_case_ratings")
        ),
    )
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        _fk("alerts", "customer_id", "customers", "customer_id"),
        _fk("alerts", "event_id", "events", "event_id"),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("kind", "event_id", name=op.f("uq_alerts_kind_event")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_customer_id", ["customer_id"])
    op.create_table(
        "case_collectors",
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=8), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        _fk("case_collectors", "customer_id", "customers", "customer_id"),
        _fk("case_collectors", "user_id", "users", "user_id"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_case_collectors")),
    )
    with op.batch_alter_table("case_collectors", schema=None) as batch_op:
        batch_op.create_index("ix_case_collectors_user_id", ["user_id"])
    op.create_table(
        "reassignments",
        sa.Column("log_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=True),
        sa.Column("to_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=True),
        _fk("reassignments", "from_user_id", "users", "user_id"),
        _fk("reassignments", "to_user_id", "users", "user_id"),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_reassignments")),
    )
    with op.batch_alter_table("reassignments", schema=None) as batch_op:
        batch_op.create_index("ix_reassignments_customer_id", ["customer_id"])


def downgrade() -> None:
    for table, index in (
        ("reassignments", "ix_reassignments_customer_id"),
        ("case_collectors", "ix_case_collectors_user_id"),
        ("alerts", "ix_alerts_customer_id"),
        ("case_strategies", "ix_case_strategies_strategy"),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
    for table in ("reassignments", "case_collectors", "alerts", "case_ratings", "case_strategies"):
        op.drop_table(table)
