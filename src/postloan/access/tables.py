"""The access tables (migration 0002), on the store's one `metadata`."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from postloan.store.schema import ID, metadata

users = Table(
    "users",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(32), nullable=False),
    Column("branch_id", String(32)),
    Column("team", String(64)),
    Column("display_name", String(200)),
    Column("active", Boolean, nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("locked_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 hex; the token is never stored
    Column("user_id", Integer, ForeignKey("users.user_id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # api | session
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target_type", String(32)),
    Column("target_id", String(64)),
    Column("detail", Text, nullable=False),  # canonical JSON text
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("consent_id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, nullable=False),  # no FK: consent may precede the import
    Column("purpose", String(32), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("source", String(64), nullable=False),
    Index("ix_consents_customer_id_purpose", "customer_id", "purpose"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("user_id", Integer, ForeignKey("users.user_id"), primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("assigned_at", DateTime(timezone=True)),
    Index("ix_assignments_customer_id", "customer_id"),
)

# Sign-in attempts counted by the login rate limits when several server processes share them
# (migration 0010, `access.shared_ratelimit`): `key` is `client:<address>` or
# `username:<name>`, or the same with a `refused:` prefix (a refusal already audited); `at` in
# seconds since the epoch (every process's clock is the machine's).
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(96), nullable=False),
    Column("at", Double, nullable=False),
    Index("ix_login_attempts_key_at", "key", "at"),
    Index("ix_login_attempts_at", "at"),
)
