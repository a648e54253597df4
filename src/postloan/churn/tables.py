"""Churn's tables (SQLAlchemy Core, on the store's metadata; created by the area's own
migration branch, `churn/migrations`).

- `churn_identified`: one row per customer identified on a stored date, by the run of that
  date — the rules, degree, grade, suggested reason, the accounts' state on D, the evidence
  and the signals grading read (JSON text). What `postloan export churn` writes.
- `churn_dates`: the stored dates churn identified (and with which run and policy): episodes
  run over these dates, so a date stored before the churn area existed breaks no episode.
- `churn_episodes`: the pool's episodes (derived from the two above; rebuilt by the run).
- `churn_reasons`: an officer's confirmation or change of a customer's reason (who, when,
  why), for the episode holding `as_of`. Kept by every run: it is work, not derived.
- `churn_screenings`: customers worth pursuing found by the periodic screening (derived).
- `churn_grades`: per episode, the first churn date at each grade it reached (derived with the
  episodes; migration c003) — what the measures step reads instead of every identified day.
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

RULE_COLUMNS = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out",
                "inactive")  # fmt: skip

churn_identified = Table(
    "churn_identified",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    *(Column(name, Boolean, nullable=False) for name in RULE_COLUMNS),
    Column("branch_id", String(32)),
    Column("balance", BigInteger, nullable=False),  # outstanding principal on D
    Column("overdue_amount", BigInteger, nullable=False),
    Column("max_dpd", Integer, nullable=False),
    Column("open_accounts", Integer, nullable=False),
    Column("degree", String(16), nullable=False),
    Column("grade", Integer, nullable=False),
    Column("suggested_reason", String(16)),
    Column("evidence", Text, nullable=False),  # JSON (churn.rules.identify.EVIDENCE_DOC)
    Column("signals", Text, nullable=False),  # JSON (churn.rules.grading)
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Index("ix_churn_identified_customer_id_as_of", "customer_id", "as_of"),
)

churn_dates = Table(
    "churn_dates",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("identified", Integer, nullable=False),
)

churn_episodes = Table(
    "churn_episodes",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("entered_on", Date, primary_key=True),
    Column("left_on", Date),  # the first churn date the customer was not identified
    Column("exit_reason", String(16)),
    Column("entry_rules", String(100), nullable=False),  # comma-separated
    Index("ix_churn_episodes_left_on", "left_on"),
)

churn_reasons = Table(
    "churn_reasons",
    metadata,
    Column("reason_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("as_of", Date, nullable=False),  # a date of the episode it is for
    Column("reason", String(16), nullable=False),
    Column("suggested", String(16)),  # what the rules suggested then
    Column("note", Text, nullable=False),
    Column("confirmed_by", String(64), nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Index("ix_churn_reasons_customer_id_as_of", "customer_id", "as_of"),
)

churn_screenings = Table(
    "churn_screenings",
    metadata,
    Column("screened_on", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("grade", Integer, nullable=False),
    Column("degree", String(16), nullable=False),
    Column("basis", Text, nullable=False),
)

churn_grades = Table(
    "churn_grades",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("entered_on", Date, primary_key=True),  # the episode
    Column("grade", Integer, primary_key=True),
    Column("first_on", Date, nullable=False),  # the first churn date of the episode at it
    Index("ix_churn_grades_first_on", "first_on"),
)

# --- measures (CH-6) and offers; migration c002 ------------------------------------------------
# `churn_measures`: the work a pool episode gets when it reaches a grade, once per (episode,
# grade, kind, channel): a hand-over to collections (level 1, `handover_id` names it), an
# account manager's follow-up (level 2) or a callback / SMS (level 3). Created by the daily
# step as `open`, or `refused` naming the contact-policy rules it breaks (`refused_rules`);
# an officer completes it (`done`, with an outcome). Untouched rows are re-derived by re-runs;
# worked ones stay. Holdout episodes get none (`churn.rules.measures.in_holdout`).
# `churn_offers`: the level-2 win-back offers proposed with a follow-up, each with its basis;
# an officer accepts or declines them (audited).
churn_measures = Table(
    "churn_measures",
    metadata,
    Column("measure_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("entered_on", Date, nullable=False),  # the pool episode
    Column("grade", Integer, nullable=False),
    Column("kind", String(24), nullable=False),  # recovery_handover | winback_followup | ...
    Column("channel", String(16), nullable=False),  # collections | phone | sms | ...
    Column("created_on", Date, nullable=False),  # first churn date of the episode at the grade
    Column("branch_id", String(32)),
    Column("status", String(12), nullable=False),  # open | refused | done
    Column("refused_rules", String(100)),  # comma-separated rule names
    Column("refusal_detail", Text),
    Column("handover_id", Integer),  # collections' hand-over (level 1)
    Column("outcome", String(24)),
    Column("note", Text),
    Column("done_by", String(64)),
    Column("done_at", DateTime(timezone=True)),
    UniqueConstraint("customer_id", "entered_on", "grade", "kind", "channel",
                     name="uq_churn_measures_episode_grade_kind_channel"),
    Index("ix_churn_measures_status_created_on", "status", "created_on"),
)  # fmt: skip

churn_offers = Table(
    "churn_offers",
    metadata,
    Column("offer_id", Integer, primary_key=True, autoincrement=True),
    Column("measure_id", Integer, ForeignKey("churn_measures.measure_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # rate_discount | term_extension | ...
    Column("terms", Text, nullable=False),  # JSON
    Column("basis", Text, nullable=False),  # JSON: the policy rule, grade, evidence
    Column("status", String(12), nullable=False),  # proposed | accepted | declined
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("note", Text),
    UniqueConstraint("measure_id", "kind", name="uq_churn_offers_measure_kind"),
)
