"""Management's tables: the monthly packs the daily run stores (issue 16 item 5). Migration
`m001` (branch "management")."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table, Text

from postloan.store.schema import metadata
from postloan.store.values import UTCDateTime

# One printable pack per month and language, written by the `management.pack` step on a
# month's last calendar day (the pack of the months up to it, whole book), replaced when that
# date is run again and dropped when the date is deleted.
management_packs = Table(
    "management_packs",
    metadata,
    Column("month", String(7), primary_key=True),  # YYYY-MM
    Column("lang", String(8), primary_key=True),  # zh-CN | en
    Column("as_of", Date, nullable=False),  # the month-end it was built on
    Column("html", Text, nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("definitions_version", String(32), nullable=False),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
