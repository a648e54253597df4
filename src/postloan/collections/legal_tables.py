"""Legal matters (OD-8, OD-10), write-offs and asset disposals (migration 0007).

Like the other work items these name the customer (and the case *episode* by the date its case
opened), never a case id: cases are rebuilt by the daily run, legal work stays.

- `legal_proposals`: the daily run proposes legal action once per case episode (customer,
  case_opened_on); a legal officer accepts or declines it.
- `legal_matters`: an accepted proposal, moving through stages (`legal_stages`: one row per
  stage entered, with its dates), with documents (`legal_documents`; a document whose kind is an
  evidence item of the policy's checklist is that evidence) and costs (`legal_costs`).
- `account_disposals`: write-off (核销) or asset disposal (资产处置) of one account —
  maker-checker; once approved, the account is out of the performing pool from `effective_on`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

legal_proposals = Table(
    "legal_proposals",
    metadata,
    Column("proposal_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("case_opened_on", Date, nullable=False),  # the case episode
    Column("proposed_on", Date, nullable=False),  # the first business date it qualified
    Column("max_dpd", Integer, nullable=False),  # on proposed_on
    Column("failed_contacts", Integer, nullable=False),  # in the episode up to proposed_on
    Column("overdue_amount", BigInteger, nullable=False),  # the customer's, on proposed_on
    Column("status", String(12), nullable=False),  # proposed | accepted | declined
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime()),
    Column("decision_note", Text),
    UniqueConstraint("customer_id", "case_opened_on", name="uq_legal_proposals_episode"),
    Index("ix_legal_proposals_status", "status"),
)

legal_matters = Table(
    "legal_matters",
    metadata,
    Column("matter_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "proposal_id",
        Integer,
        ForeignKey("legal_proposals.proposal_id"),
        nullable=False,
        unique=True,
    ),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("case_opened_on", Date, nullable=False),
    Column("stage", String(24), nullable=False),  # lawyer_letter … enforcement | closed
    Column("status", String(8), nullable=False),  # open | closed
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("close_reason", String(16)),  # collections.legal_matters.CLOSE_REASONS
    # What is claimed: outstanding principal + overdue interest on the latest stored date when
    # the matter opened (minor units).
    Column("claim_amount", BigInteger, nullable=False),
    Column("owner", String(64), nullable=False),  # the legal officer who accepted it
    Index("ix_legal_matters_customer_id", "customer_id"),
    Index("ix_legal_matters_status", "status"),
)

legal_stages = Table(
    "legal_stages",
    metadata,
    Column("matter_id", Integer, ForeignKey("legal_matters.matter_id"), primary_key=True),
    Column("stage", String(24), primary_key=True),  # each stage is entered at most once
    Column("entered_on", Date, nullable=False),
    Column("left_on", Date),
    Column("reference", String(128)),  # e.g. the court's case number (案号)
    Column("entered_by", String(64), nullable=False),
    Column("note", Text),
)

legal_documents = Table(
    "legal_documents",
    metadata,
    Column("document_id", Integer, primary_key=True, autoincrement=True),
    Column("matter_id", Integer, ForeignKey("legal_matters.matter_id"), nullable=False),
    Column("stage", String(24), nullable=False),  # the matter's stage when it was added
    Column("name", String(200), nullable=False),
    Column("kind", String(48), nullable=False),  # an evidence item of the policy, or any kind
    Column("reference", Text, nullable=False),  # path, URL or archive number (no file storage)
    Column("dated_on", Date),
    Column("added_by", String(64), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Index("ix_legal_documents_matter_id", "matter_id"),
)

legal_costs = Table(
    "legal_costs",
    metadata,
    Column("cost_id", Integer, primary_key=True, autoincrement=True),
    Column("matter_id", Integer, ForeignKey("legal_matters.matter_id"), nullable=False),
    Column("stage", String(24), nullable=False),
    Column("category", String(48), nullable=False),  # policy.legal.cost_categories
    Column("amount", BigInteger, nullable=False),  # minor units, > 0
    Column("incurred_on", Date, nullable=False),
    Column("note", Text),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_legal_costs_matter_id", "matter_id"),
    Index("ix_legal_costs_incurred_on", "incurred_on"),
)

account_disposals = Table(
    "account_disposals",
    metadata,
    Column("disposal_id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ID, nullable=False),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # write_off | asset_disposal
    Column("effective_on", Date, nullable=False),
    # Taken out of the books (minor units): the written-off or transferred claim.
    Column("principal", BigInteger, nullable=False),
    Column("interest", BigInteger, nullable=False),
    Column("fee", BigInteger, nullable=False),
    Column("proceeds", BigInteger),  # asset disposal: the price received
    Column("counterparty", String(200)),  # asset disposal: the buyer (e.g. an AMC)
    Column("reason", Text, nullable=False),
    Column("matter_id", Integer, ForeignKey("legal_matters.matter_id")),
    Column("status", String(10), nullable=False),  # proposed | approved | rejected
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime()),
    Column("decision_note", Text),
    Index("ix_account_disposals_account_id", "account_id"),
    Index("ix_account_disposals_status_effective_on", "status", "effective_on"),
)
