"""The collections tables (migration 0003), on the store's one `metadata`.

`cases` are derived from stored account status by the daily run (`collections.service`): one
row per case, with the figures of the day it opened; today's figures are the accounts' stored
status. `case_stages` keeps the stage history, `case_accounts` which overdue accounts a case
groups (an account joins on the first day it is overdue while the case is open).
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

cases = Table(
    "cases",
    metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("status", String(8), nullable=False),  # open | closed
    Column("stage", String(16), nullable=False),  # the policy's collection stage words
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("close_reason", String(16)),  # cured
    Column("opened_max_dpd", Integer, nullable=False),
    Column("opened_overdue_amount", BigInteger, nullable=False),
    Column("opened_run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    # Higher first in a collector's queue: the stage, raised by broken promises (migration 0004).
    Column("priority", Integer, nullable=False, server_default="0"),
    Index("ix_cases_customer_id_status", "customer_id", "status"),
    Index("ix_cases_status", "status"),
)

case_stages = Table(
    "case_stages",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.case_id"), primary_key=True),
    Column("entered_on", Date, primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("left_on", Date),
)

case_accounts = Table(
    "case_accounts",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.case_id"), primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("added_on", Date, nullable=False),
)

# Work items. They name the customer and account, not a case id: cases are rebuilt when status
# is recomputed, the work done stays. Kinds: `reminder` — one per account per overdue episode
# (the episode is identified by the due date it went overdue from); `contact` — a contact the
# weekly floor calls for on a day (`collections.floors`; migration 0005), naming the customer's
# worst account and their total overdue amount.
tasks = Table(
    "tasks",
    metadata,
    Column("task_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # reminder | contact
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("account_id", ID, nullable=False),
    Column("overdue_from", Date),  # reminders: the missed due date
    Column("created_on", Date, nullable=False),  # the business date that created it
    Column("window_start", Date, nullable=False),
    Column("due_by", Date, nullable=False),  # last day of the window (contact: its day)
    Column("pay_by", Date),  # reminders: the repayment deadline stated to the customer
    Column("overdue_amount", BigInteger, nullable=False),  # at creation, minor units
    Column("dpd", Integer, nullable=False),  # at creation
    Column("status", String(12), nullable=False),  # open | done
    Column("done_at", UTCDateTime()),
    Column("done_by", String(64)),
    Column("channel", String(16)),  # reminders: phone | sms (OD-3); contacts: any channel
    UniqueConstraint("kind", "account_id", "overdue_from", name="uq_tasks_kind_account_episode"),
    Index("ix_tasks_status_due_by", "status", "due_by"),
    Index("ix_tasks_customer_id", "customer_id"),
)

# Contacts (OD-6): every contact with a customer, as recorded — and every contact the policy
# refused, for the compliance report.
contacts = Table(
    "contacts",
    metadata,
    Column("contact_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False),
    Column("account_id", ID),
    Column("at", UTCDateTime(), nullable=False),
    Column("channel", String(8), nullable=False),  # phone | sms | letter | visit | email
    Column("recorded_by", String(64), nullable=False),
    Column("staff", Text, nullable=False),  # JSON list of usernames (visits: two or more)
    Column("outcome", String(24), nullable=False),
    Column("content", Text),
    Column("response", Text),
    Column("promise_amount", BigInteger),  # minor units
    Column("promise_date", Date),
    Column("jurisdiction", String(8), nullable=False),
    Index("ix_contacts_customer_id_at", "customer_id", "at"),
)

contact_refusals = Table(
    "contact_refusals",
    metadata,
    Column("refusal_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("channel", String(8), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("rules", Text, nullable=False),  # the rules broken, comma-separated
    Column("detail", Text, nullable=False),
)

contact_opt_outs = Table(
    "contact_opt_outs",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.customer_id"), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("since", Date, nullable=False),
)

# Promises to pay (承诺还款), made in a contact; kept or broken is decided by the daily run from
# the payments (`collections.promises`).
promises = Table(
    "promises",
    metadata,
    Column("promise_id", Integer, primary_key=True, autoincrement=True),
    Column("contact_id", Integer, ForeignKey("contacts.contact_id"), nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("account_id", ID),  # None: any of the customer's accounts
    Column("amount", BigInteger, nullable=False),  # minor units
    Column("made_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(8), nullable=False),  # pending | kept | broken
    Column("decided_on", Date),
    Index("ix_promises_customer_id", "customer_id"),
)

# The other collections tables live beside the code that owns them; importing them here puts
# every collections table on `metadata` wherever this module is imported (migrations, tests).
import postloan.collections.agreement_tables  # noqa: E402
import postloan.collections.casework_tables  # noqa: E402
import postloan.collections.legal_tables  # noqa: E402, F401
