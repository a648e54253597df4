"""The pure contact-floor rules, without a database: the worst account that names a customer's
contact task, and the task rows of the cases due."""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.collections.rules.floors import OPEN_CASE_ACCOUNTS, contact_task_rows, worst_accounts


def test_worst_account_highest_dpd_then_smallest_id_amount_is_the_customers() -> None:
    frame = pl.DataFrame(
        [("C2", "L9", 40, 100), ("C1", "L3", 10, 5), ("C1", "L2", 35, 20), ("C1", "L1", 35, 7)],
        schema=OPEN_CASE_ACCOUNTS,
        orient="row",
    )
    # C1: L1 and L2 both at 35 DPD, L1 the smaller id; 5 + 20 + 7 = 32 overdue.
    assert worst_accounts(frame).sort("customer_id").rows() == [
        ("C1", "L1", 35, 32),
        ("C2", "L9", 40, 100),
    ]


def test_contact_task_rows_skip_customers_with_an_open_task() -> None:
    due = pl.DataFrame(
        {"customer_id": ["C1", "C2"], "account_id": ["L1", "L9"], "dpd": [35, 40],
         "overdue_amount": [32, 100], "bucket": ["31-60", "31-60"], "floor": [2, 2]}
    )  # fmt: skip
    day = date(2026, 6, 1)
    assert contact_task_rows(due, {"C2"}, day) == [
        {"kind": "contact", "customer_id": "C1", "account_id": "L1", "created_on": day,
         "window_start": day, "due_by": day, "overdue_amount": 32, "dpd": 35, "status": "open"}
    ]  # fmt: skip
