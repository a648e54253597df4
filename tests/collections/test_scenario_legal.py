"""Scenario: one customer from current through every bucket to legal action and write-off.

A 12-month loan of 12,000.00 at 12 % (level payment 1,066.19) whose borrower never pays. Day by
day the daily run must: keep it current and `normal` until the first due date; open a case and
a reminder (PRC working days, message with amount, days overdue, deadline, lender contact) the
day after; move the case reminder → negotiation → intensified → legal review as the DPD crosses
30/60/90, with the five-category class following the policy; schedule contact tasks at each
bucket's floor; propose legal action at 91+ DPD once five failed contacts are recorded; and
after an approved write-off close the case, take the loan out of the performing pool and count
the write-off in the overdue reduction rate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from postloan.access.roles import Role
from postloan.access.users import create_user
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.disposals import decide_disposal, propose_disposal
from postloan.collections.kpis import collection_kpis
from postloan.collections.legal_proposals import accept_proposal
from postloan.collections.legal_tables import legal_proposals
from postloan.collections.reminders import Reminder, breaches, complete, message
from postloan.collections.tables import case_stages, cases, tasks
from postloan.money import parse_amount
from postloan.policy import default_policy
from postloan.reports.summary import stored_disposals, summarise
from postloan.runs.service import date_range, run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from postloan.web.data import dashboard
from tests.store.conftest import BACKENDS, import_all

POLICY = default_policy()
LEVEL = parse_amount("1066.19")


def write_files(folder: Path, *, payments: list[tuple[str, str, str]] = ()) -> None:  # type: ignore[assignment]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "customers.csv").write_text(
        "customer_id,name,phone,branch_id\nK1,Li Lei,13800138000,BR1\n", encoding="utf-8"
    )
    (folder / "loans.csv").write_text(
        "loan_id,customer_id,principal,annual_rate,term_months,repayment_method,"
        "disbursement_date,first_due_date\n"
        "L1,K1,12000.00,0.12,12,equal_installment,2025-12-15,2026-01-15\n",
        encoding="utf-8",
    )
    if payments:
        rows = "".join(f"{pid},L1,{day},{amount}\n" for pid, day, amount in payments)
        (folder / "payments.csv").write_text(
            "payment_id,account_id,value_date,amount\n" + rows, encoding="utf-8"
        )


def _status(conn: Any, day: date) -> Any:
    return conn.execute(
        select(account_status).where(
            account_status.c.as_of == day, account_status.c.account_id == "L1"
        )
    ).one()


def _case(conn: Any) -> Any:
    return conn.execute(select(cases).where(cases.c.customer_id == "K1")).one()


def _beijing(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


@pytest.mark.parametrize("backend", BACKENDS)
def test_current_to_legal_to_write_off(make_store: Any, backend: str, tmp_path: Path) -> None:
    url = make_store(backend)
    write_files(tmp_path / "files")
    import_all(url, tmp_path / "files")

    # -- current until the due date; overdue (M1, reminder) the day after -----------------------
    run_dates(url, date_range(date(2026, 1, 10), date(2026, 1, 16)), POLICY)
    engine = engine_for(url)
    with engine.begin() as conn:
        due_day = _status(conn, date(2026, 1, 15))
        assert (due_day.dpd, due_day.bucket, due_day.risk_class) == (0, "current", "normal")
        first = _status(conn, date(2026, 1, 16))
        assert (first.dpd, first.bucket, first.overdue_amount) == (1, "M1", LEVEL)
        assert first.risk_class == POLICY.risk_class_for(1, "loan")
        case = _case(conn)
        assert (case.status, case.stage, str(case.opened_on)[:10]) == (
            "open",
            "reminder",
            "2026-01-16",
        )
        reminder = conn.execute(select(tasks).where(tasks.c.kind == "reminder")).one()
        # Due 2026-01-15 (Thursday): window = working days 1..3 after it → Fri 16th .. Tue 20th.
        assert str(reminder.window_start)[:10] == "2026-01-16"
        assert str(reminder.due_by)[:10] == "2026-01-20"
        pay_by = date(2026, 1, 20) + timedelta(days=POLICY.reminders.pay_within_days)
        assert str(reminder.pay_by)[:10] == pay_by.isoformat()
        text = message(Reminder("L1", 1, LEVEL, pay_by), POLICY, "zh-CN")
        assert "1066.19" in text and pay_by.isoformat() in text
        assert POLICY.reminders.lender_contact in text and "L1" in text
        english = message(Reminder("L1", 1, LEVEL, pay_by), POLICY, "en")
        assert "1066.19" in english and "1 day" in english
        complete(conn, reminder.task_id, "c1", "sms", _beijing(date(2026, 1, 19)))
        assert breaches(conn, date(2026, 1, 25)) == []  # done within its window
    engine.dispose()

    # -- M2 (negotiation) with contact tasks at the floor; failed contacts recorded ----------------
    run_dates(url, date_range(date(2026, 1, 17), date(2026, 2, 20)), POLICY)
    with engine.begin() as conn:
        s = _status(conn, date(2026, 2, 20))
        assert (s.dpd, s.bucket, _case(conn).stage) == (36, "M2", "negotiation")
        assert s.overdue_amount == 2 * LEVEL  # the second instalment (due 02-15) is unpaid too
        contact_task = conn.execute(
            select(tasks).where(tasks.c.kind == "contact", tasks.c.status == "open")
        ).one()
        assert str(contact_task.due_by)[:10] == "2026-02-20" and contact_task.dpd == 36
        for n in range(5):  # every third day: the M2 floor (2 a week)
            record_contact(
                conn, Contact("K1", _beijing(date(2026, 2, 20) + timedelta(days=3 * n)), "phone",
                              ("c1",), "no_answer"), POLICY, recorded_by="c1",
            )  # fmt: skip
        assert (
            conn.execute(
                select(tasks.c.status).where(tasks.c.task_id == contact_task.task_id)
            ).scalar()
            == "done"
        )
    engine.dispose()

    # -- M3 (intensified), then M3+ (legal review): substandard, legal action proposed ----------
    run_dates(url, date_range(date(2026, 2, 21), date(2026, 4, 16)), POLICY)
    with engine.begin() as conn:
        stages = [
            r.stage for r in conn.execute(select(case_stages).order_by(case_stages.c.entered_on))
        ]
        assert stages == ["reminder", "negotiation", "intensified", "legal_review"]
        entered = [
            str(r.entered_on)[:10]
            for r in conn.execute(select(case_stages).order_by(case_stages.c.entered_on))
        ]
        assert entered == [
            "2026-01-16",
            "2026-02-15",
            "2026-03-17",
            "2026-04-16",
        ]  # DPD 1, 31, 61, 91
        s = _status(conn, date(2026, 4, 16))
        assert (s.dpd, s.bucket, s.risk_class) == (91, "M3+", "substandard")
        assert _status(conn, date(2026, 4, 15)).risk_class == POLICY.risk_class_for(90, "loan")
        proposal = conn.execute(select(legal_proposals)).one()
        assert (proposal.status, str(proposal.proposed_on)[:10]) == ("proposed", "2026-04-16")
        assert proposal.failed_contacts == 5 and proposal.max_dpd == 91
        matter = accept_proposal(conn, proposal.proposal_id, POLICY, user="legal",
                                 on=date(2026, 4, 16), now=_beijing(date(2026, 4, 16)))  # fmt: skip
        assert matter > 0
        # -- write-off (maker-checker), effective the next business date ------------------------
        key = propose_disposal(conn, account_id="L1", kind="write_off",
                               effective_on=date(2026, 4, 17),
                               reason="uncollectable after legal review", user="legal",
                               now=_beijing(date(2026, 4, 16)))  # fmt: skip
        decide_disposal(conn, key, approve=True, user="risk", now=_beijing(date(2026, 4, 16), 16))
    engine.dispose()
    run_dates(url, [date(2026, 4, 17)], POLICY)
    with engine.begin() as conn:
        case = _case(conn)
        assert (case.status, case.close_reason, str(case.closed_on)[:10]) == (
            "closed",
            "written_off",
            "2026-04-17",
        )
        rows = conn.execute(
            select(account_status).where(account_status.c.as_of == date(2026, 4, 17))
        ).mappings()
        status = pl.DataFrame([dict(r) for r in rows])
        summary = summarise(status, POLICY, stored_disposals(conn, date(2026, 4, 17)))
        assert summary.accounts == 0 and summary.outstanding_principal == 0  # out of the pool
        assert summary.written_off_accounts == 1
        manager = create_user(conn, username="boss", password="a long password",
                              role=Role.MANAGER, now=_beijing(date(2026, 4, 17)))  # fmt: skip
        board = dashboard(conn, manager)  # the workbench's headline figures agree
        assert (board.as_of, board.accounts, board.outstanding) == (date(2026, 4, 17), 0, 0)
        assert board.trend[-1]["as_of"] == date(2026, 4, 16) and board.dpd30_ratio == 0.0
        kpis = collection_kpis(conn, date(2026, 4, 1), date(2026, 4, 17), POLICY)
        line = kpis.table.filter(kpis.table["level"] == "portfolio").row(0, named=True)
        opening = _status(conn, date(2026, 3, 31)).overdue_amount
        assert line["opening_overdue"] == opening and line["cash_recovered"] == 0
        assert line["reduction_write_off"] == opening and line["reduction_cash"] == 0
        assert line["reduction_rate"] == pytest.approx(1.0) and line["recovery_rate"] == 0
    engine.dispose()
