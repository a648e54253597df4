"""Reminders: windows in PRC working days around the 2025 National Day and the 2026 Spring
Festival (make-up days included), the message, completion and breaches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from postloan.calendar import WorkingCalendar
from postloan.collections.reminders import Reminder, breaches, complete, message, new_reminders
from postloan.collections.tables import tasks
from postloan.policy import default_policy
from postloan.store.db import engine_for

POLICY = default_policy()
CAL = WorkingCalendar.from_policy(POLICY)
D = date
SCHEMA = {"customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
          "overdue_amount": pl.Int64}  # fmt: skip


def _rows(*rows: tuple[str, int, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"customer_id": "K1", "account_id": a, "dpd": dpd, "overdue_amount": amt}
         for a, dpd, amt in rows],
        schema=SCHEMA,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("as_of", "dpd", "window_start", "due_by"),
    [
        # due Mon 2025-09-29: 1st working day after is Tue 09-30, then Oct 1-8 are off:
        # 2nd = Thu 10-09, 3rd = Fri 10-10
        (D(2025, 9, 30), 1, D(2025, 9, 30), D(2025, 10, 10)),
        # due Fri 09-26: the make-up Sunday 09-28 is the 1st working day after it
        (D(2025, 9, 27), 1, D(2025, 9, 28), D(2025, 9, 30)),
        # due Fri 2026-02-13: make-up Sat 02-14, then Feb 15-23 off: 02-24, 02-25
        (D(2026, 2, 14), 1, D(2026, 2, 14), D(2026, 2, 25)),
        # due Fri 2026-02-27: make-up Sat 02-28, Mon 03-02, Tue 03-03
        (D(2026, 2, 28), 1, D(2026, 2, 28), D(2026, 3, 3)),
        # seen late (a run skipped days): the window follows the missed due date, not the run
        (D(2025, 10, 9), 10, D(2025, 9, 30), D(2025, 10, 10)),
    ],
)
def test_windows_follow_the_prc_calendar(
    as_of: date, dpd: int, window_start: date, due_by: date
) -> None:
    fresh = new_reminders(_rows(("L1", dpd, 123_456)), _rows(), POLICY, CAL, as_of)
    assert fresh.height == 1
    row = fresh.row(0, named=True)
    assert (row["window_start"], row["due_by"]) == (window_start, due_by)
    assert (row["pay_by"] - row["due_by"]).days == POLICY.reminders.pay_within_days
    assert (as_of - row["overdue_from"]).days == dpd


def test_only_newly_overdue_accounts_get_one() -> None:
    today = _rows(("L1", 2, 100), ("L2", 1, 200), ("L3", 40, 300))
    yesterday = _rows(("L1", 1, 100), ("L3", 39, 300))
    fresh = new_reminders(today, yesterday, POLICY, CAL, D(2025, 9, 30))
    assert fresh["account_id"].to_list() == ["L2"]


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_message_states_what_od3_requires(lang: str) -> None:
    text = message(Reminder("L000012345", 3, 123_456, D(2025, 10, 17)), POLICY, lang)
    for part in ("1234.56", "3", "2025-10-17", POLICY.reminders.lender_contact, "2345"):
        assert part in text
    assert "L000012345" not in text  # only the last four characters
    assert ("逾期" in text) == (lang == "zh-CN")


def test_completion_and_breaches(make_store: Any, tmp_path: Path) -> None:
    from postloan.store.schema import customers

    url = make_store("sqlite")
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(customers.insert().values(customer_id="K1", name="张三", id_type="prc_id"))
        base = {
            "kind": "reminder", "customer_id": "K1", "created_on": D(2025, 9, 30),
            "window_start": D(2025, 9, 30), "due_by": D(2025, 10, 10), "pay_by": D(2025, 10, 17),
            "overdue_amount": 100, "dpd": 1, "status": "open",
        }  # fmt: skip
        for account in ("A1", "A2", "A3", "A4"):
            conn.execute(
                tasks.insert().values(**base, account_id=account, overdue_from=D(2025, 9, 29))
            )
        ids = dict(conn.execute(select(tasks.c.account_id, tasks.c.task_id)).all())
        # 23:30 in Beijing on the last day of the window: on time (15:30 UTC)
        complete(conn, ids["A1"], "wang", "sms", datetime(2025, 10, 10, 15, 30, tzinfo=UTC))
        # 07:00 in Beijing the day after: late, though still 10-10 in UTC
        complete(conn, ids["A2"], "wang", "phone", datetime(2025, 10, 10, 23, 0, tzinfo=UTC))
        with pytest.raises(ValueError, match="channel"):
            complete(conn, ids["A3"], "wang", "visit", datetime(2025, 10, 9, 2, 0, tzinfo=UTC))
        with pytest.raises(ValueError, match="no open task"):
            complete(conn, ids["A1"], "wang", "sms", datetime(2025, 10, 9, 2, 0, tzinfo=UTC))
    with engine.connect() as conn:
        assert breaches(conn, D(2025, 10, 10)) == [
            {"task_id": ids["A2"], "account_id": "A2", "due_by": D(2025, 10, 10),
             "breach": "done late", "done_on": D(2025, 10, 11)},
        ]  # fmt: skip
        later = {(b["account_id"], b["breach"]) for b in breaches(conn, D(2025, 10, 11))}
    engine.dispose()
    assert later == {("A2", "done late"), ("A3", "not done"), ("A4", "not done")}
