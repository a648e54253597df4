"""relationship area: complaints and their events, hardship plans, the loyalty ledger
(append-only: UPDATE and DELETE refused by triggers) and offers, survey versions and responses

Revision ID: g001
Revises: 0009 (a branch of its own from there: branch label "relationship")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "g001"  # "r001" is risk's, "p001" the test ping area's: revision ids are global
down_revision = "0009"  # branches off the core chain
branch_labels = ("relationship",)
depends_on = None

_ID = sa.String(length=64)
_TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}")
    )


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("account_id", _ID),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("business_type", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("complained_about", sa.String(400), nullable=False),
        sa.Column("handler", sa.String(64)),
        sa.Column("complex", sa.Boolean(), nullable=False),
        sa.Column("complex_reason", sa.Text()),
        sa.Column("extension_approved_by", sa.String(64)),
        sa.Column("extension_notice_on", sa.Date()),
        sa.Column("decided_on", sa.Date()),
        sa.Column("outcome", sa.String(16)),
        sa.Column("decision", sa.Text()),
        sa.Column("root_cause", sa.Text()),
        sa.Column("fix", sa.Text()),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("complaints", "customer_id", "customers.customer_id"),
    )
    op.create_index("ix_complaints_customer_id", "complaints", ["customer_id"])
    op.create_index("ix_complaints_received_on", "complaints", ["received_on"])
    op.create_table(
        "complaint_events",
        sa.Column("event_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _fk("complaint_events", "complaint_id", "complaints.complaint_id"),
    )
    op.create_index("ix_complaint_events_complaint_id", "complaint_events", ["complaint_id"])
    op.create_table(
        "hardship_plans",
        sa.Column("plan_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("account_type", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(8), nullable=False),
        sa.Column("oral_record", sa.Text()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_on", sa.Date()),
        sa.Column("ended_on", sa.Date()),
        sa.Column("end_note", sa.Text()),
        sa.Column("hold_key", sa.String(128)),
        sa.Column("created_at", _TS, nullable=False),
        _fk("hardship_plans", "customer_id", "customers.customer_id"),
    )
    op.create_index("ix_hardship_plans_customer_id", "hardship_plans", ["customer_id"])
    op.create_table(
        "loyalty_ledger",
        sa.Column("entry_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("entry_on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("rule", sa.String(64)),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        _fk("loyalty_ledger", "customer_id", "customers.customer_id"),
        sa.UniqueConstraint("key", name=op.f("uq_loyalty_ledger_key")),
    )
    op.create_index(
        "ix_loyalty_ledger_customer_id_entry_on", "loyalty_ledger", ["customer_id", "entry_on"]
    )
    _append_only("loyalty_ledger")
    op.create_table(
        "loyalty_offers",
        sa.Column("offer_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rate_discount", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer()),
        sa.Column("complaint_id", sa.Integer()),
        sa.Column("offered_on", sa.Date(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        _fk("loyalty_offers", "customer_id", "customers.customer_id"),
        _fk("loyalty_offers", "entry_id", "loyalty_ledger.entry_id"),
        _fk("loyalty_offers", "complaint_id", "complaints.complaint_id"),
    )
    op.create_index("ix_loyalty_offers_customer_id", "loyalty_offers", ["customer_id"])
    op.create_table(
        "survey_versions",
        sa.Column("version_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "survey_responses",
        sa.Column("response_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("branch_id", sa.String(32)),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("csat", sa.Integer(), nullable=False),
        sa.Column("nps", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("entered_by", sa.String(64), nullable=False),
        _fk("survey_responses", "version_id", "survey_versions.version_id"),
        _fk("survey_responses", "customer_id", "customers.customer_id"),
    )
    op.create_index("ix_survey_responses_answered_on", "survey_responses", ["answered_on"])


def _append_only(table: str) -> None:
    """The ledger is append-only in the database too: UPDATE and DELETE abort."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS loyalty_ledger_no_change ON loyalty_ledger")
        op.execute("DROP FUNCTION IF EXISTS loyalty_ledger_append_only()")
    for table in (
        "survey_responses",
        "survey_versions",
        "loyalty_offers",
        "loyalty_ledger",
        "hardship_plans",
        "complaint_events",
        "complaints",
    ):
        op.drop_table(table)
