"""The collections tables (migration 0003), on the store's one `metadata`.

`cases` are derived from stored account status by the daily run (`collections.service`): one
row per case, with the figures of the day it opened; today's figures are the accounts' stored
status. `case_stages` keeps the stage history, `case_accounts` which overdue accounts a case
groups (an account joins on the first day it is overdue while the case is open).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, Integer, String, Table

from postloan.store.schema import ID, metadata

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
