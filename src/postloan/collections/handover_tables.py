"""Collections' table for work handed over by other areas (`collections.handover`), created by
collections' own migration branch (`collections/migrations`, branch label "collections").

- `handovers`: one row per hand-over, keyed by the handing area and its key (`source`,
  `source_key`: churn hands over a level-1 pool episode and grade). The actions asked for are
  the recovery team's to decide: open → accepted (worked by collections) or declined (with a
  reason).
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

handovers = Table(
    "handovers",
    metadata,
    Column("handover_id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),  # the handing area, e.g. "churn"
    Column("source_key", String(128), nullable=False),  # its key for the hand-over
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("handed_on", Date, nullable=False),  # the business date it was handed over
    Column("actions", String(200), nullable=False),  # asked for, comma-separated
    Column("overdue_amount", BigInteger, nullable=False),  # on handed_on, minor units
    Column("max_dpd", Integer, nullable=False),
    Column("basis", Text, nullable=False),  # why (JSON, from the handing area)
    Column("status", String(12), nullable=False),  # open | accepted | declined
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime()),
    Column("decision_note", Text),
    UniqueConstraint("source", "source_key", name="uq_handovers_source_key"),
    Index("ix_handovers_customer_id", "customer_id"),
)
