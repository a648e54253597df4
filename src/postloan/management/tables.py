"""Management's tables: the monthly packs the daily run stores (issue 16 item 5). Migration
`m001` (branch "management")."""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Table, Text

from postloan.store.schema import metadata

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
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# One row per month-end (each month's last stored date) written by the `management.totals`
# step: the pack's sums for that month-end, whole book, as Parquet frames (derived data the
# pack reads back in one go; never queried by SQL) — so a pack over 24 month-ends reads 24
# rows instead of every account's status on them. `totals_key` hashes what the sums depend on
# in the policy (KPI definitions, buckets, vintage thresholds, dormancy, term bands); a pack
# under another policy computes from the status instead (`service.build`).
management_month_totals = Table(
    "management_month_totals",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("month", String(7), nullable=False, unique=True),
    Column("totals_key", String(64), nullable=False),
    # The run whose status rows of that date it read (a date's rows are one run's).
    Column("status_run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Column("frames", LargeBinary, nullable=False),  # Parquet frames (`totals.FRAMES`) + JSON
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
