"""A hardship plan pauses and resumes collection work (issue 15 "Done when"), on SQLite and
PostgreSQL: a customer with open collection tasks after the daily run; a plan over the limit
refused by name; maker-checker; approval pauses the tasks (out of the queue, the customer
listed by collections.handover.paused_customers); breaking the plan gives them back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from postloan.collections.handover import paused_customers
from postloan.collections.tables import tasks
from postloan.errors import RefusedError
from postloan.policy import default_policy
from postloan.relationship import hardship
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import cards, loans
from tests.relationship.conftest import DATES, NOW

POLICY = default_policy()
DAY = date(2026, 7, 1)


def _open_tasks(conn, customer_id: str, status: str = "open") -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            select(func.count()).where(tasks.c.customer_id == customer_id, tasks.c.status == status)
        ).scalar_one()
    )


def test_a_plan_pauses_and_resumes_collection(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        with_tasks = select(tasks.c.customer_id).where(tasks.c.status == "open")
        row = (
            conn.execute(
                select(cards.c.customer_id, cards.c.card_id).where(
                    cards.c.customer_id.in_(with_tasks)
                )
            ).first()
            or conn.execute(
                select(loans.c.customer_id, loans.c.loan_id).where(
                    loans.c.customer_id.in_(with_tasks)
                )
            ).first()
        )
        assert row is not None, "the portfolio has a customer with open collection work"
        customer, account = row[0], row[1]
        is_card = conn.execute(select(cards.c.card_id).where(cards.c.card_id == account)).first()
        kind, too_long = ("card_instalment", 61) if is_card else ("loan_deferral", 7)
        before = _open_tasks(conn, customer)
        assert before > 0
        with pytest.raises(RefusedError) as over:
            hardship.propose(
                conn,
                POLICY,
                customer_id=customer,
                account_id=account,
                kind=kind,
                months=too_long,
                form="written",
                oral_record=None,
                reason="失业",
                actor="credit1",
                today=DAY,
                now=NOW,
            )
        assert over.value.code == "over_limit"
        plan = hardship.propose(
            conn,
            POLICY,
            customer_id=customer,
            account_id=account,
            kind=kind,
            months=6,
            form="oral",
            oral_record="录音 REC-20260701-01：客户同意每月还款",
            reason="失业",
            actor="credit1",
            today=DAY,
            now=NOW,
        )
        with pytest.raises(RefusedError) as own:
            hardship.decide(
                conn,
                plan,
                approve=True,
                approver="credit1",
                approver_role="credit_officer",
                note=None,
                today=DAY,
                now=NOW,
            )
        assert own.value.code == "maker_checker"
        with pytest.raises(RefusedError):  # customer service may propose, not approve
            hardship.decide(
                conn,
                plan,
                approve=True,
                approver="cs1",
                approver_role="customer_service",
                note=None,
                today=DAY,
                now=NOW,
            )
        paused = hardship.decide(
            conn,
            plan,
            approve=True,
            approver="credit2",
            approver_role="credit_officer",
            note=None,
            today=DAY,
            now=NOW,
        )
        assert paused == before
        assert _open_tasks(conn, customer) == 0 and _open_tasks(conn, customer, "paused") == before
        assert customer in paused_customers(conn)
    engine.dispose()
    # The daily run again (a re-run of the latest date): collections makes no new work for the
    # paused customer — no contact task, no reminder — while the plan is kept.
    run_dates(store, [DATES[-1]], POLICY)
    engine = engine_for(store)
    with engine.begin() as conn:
        assert _open_tasks(conn, customer) == 0, "no new collection work during the pause"
        assert _open_tasks(conn, customer, "paused") == before
        resumed = hardship.end(
            conn,
            plan,
            broken=True,
            note="连续两期未按计划还款",
            actor="credit1",
            today=date(2026, 9, 1),
            now=NOW,
        )
        assert resumed == before and _open_tasks(conn, customer) == before
        assert customer not in paused_customers(conn)
        assert hardship.get(conn, plan).status == "broken"
        with pytest.raises(RefusedError):  # a broken plan stays broken
            hardship.end(conn, plan, broken=False, note="x", actor="credit1", today=DAY, now=NOW)
    engine.dispose()
