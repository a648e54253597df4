"""Scenario: one customer from overdue to a repayment agreement to cure.

The loan of the legal scenario (12,000.00 at 12 %, 12 months, level payment 1,066.19; first due
2026-01-15). The borrower misses two instalments, promises and pays 500.00 (the promise is
kept), a collector proposes an agreement at 36 DPD (a supervisor approves it: maker-checker),
the new schedule replaces the remaining one through the ledger, the case closes cured, the loan
is marked restructured and capped at 关注 during observation while every agreed instalment is
paid on time, and the overdue reduction of the month counts as restructuring, not cash.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postloan.access.roles import Role
from postloan.access.users import create_user
from postloan.collections.agreement_tables import agreement_instalments, agreements
from postloan.collections.agreements import MakerCheckerRefused, approve, propose
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.kpis import collection_kpis
from postloan.collections.reminders import complete
from postloan.collections.tables import promises, tasks
from postloan.imports.service import import_file
from postloan.money import format_amount, parse_amount
from postloan.policy import default_policy
from postloan.runs.service import date_range, run_dates
from postloan.store.db import engine_for
from postloan.views.customer360 import ledger_view
from tests.collections.test_scenario_legal import LEVEL, _beijing, _case, _status, write_files
from tests.store.conftest import BACKENDS, import_all

POLICY = default_policy()
NOW = datetime(2026, 2, 20, 8, tzinfo=UTC)


def _pay(url: str, folder: Path, rows: list[tuple[str, str, str]]) -> None:
    write_files(folder, payments=rows)
    result = import_file("payments", folder / "payments.csv", url)
    assert result.rejected == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_overdue_to_agreement_to_cure(make_store: Any, backend: str, tmp_path: Path) -> None:
    url = make_store(backend)
    files = tmp_path / "files"
    write_files(files)
    import_all(url, files)
    engine = engine_for(url)
    with engine.begin() as conn:
        collector = create_user(conn, username="c1", password="a long password",
                                role=Role.COLLECTOR, branch_id="BR1", now=NOW)  # fmt: skip
        supervisor = create_user(
            conn, username="s1", password="a long password",
            role=Role.COLLECTION_SUPERVISOR, branch_id="BR1", now=NOW,
        )  # fmt: skip
    engine.dispose()

    # -- overdue: case, reminder, then a promise kept by a part payment --------------------------
    run_dates(url, date_range(date(2026, 1, 14), date(2026, 2, 17)), POLICY)
    with engine.begin() as conn:
        assert _case(conn).stage == "negotiation"  # 34 DPD
        reminder = conn.execute(select(tasks).where(tasks.c.kind == "reminder")).one()
        assert (str(reminder.created_on)[:10], reminder.overdue_amount) == ("2026-01-16", LEVEL)
        complete(conn, reminder.task_id, "c1", "phone", _beijing(date(2026, 1, 16), 15))
        record_contact(
            conn,
            Contact("K1", _beijing(date(2026, 2, 17), 11), "phone", ("c1",), "promise_to_pay"),
            POLICY, recorded_by="c1", promise=(parse_amount("500.00"), date(2026, 2, 19)),
        )  # fmt: skip
    engine.dispose()
    _pay(url, files, [("P1", "2026-02-19", "500.00")])
    run_dates(url, date_range(date(2026, 2, 18), date(2026, 2, 20)), POLICY)
    with engine.begin() as conn:
        promise = conn.execute(select(promises)).one()
        assert (promise.status, str(promise.decided_on)[:10]) == ("kept", "2026-02-19")
        before = _status(conn, date(2026, 2, 20))
        assert (before.dpd, before.bucket) == (36, "M2")
        assert before.overdue_amount == 2 * LEVEL - parse_amount("500.00")
        assert before.risk_class == POLICY.risk_class_for(36, "loan")

        # -- the agreement: proposed by the collector, approved by the supervisor ---------------
        key = propose(conn, POLICY, account_id="L1", kind="instalments", proposed_by="c1", now=NOW,
                      instalments=12, first_due_date=date(2026, 3, 15),
                      reason="income fell for two months; can pay monthly again")  # fmt: skip
        with pytest.raises(MakerCheckerRefused):
            approve(conn, POLICY, key, collector, NOW)
        approve(conn, POLICY, key, supervisor, NOW)
        agreement = conn.execute(select(agreements)).one()
        assert (agreement.status, str(agreement.effective_date)[:10]) == ("approved", "2026-02-21")
        agreed = conn.execute(
            select(agreement_instalments)
            .where(agreement_instalments.c.agreed)
            .order_by(agreement_instalments.c.period)
        ).all()  # fmt: skip
        assert len(agreed) == 12 and str(agreed[0].due_date)[:10] == "2026-03-15"
        # Nothing is added: the new instalments carry exactly what was still owed.
        assert sum(i.principal_due + i.interest_due for i in agreed) == agreement.amount
    engine.dispose()

    # -- cured on the effective date; restructured and capped while paying on time --------------
    first, second = agreed[0], agreed[1]

    def due(i: Any) -> str:
        return format_amount(i.principal_due + i.interest_due)

    _pay(url, files, [("P1", "2026-02-19", "500.00"), ("P2", "2026-03-15", due(first)),
                      ("P3", "2026-04-15", due(second))])  # fmt: skip
    run_dates(url, date_range(date(2026, 2, 21), date(2026, 4, 20)), POLICY)
    with engine.begin() as conn:
        case = _case(conn)
        assert (case.status, case.close_reason, str(case.closed_on)[:10]) == (
            "closed",
            "cured",
            "2026-02-21",
        )
        for day in (date(2026, 2, 21), date(2026, 3, 16), date(2026, 4, 20)):
            s = _status(conn, day)
            assert (s.dpd, s.overdue_amount, s.restructured) == (0, 0, True), day
            assert s.risk_class == "special_mention", day  # capped during observation
        assert _status(conn, date(2026, 2, 20)).restructured is False  # before: unchanged
        open_tasks = conn.execute(select(tasks).where(tasks.c.status == "open")).all()
        assert open_tasks == []  # nothing left to do for a cured customer
        kpis = collection_kpis(conn, date(2026, 2, 1), date(2026, 2, 28), POLICY)
        line = kpis.table.filter(kpis.table["level"] == "portfolio").row(0, named=True)
        opening = _status(conn, date(2026, 1, 31)).overdue_amount
        assert line["opening_overdue"] == opening == LEVEL
        assert line["cash_recovered"] == parse_amount("500.00")
        assert line["reduction_cash"] == parse_amount("500.00")
        assert line["reduction_restructuring"] == opening - parse_amount("500.00")
        assert line["reduction_rate"] == pytest.approx(1.0)
        assert (line["promises_kept"], line["promise_kept_rate"]) == (1, 1.0)
        # The 360° view shows the schedule in force — the agreement's — with its state: the
        # agreed instalments due so far paid on their due dates, none late.
        view = ledger_view(conn, "K1", POLICY)
        whole = conn.execute(
            select(agreement_instalments).order_by(agreement_instalments.c.period)
        ).all()
        shown = [(r["period"], str(r["due_date"]), r["principal_due"], r["interest_due"])
                 for r in view["schedules"]]  # fmt: skip
        assert shown == [
            (i.period, str(i.due_date)[:10], format_amount(i.principal_due),
             format_amount(i.interest_due)) for i in whole
        ]  # fmt: skip
        due_so_far = [r for r in view["schedules"] if str(r["due_date"]) <= "2026-04-20"]
        assert due_so_far and all(r["days_late"] == 0 for r in due_so_far)
        assert [str(r["completion_date"]) for r in due_so_far if r["completion_date"]][-2:] == [
            "2026-03-15", "2026-04-15"
        ]  # fmt: skip
        cure = {r["bucket"]: r for r in kpis.cure_by_bucket.iter_rows(named=True)}
        assert cure["M1"]["cure_rate"] == pytest.approx(1.0)  # in M1 on 01-31, current on 02-28
    engine.dispose()
