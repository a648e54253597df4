"""The ping area's one table: per stored business date, how many accounts were overdue."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, Table

# Its own MetaData, not the store's: the area is registered only while its tests run, and a
# table left on the store's metadata would show up in every later test that walks the schema.
# (A built-in area's tables sit on the store's metadata; its migrations make them either way.)
metadata = MetaData()

ping_marks = Table(
    "ping_marks",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("overdue_accounts", Integer, nullable=False),
    Column("run_id", Integer, nullable=False),
)
