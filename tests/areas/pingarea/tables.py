"""The ping area's one table: per stored business date, how many accounts were overdue."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, Table

from postloan.store.schema import metadata

ping_marks = Table(
    "ping_marks",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("overdue_accounts", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
)
