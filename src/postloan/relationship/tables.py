"""The relationship area's tables (SQLAlchemy Core on the store's metadata; created by the
area's own migration branch, `relationship/migrations`, branch label "relationship").

- `complaints`: one row per complaint — its codes (JR/T 0169-2018 channel, business type,
  reason), the department it was routed to, the people it names (回避), the handler, the clock
  facts (received, complex, extension approval + notice, decided) and the root cause and fix.
- `complaint_events`: each step of a complaint as it happened (the timeline; audited too).
- `hardship_plans`: proposed → approved (kept) → broken | completed, maker-checker; the
  collections hold it made (`hold_key`, collections.handover).
- `loyalty_ledger`: append-only points (earned, goodwill, redeemed, expired); a unique `key`
  makes the daily step idempotent; database triggers refuse UPDATE and DELETE.
- `loyalty_offers`: preferential-rate offers bought with points or granted as goodwill, with
  their basis.
- `survey_versions`, `survey_responses`: questionnaires by version and their answers (a
  response names the invitation it answers, if any); `survey_followups`: a low score's
  follow-up for the department owning the dimension.
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

complaints = Table(
    "complaints",
    metadata,
    Column("complaint_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("account_id", ID),
    Column("received_on", Date, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("business_type", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("department", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("complained_about", String(400), nullable=False),  # usernames, comma-separated
    Column("handler", String(64)),
    Column("complex", Boolean, nullable=False),
    Column("complex_reason", Text),
    Column("extension_approved_by", String(64)),
    Column("extension_notice_on", Date),
    Column("decided_on", Date),
    Column("outcome", String(16)),  # upheld | partly_upheld | not_upheld
    Column("decision", Text),
    Column("root_cause", Text),
    Column("fix", Text),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # the reference in the file it was imported from (migration g003); None: workbench or API
    Column("complaint_ref", String(64)),
    Index("ix_complaints_customer_id", "customer_id"),
    Index("ix_complaints_received_on", "received_on"),
    Index("ux_complaints_complaint_ref", "complaint_ref", unique=True),
)

complaint_events = Table(
    "complaint_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("complaint_id", Integer, ForeignKey("complaints.complaint_id"), nullable=False),
    Column("kind", String(24), nullable=False),  # received | assigned | complex | extended ...
    Column("on_day", Date, nullable=False),  # the business date it counts for
    Column("actor", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_complaint_events_complaint_id", "complaint_id"),
)

hardship_plans = Table(
    "hardship_plans",
    metadata,
    Column("plan_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("account_id", ID, nullable=False),
    Column("account_type", String(8), nullable=False),
    Column("kind", String(24), nullable=False),  # card_instalment | loan_deferral | ...
    Column("months", Integer, nullable=False),
    Column("form", String(8), nullable=False),  # written | oral
    Column("oral_record", Text),
    Column("reason", Text, nullable=False),  # the customer's difficulty
    Column("status", String(12), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_on", Date, nullable=False),
    Column("decided_by", String(64)),
    Column("decided_on", Date),
    Column("ended_on", Date),  # broken or completed
    Column("end_note", Text),
    Column("hold_key", String(128)),  # collections.handover hold, while kept
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_hardship_plans_customer_id", "customer_id"),
)

loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("entry_on", Date, nullable=False),
    Column("kind", String(12), nullable=False),  # earn | goodwill | redeem | expire
    Column("rule", String(64)),  # the earning rule (earn)
    Column("points", BigInteger, nullable=False),  # signed
    Column("key", String(160), nullable=False, unique=True),
    Column("basis", Text, nullable=False),  # JSON: why
    Column("created_by", String(64), nullable=False),
    Index("ix_loyalty_ledger_customer_id_entry_on", "customer_id", "entry_on"),
)

loyalty_offers = Table(
    "loyalty_offers",
    metadata,
    Column("offer_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(16), nullable=False),  # rate_discount
    Column("rate_discount", BigInteger, nullable=False),  # 1e-8
    Column("entry_id", Integer, ForeignKey("loyalty_ledger.entry_id")),
    Column("complaint_id", Integer, ForeignKey("complaints.complaint_id")),
    Column("offered_on", Date, nullable=False),
    Column("basis", Text, nullable=False),  # JSON
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_loyalty_offers_customer_id", "customer_id"),
)

survey_versions = Table(
    "survey_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("questions", Text, nullable=False),  # JSON: [{"key", "text"}] (1-5 scale)
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("response_id", Integer, primary_key=True, autoincrement=True),
    Column("version_id", Integer, ForeignKey("survey_versions.version_id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("branch_id", String(32)),  # the customer's branch when answered
    Column("answered_on", Date, nullable=False),
    Column("csat", Integer, nullable=False),  # 1-5
    Column("nps", Integer, nullable=False),  # 0-10
    Column("answers", Text, nullable=False),  # JSON {question key: 1-5}
    Column("source", String(12), nullable=False),  # workbench | import
    Column("entered_by", String(64), nullable=False),
    # the invitation it answers (g006; None: a walk-in response); one response per invitation
    Column("invitation_id", Integer),
    Column("comment", Text),  # the customer's own words (g006), optional
    Index("ix_survey_responses_answered_on", "answered_on"),
    Index("ux_survey_responses_invitation_id", "invitation_id", unique=True),
)

# --- contact plans (CR-1); migration g002 ------------------------------------------------------
# `contact_plans`: per segment (a branch, or every customer with an account), a channel, a
# purpose (service | marketing) and a cadence from a start day. `planned_contacts`: what the
# daily step derived from them — one per (plan, customer, due day), `open` or `refused` naming
# the rules it breaks (marketing without consent, an opted-out channel); an officer completes
# an open one (`done`, with an outcome).
contact_plans = Table(
    "contact_plans",
    metadata,
    Column("plan_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("branch_id", String(32)),  # the segment: None = every customer with an account
    Column("tier", String(8)),  # and the tiers area's held tier on the day (None: any; g004)
    Column("channel", String(8), nullable=False),
    Column("purpose", String(12), nullable=False),
    Column("cadence_days", Integer, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

planned_contacts = Table(
    "planned_contacts",
    metadata,
    Column("contact_id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", Integer, ForeignKey("contact_plans.plan_id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("channel", String(8), nullable=False),
    Column("purpose", String(12), nullable=False),
    Column("status", String(8), nullable=False),  # open | refused | done
    Column("refused_rules", String(100)),
    Column("outcome", String(24)),
    Column("done_by", String(64)),
    Column("done_at", UTCDateTime()),
    UniqueConstraint("plan_id", "customer_id", "due_on", name="uq_planned_contacts_plan_id"),
    Index("ix_planned_contacts_due_on_status", "due_on", "status"),
)

# --- survey invitations (CR-2 targeting); migration g005 -------------------------------------
# One row per event that invites a customer (a case closed, a complaint decided), derived by
# the daily step: `invited`, or `refused` naming the rules (consent, an opted-out channel);
# events of a customer still in the cool-down after an invitation make no row.
survey_invitations = Table(
    "survey_invitations",
    metadata,
    Column("invitation_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("event", String(20), nullable=False),  # case_closed | complaint_decided
    Column("event_key", String(80), nullable=False, unique=True),  # see relationship.invitations
    Column("invited_on", Date, nullable=False),  # the event's day
    Column("channel", String(8), nullable=False),
    Column("status", String(8), nullable=False),  # invited | refused
    Column("refused_rules", String(100)),
    Index("ix_survey_invitations_customer_id_invited_on", "customer_id", "invited_on"),
)

# --- survey follow-ups (CR-2, results back to the departments); migration g006 ---------------
# A response scoring a dimension at or below the policy's `low_score` opens one follow-up for
# the department owning that dimension (`[relationship.surveys.departments]`): one row per
# (response, department), naming the low dimensions and the lowest score; closed with a note.
survey_followups = Table(
    "survey_followups",
    metadata,
    Column("followup_id", Integer, primary_key=True, autoincrement=True),
    Column("response_id", Integer, ForeignKey("survey_responses.response_id"), nullable=False),
    Column("department", String(32), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("answered_on", Date, nullable=False),
    Column("dimensions", String(400), nullable=False),  # the low ones, comma-separated
    Column("lowest", Integer, nullable=False),
    Column("status", String(8), nullable=False),  # open | closed
    Column("created_at", UTCDateTime(), nullable=False),
    Column("closed_by", String(64)),
    Column("closed_at", UTCDateTime()),
    Column("note", Text),
    UniqueConstraint("response_id", "department", name="uq_survey_followups_response_id"),
    Index("ix_survey_followups_department_status", "department", "status"),
)
