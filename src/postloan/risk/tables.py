"""Risk's tables (SQLAlchemy Core, on the store's metadata; created by the area's own
migration branch, `risk/migrations`, branch label "risk").

Derived by the daily run (re-derived from the run's first date on; replayable):
- `risk_scores`: the RK-1 score per customer per stored date with its inputs and parts.
- `risk_hits`: which customer hit which early-warning signal on which date, with the value.
- `risk_watch`: the watch list's episodes (entered, left, the signals that put them on it).
Work (kept by re-runs once touched):
- `risk_tasks`: one per run of consecutive hits of a signal, due in working days, with the
  outcome an officer records (audited).
- `risk_overrides`: an officer's qualitative assessment (定性评估) of a customer's grade with a
  reason code, approved or rejected by another user (maker-checker, audited).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from postloan.store.schema import ID, metadata

risk_scores = Table(
    "risk_scores",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("branch_id", String(32)),
    Column("worst_dpd", Integer, nullable=False),
    Column("times_late", Integer, nullable=False),
    Column("overdue_amount", BigInteger, nullable=False),
    Column("outstanding", BigInteger),  # all accounts' outstanding principal (r004; null before)
    Column("debt_ratio", Integer),  # percent; null: liabilities unknown
    Column("income_drop_pct", Integer, nullable=False),
    Column("income_reported_on", Date),
    Column("industry_listed", Boolean, nullable=False),
    Column("churn_grade", Integer),
    Column("credit_points", Integer, nullable=False),
    Column("capacity_points", Integer, nullable=False),
    Column("industry_points", Integer, nullable=False),
    Column("churn_points", Integer, nullable=False),
    Column("score", Integer, nullable=False),
    Column("grade", String(8), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Index("ix_risk_scores_customer_id_as_of", "customer_id", "as_of"),
)

risk_hits = Table(
    "risk_hits",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("signal_id", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
    Index("ix_risk_hits_customer_id_as_of", "customer_id", "as_of"),
)

risk_watch = Table(
    "risk_watch",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("entered_on", Date, primary_key=True),
    Column("left_on", Date),
    Column("entry_signals", String(400), nullable=False),
    Column("exit_reason", String(16)),
    Index("ix_risk_watch_left_on", "left_on"),
)

risk_tasks = Table(
    "risk_tasks",
    metadata,
    Column("task_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("signal_id", String(32), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("severity", String(8), nullable=False),
    Column("owner_role", String(32), nullable=False),
    Column("response", String(64), nullable=False),
    Column("branch_id", String(32)),
    Column("status", String(8), nullable=False),  # open | done
    Column("outcome", String(24)),
    Column("note", Text),
    Column("done_by", String(64)),
    Column("done_at", DateTime(timezone=True)),
    UniqueConstraint("customer_id", "signal_id", "opened_on",
                     name="uq_risk_tasks_customer_signal_opened"),
    Index("ix_risk_tasks_status_due_on", "status", "due_on"),
)  # fmt: skip

risk_overrides = Table(
    "risk_overrides",
    metadata,
    Column("override_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("as_of", Date, nullable=False),  # the score date assessed
    Column("model_grade", String(8), nullable=False),
    Column("grade", String(8), nullable=False),  # the officer's grade
    Column("reason_code", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("status", String(10), nullable=False),  # proposed | approved | rejected
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Index("ix_risk_overrides_customer_id", "customer_id"),
)
