"""collections: legal cases, write-offs and asset disposals

Revision ID: 0007
Revises: 0006

Hand-written; the tables are defined in `postloan.collections.legal_tables`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.String(length=64)


def _fk(table: str, column: str, referred: str, referred_column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.{referred_column}"], name=op.f(f"fk_{table}_{column}_{referred}")
    )


def upgrade() -> None:
    op.create_table(
        "legal_proposals",
        sa.Column("proposal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("case_opened_on", sa.Date(), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("max_dpd", sa.Integer(), nullable=False),
        sa.Column("failed_contacts", sa.Integer(), nullable=False),
        sa.Column("overdue_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _fk("legal_proposals", "customer_id", "customers", "customer_id"),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_legal_proposals")),
        sa.UniqueConstraint(
            "customer_id", "case_opened_on", name=op.f("uq_legal_proposals_episode")
        ),
    )
    with op.batch_alter_table("legal_proposals", schema=None) as batch_op:
        batch_op.create_index("ix_legal_proposals_status", ["status"])
    op.create_table(
        "legal_matters",
        sa.Column("matter_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("case_opened_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("claim_amount", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        _fk("legal_matters", "proposal_id", "legal_proposals", "proposal_id"),
        _fk("legal_matters", "customer_id", "customers", "customer_id"),
        sa.PrimaryKeyConstraint("matter_id", name=op.f("pk_legal_matters")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_legal_matters_proposal_id")),
    )
    with op.batch_alter_table("legal_matters", schema=None) as batch_op:
        batch_op.create_index("ix_legal_matters_customer_id", ["customer_id"])
        batch_op.create_index("ix_legal_matters_status", ["status"])
    op.create_table(
        "legal_stages",
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        _fk("legal_stages", "matter_id", "legal_matters", "matter_id"),
        sa.PrimaryKeyConstraint("matter_id", "stage", name=op.f("pk_legal_stages")),
    )
    op.create_table(
        "legal_documents",
        sa.Column("document_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("dated_on", sa.Date(), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        _fk("legal_documents", "matter_id", "legal_matters", "matter_id"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_legal_documents")),
    )
    with op.batch_alter_table("legal_documents", schema=None) as batch_op:
        batch_op.create_index("ix_legal_documents_matter_id", ["matter_id"])
    op.create_table(
        "legal_costs",
        sa.Column("cost_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=24), nullable=False),
        sa.Column("category", sa.String(length=48), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _fk("legal_costs", "matter_id", "legal_matters", "matter_id"),
        sa.PrimaryKeyConstraint("cost_id", name=op.f("pk_legal_costs")),
    )
    with op.batch_alter_table("legal_costs", schema=None) as batch_op:
        batch_op.create_index("ix_legal_costs_matter_id", ["matter_id"])
        batch_op.create_index("ix_legal_costs_incurred_on", ["incurred_on"])
    op.create_table(
        "account_disposals",
        sa.Column("disposal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("interest", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("proceeds", sa.BigInteger(), nullable=True),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        _fk("account_disposals", "customer_id", "customers", "customer_id"),
        _fk("account_disposals", "matter_id", "legal_matters", "matter_id"),
        sa.PrimaryKeyConstraint("disposal_id", name=op.f("pk_account_disposals")),
    )
    with op.batch_alter_table("account_disposals", schema=None) as batch_op:
        batch_op.create_index("ix_account_disposals_account_id", ["account_id"])
        batch_op.create_index(
            "ix_account_disposals_status_effective_on", ["status", "effective_on"]
        )


def downgrade() -> None:
    for table, indexes in (
        ("account_disposals", ("ix_account_disposals_account_id",
                               "ix_account_disposals_status_effective_on")),
        ("legal_costs", ("ix_legal_costs_matter_id", "ix_legal_costs_incurred_on")),
        ("legal_documents", ("ix_legal_documents_matter_id",)),
        ("legal_stages", ()),
        ("legal_matters", ("ix_legal_matters_customer_id", "ix_legal_matters_status")),
        ("legal_proposals", ("ix_legal_proposals_status",)),
    ):  # fmt: skip
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for index in indexes:
                    batch_op.drop_index(index)
        op.drop_table(table)
