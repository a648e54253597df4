"""Tables of the store (SQLAlchemy Core).

Money is stored as BIGINT minor units (分) — exact, and what the engine computes in; rates as
BIGINT in units of 1e-8. Dates are DATE (ISO text on SQLite). Lenders' ids are kept as given.
Generated repayment schedules are *not* stored: they are derived from the loan's terms every
run (deterministic, and cheaper to recompute than to load); `schedules` holds imported
overrides only. Columns a lender sends beyond the contract go to each table's `extra` JSON.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(64)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("id_number", String(32)),
    Column("id_type", String(16), nullable=False, server_default="prc_id"),
    Column("phone", String(32)),
    Column("address", Text),
    Column("occupation", String(100)),
    Column("industry", String(100)),
    Column("monthly_income", BigInteger),
    Column("total_assets", BigInteger),
    Column("total_liabilities", BigInteger),
    Column("bureau_score", Integer),
    Column("branch_id", String(32)),
    Column("consent_marketing", Boolean),
    Column("consent_date", Date),
    Column("extra", Text),  # JSON text: columns beyond the contract
)

loans = Table(
    "loans",
    metadata,
    Column("loan_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("principal", BigInteger, nullable=False),
    Column("annual_rate", BigInteger, nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("repayment_method", String(32), nullable=False),
    Column("disbursement_date", Date, nullable=False),
    Column("first_due_date", Date),
    Column("product", String(64)),
    Column("purpose", String(32)),
    Column("guarantee", String(32)),
    Column("rate_type", String(16)),
    Column("borrower_type", String(32)),
    Column("currency", String(8)),
    Column("branch_id", String(32)),
    Column("officer_id", String(64)),
    Column("extra", Text),  # JSON text: columns beyond the contract
)

schedules = Table(
    "schedules",
    metadata,
    Column("loan_id", ID, ForeignKey("loans.loan_id"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("principal_due", BigInteger, nullable=False),
    Column("interest_due", BigInteger, nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("card_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("credit_limit", BigInteger, nullable=False),
    Column("open_date", Date, nullable=False),
    Column("close_date", Date),
    Column("extra", Text),  # JSON text: columns beyond the contract
)

card_statements = Table(
    "card_statements",
    metadata,
    Column("card_id", ID, ForeignKey("cards.card_id"), primary_key=True),
    Column("statement_date", Date, primary_key=True),
    Column("due_date", Date, nullable=False),
    Column("statement_balance", BigInteger, nullable=False),
    Column("minimum_due", BigInteger, nullable=False),
    Column("purchases", BigInteger, nullable=False, server_default="0"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", ID, primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("value_date", Date, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("channel", String(32)),
    Column("reverses_payment_id", ID),
    Index("ix_payments_account_id_value_date", "account_id", "value_date"),
    # Reversals are rare: a partial index finds a payment's reversal without the automatic
    # index SQLite would otherwise build over every payment on each such join (migration 0011).
    Index(
        "ix_payments_reverses_payment_id",
        "reverses_payment_id",
        sqlite_where=text("reverses_payment_id IS NOT NULL"),
        postgresql_where=text("reverses_payment_id IS NOT NULL"),
    ),
)

events = Table(
    "events",
    metadata,
    Column("event_id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.customer_id"), nullable=False, index=True),
    Column("account_id", ID),
    Column("date", Date, nullable=False),
    Column("type", String(32), nullable=False),
    Column("amount", BigInteger),
    Column("detail", Text),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("content", Text, nullable=False),  # canonical JSON of the policy
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # daily | backfill
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("policy_version", String(64), ForeignKey("policy_versions.version"), nullable=False),
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("rows", BigInteger),
    Column("timings", JSON),
    Column("error", Text),
)

imports = Table(
    "imports",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("accepted", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
)

account_status = Table(
    "account_status",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("account_type", String(8), nullable=False),
    Column("outstanding_principal", BigInteger, nullable=False),
    Column("overdue_principal", BigInteger, nullable=False),
    Column("overdue_interest", BigInteger, nullable=False),
    Column("overdue_amount", BigInteger, nullable=False),
    Column("dpd", Integer, nullable=False),
    Column("bucket", String(16), nullable=False),
    Column("risk_class", String(16), nullable=False),
    Column("consecutive_overdue_periods", Integer, nullable=False),
    Column("cumulative_overdue_periods", Integer, nullable=False),
    Column("last_payment_date", Date),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    # A restructured loan under its observation period (collections.agreements, migration 0006).
    Column("restructured", Boolean, nullable=False, server_default="0"),
    Index("ix_account_status_customer_id_as_of", "customer_id", "as_of"),
)

# A run's account-status rows while it computes them (postloan.runs.service, migration 0009):
# written window by window, then moved into account_status in the one transaction that also
# rebuilds the cases and marks the run succeeded, so a failed or killed run leaves nothing.
staged_status = Table(
    "staged_status",
    metadata,
    *(Column(c.name, c.type, nullable=c.nullable) for c in account_status.columns),
)
