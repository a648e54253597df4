"""Repayment agreements (OD-4) and restructurings (migration 0006).

`agreements` holds one row per agreement, from proposal (the maker) to decision (the checker).
`live_account_id` is the account id while the agreement is `proposed` and NULL otherwise: its
unique constraint is "one live agreement per account", enforced by the database on SQLite and
PostgreSQL alike (both let any number of NULLs through a unique constraint).

`agreement_instalments` is the loan's whole schedule from the agreement's effective date on,
fixed at approval: the instalments already paid as they were, then the agreed ones (`agreed`).
The daily run uses it in place of the loan's earlier schedule for dates on or after
`effective_date` (`runs.load`, `engine.schedule_versions`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from postloan.store.schema import ID, metadata
from postloan.store.values import UTCDateTime

agreements = Table(
    "agreements",
    metadata,
    Column("agreement_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ID, ForeignKey("loans.loan_id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(12), nullable=False),  # instalments | extension
    Column("status", String(12), nullable=False),  # proposed | approved | rejected | withdrawn
    Column("live_account_id", ID),  # = account_id while proposed (see module doc)
    Column("instalments", Integer),  # kind instalments: N new monthly instalments
    Column("first_due_date", Date),  # kind instalments: the first new due date
    Column("extension_months", Integer),  # kind extension: M months later
    Column("reason", Text),  # why the customer fell behind, what was agreed (OD-4)
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Column("proposed_as_of", Date, nullable=False),  # the stored status date it relied on
    Column("dpd_at_proposal", Integer, nullable=False),
    Column("amount", BigInteger, nullable=False),  # what the agreement re-spreads or moves
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime()),
    Column("decision_note", Text),
    # Set on approval:
    Column("effective_date", Date),  # the first business date the new schedule applies to
    Column("first_agreed_due", Date),  # the observation period starts here
    Column("class_at_restructuring", String(16)),  # the stored class the day before
    Column("repeat", Boolean),  # restructured again while still under observation
    UniqueConstraint("live_account_id", name="uq_agreements_live_account_id"),
    Index("ix_agreements_account_id", "account_id"),
    Index("ix_agreements_customer_id", "customer_id"),
    Index("ix_agreements_status", "status"),
)

agreement_instalments = Table(
    "agreement_instalments",
    metadata,
    Column("agreement_id", Integer, ForeignKey("agreements.agreement_id"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("principal_due", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
    Column("agreed", Boolean, nullable=False),  # a new (or moved) instalment of the agreement
)
