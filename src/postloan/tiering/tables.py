"""Tiering's tables (on the store's metadata; created by the area's migration branch
`tiering/migrations`).

- `tier_assignments`: one row per customer with accounts in status on a stored date — the LY-1
  classes, the qualified and the held tier (hysteresis state: `streak`, `streak_worst`), the
  figures they came from, the RFM scores and segment, the ABC value and class and the need
  level with its signals (ABC's need, `rules/need.py`). Derived by
  the daily step from the run's first date on; what `postloan export tiers` writes.
- `tier_dates`: the dates tiered (run, policy version, customers).
- `tier_tree_proposals` (t003): decision trees fitted on the history and proposed for the
  policy — their rules (JSON), the window and policy version they came from, the proposer, and
  the second person's decision (maker-checker; `tiering.adoption`).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from postloan.store.schema import ID, metadata

tier_assignments = Table(
    "tier_assignments",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("branch_id", String(32)),
    Column("purpose_class", String(16), nullable=False),
    Column("credit_status", String(8), nullable=False),
    Column("capacity", String(8), nullable=False),
    Column("qualified_tier", String(8), nullable=False),  # before hysteresis
    Column("tier", String(8), nullable=False),  # held
    Column("streak", Integer, nullable=False),  # consecutive dates qualifying better
    Column("streak_worst", String(8)),  # worst tier qualified over the streak
    Column("worst_class", String(16), nullable=False),  # five-category class, worst account
    Column("open_case", Boolean, nullable=False),
    Column("balance", BigInteger, nullable=False),
    Column("npl_balance", BigInteger, nullable=False),
    Column("max_dpd", Integer, nullable=False),
    Column("times_late", Integer, nullable=False),
    Column("instalments", BigInteger, nullable=False),
    Column("recency_days", Integer),
    Column("frequency", Integer, nullable=False),
    Column("rfm_r", Integer, nullable=False),
    Column("rfm_f", Integer, nullable=False),
    Column("rfm_m", Integer, nullable=False),
    Column("rfm_segment", String(32), nullable=False),
    # ABC (t002): a year's interest on the balance (minor units) and its class; empty on rows
    # stored before t002 until their date is run again
    Column("value", BigInteger),
    Column("abc", String(1)),
    # ABC's need (t004): low / medium / high and the signals found ("renewal,credit_line", ""
    # for none); empty on rows stored before t004 until their date is run again
    Column("need", String(8)),
    Column("need_signals", String(32)),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Index("ix_tier_assignments_customer_id_as_of", "customer_id", "as_of"),
    Index("ix_tier_assignments_as_of_tier", "as_of", "tier"),
)

tier_dates = Table(
    "tier_dates",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("customers", Integer, nullable=False),
)

tier_tree_proposals = Table(
    "tier_tree_proposals",
    metadata,
    Column("proposal_id", Integer, primary_key=True, autoincrement=True),
    Column("fitted_from", Date, nullable=False),
    Column("fitted_to", Date, nullable=False),
    Column("samples", Integer, nullable=False),
    Column("accuracy", Float),
    Column("rules", Text, nullable=False),  # JSON: [[conditions], label] as `[tiering.tree]`
    Column("base_version", String(64), nullable=False),  # the policy the proposal amends
    Column("note", Text, nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),  # proposed | adopted | rejected
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", Text),
    Column("adopted_version", String(64)),  # the policy version the approval wrote
)
