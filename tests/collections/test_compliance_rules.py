"""The pure compliance rules, without a database: the week's window and the open cases below
their weekly contact floor."""

from __future__ import annotations

from datetime import UTC, date, datetime

from postloan.collections.rules.compliance import below_floor, week_window
from postloan.policy import default_policy

POLICY = default_policy()  # floors: M1 0, M2 2, M3 3, M3+ 7


def test_week_window_is_seven_local_days() -> None:
    start, end = week_window(date(2026, 6, 7), "Asia/Shanghai")
    # Midnight 1 June to midnight 8 June in Shanghai (UTC+8).
    assert start == datetime(2026, 5, 31, 16, tzinfo=UTC)
    assert end == datetime(2026, 6, 7, 16, tzinfo=UTC)


def test_below_floor_by_worst_bucket_capped() -> None:
    cases = [(1, "C1"), (2, "C2"), (3, "C3"), (4, "C4"), (5, "C5")]
    worst = {"C1": 45, "C2": 45, "C3": 120, "C4": 5}  # C5: nothing overdue on D
    made = {"C1": 1, "C2": 2, "C3": 4}
    assert below_floor(cases, worst, made, POLICY, None) == [
        {"case_id": 1, "customer_id": "C1", "bucket": "M2", "floor": 2, "contacts": 1},
        {"case_id": 3, "customer_id": "C3", "bucket": "M3+", "floor": 7, "contacts": 4},
    ]
    # A weekly capacity of 4 calls caps the M3+ floor at 4: C3 meets it.
    assert [r["case_id"] for r in below_floor(cases, worst, made, POLICY, 4)] == [1]
