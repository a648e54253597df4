"""Strategies (OD-9), ratings and alerts (OD-7), collectors and the reassignment log (ORG-1)
(migration 0008).

Like the other work items these name the customer and the case *episode* (the date its case
opened), never a case id: the daily run rebuilds cases (a replayed date gets new case ids),
while the strategy a case ran, its rating history and who works it must stay.

- `case_strategies`: one row per stage a case entered (mirrors `case_stages`), with the
  strategy it ran there and its arm (champion | challenger). Rebuilt for replayed dates: a
  deterministic function of the case history and the policy.
- `case_ratings`: a case's risk score and grade on each date it changed (history).
- `alerts`: risk alerts (an `asset_transfer` of a customer in collections), one per event;
  acknowledged by the risk team.
- `case_collectors`: the collector the allocation (or a supervisor) gave the customer — one per
  customer (exclusive, the primary key); mirrored in `access.tables.assignments`, which is what
  grants the collector the customer's data.
- `reassignments`: every allocation, release and reassignment — who, from, to, when, why.
"""

from __future__ import annotations

from sqlalchemy import (
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

import postloan.access.tables  # noqa: F401  (users, referred to below)
from postloan.store.schema import ID, metadata
from postloan.store.values import UTCDateTime

case_strategies = Table(
    "case_strategies",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.customer_id"), primary_key=True),
    Column("case_opened_on", Date, primary_key=True),  # the case episode
    Column("entered_on", Date, primary_key=True),  # the day the case entered the stage
    Column("stage", String(16), nullable=False),
    Column("strategy", String(32), nullable=False),  # a name of policy.strategies.catalogue
    Column("arm", String(12), nullable=False),  # champion | challenger
    Index("ix_case_strategies_strategy", "strategy"),
)

case_ratings = Table(
    "case_ratings",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.customer_id"), primary_key=True),
    Column("case_opened_on", Date, primary_key=True),
    Column("rated_on", Date, primary_key=True),  # a business date the rating changed
    Column("score", Integer, nullable=False),  # 0-100, higher = riskier
    Column("grade", String(8), nullable=False),
    Column("dpd_points", Integer, nullable=False),
    Column("amount_points", Integer, nullable=False),
    Column("capacity_points", Integer, nullable=False),
    Column("credit_points", Integer, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(24), nullable=False),  # asset_transfer
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("event_id", ID, ForeignKey("events.event_id"), nullable=False),
    Column("event_date", Date, nullable=False),
    Column("raised_on", Date, nullable=False),  # the business date that raised it
    Column("detail", Text),
    Column("acknowledged_by", String(64)),
    Column("acknowledged_at", UTCDateTime()),
    UniqueConstraint("kind", "event_id", name="uq_alerts_kind_event"),
    Index("ix_alerts_customer_id", "customer_id"),
)

case_collectors = Table(
    "case_collectors",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.customer_id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False),
    Column("how", String(8), nullable=False),  # auto | manual
    Column("assigned_at", UTCDateTime(), nullable=False),
    Index("ix_case_collectors_user_id", "user_id"),
)

reassignments = Table(
    "reassignments",
    metadata,
    Column("log_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, nullable=False),
    Column("kind", String(12), nullable=False),  # allocate | reallocate | reassign | release
    Column("from_user_id", Integer, ForeignKey("users.user_id")),
    Column("to_user_id", Integer, ForeignKey("users.user_id")),
    Column("reason", Text, nullable=False),
    Column("by", String(64), nullable=False),  # a username, or "system" for the daily run
    Column("at", UTCDateTime(), nullable=False),
    Column("business_date", Date),  # the run's date, for the daily run's rows
    Index("ix_reassignments_customer_id", "customer_id"),
)
