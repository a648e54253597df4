"""A kept hardship plan broken by the daily run from the payments (CR-5), on SQLite and
PostgreSQL: three plans approved on 2026-05-01 for customers with open collection work —

- K (kept): a payment on 2026-06-10 — 20 days quiet on 2026-06-30, within the 35 allowed;
- B (broken): its only recent payment reversed — quiet since approval, 60 days: broken on
  2026-06-30, the customer's paused tasks back in the queue, the pause `resumed`, audited by
  the daily run;
- D (deferral, a loan): nothing is due before 2026-08-01 — kept whatever the payments.

The plans broken equal a plain recomputation from the payment rows, and re-running the date
breaks nothing more."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import Connection, func, insert, select

from postloan.access.tables import audit_log
from postloan.collections.handover import paused_customers
from postloan.collections.tables import tasks
from postloan.policy import default_policy
from postloan.relationship import hardship
from postloan.relationship.tables import hardship_plans
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import cards, loans, payments
from tests.relationship.conftest import AS_OF, NOW

POLICY = default_policy()
APPROVED = date(2026, 5, 1)
QUIET = POLICY.relationship.hardship.missed_payment_days  # 35


def _count(conn: Connection, customer: str, status: str) -> int:
    q = select(func.count()).where(tasks.c.customer_id == customer, tasks.c.status == status)
    return int(conn.execute(q).scalar_one())


def _recent_payment(conn: Connection, account: str) -> bool:
    since = AS_OF - timedelta(days=QUIET)
    q = select(payments.c.payment_id).where(
        payments.c.account_id == account, payments.c.value_date > since
    )
    return conn.execute(q).first() is not None


def _plan(conn: Connection, customer: str, account: str, kind: str, months: int) -> int:
    plan = hardship.propose(
        conn, POLICY, customer_id=customer, account_id=account, kind=kind, months=months,
        form="written", oral_record=None, reason="收入中断", actor="credit1", today=APPROVED,
        now=NOW,
    )  # fmt: skip
    hardship.decide(
        conn, plan, approve=True, approver="credit2", approver_role="credit_officer", note=None,
        today=APPROVED, now=NOW,
    )  # fmt: skip
    return plan


def _reference(conn: Connection, day: date) -> set[int]:
    """Plain: per approved plan, the payments on its account on or before `day` minus those a
    reversal cancels; quiet since the later of the last one and the due day; broken when
    quiet more than QUIET days."""
    rows = conn.execute(select(payments)).all()
    reversed_ids = {r.reverses_payment_id for r in rows if r.reverses_payment_id and
                    r.value_date <= day}  # fmt: skip
    out = set()
    for plan in conn.execute(select(hardship_plans).where(hardship_plans.c.status == "approved")):
        due = plan.decided_on
        if plan.kind == "loan_deferral":
            m = due.month - 1 + plan.months
            due = date(due.year + m // 12, m % 12 + 1, min(due.day, 28))
        paid = [r.value_date for r in rows if r.account_id == plan.account_id and
                r.reverses_payment_id is None and r.payment_id not in reversed_ids and
                r.value_date <= day]  # fmt: skip
        since = max([due, *paid])
        if (day - since).days > QUIET:
            out.add(int(plan.plan_id))
    return out


def test_a_missed_instalment_breaks_the_plan_and_resumes_collections(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        with_tasks = select(tasks.c.customer_id).where(tasks.c.status == "open").distinct()
        card_rows = conn.execute(
            select(cards.c.customer_id, cards.c.card_id).where(cards.c.customer_id.in_(with_tasks))
        ).all()
        loan_rows = conn.execute(
            select(loans.c.customer_id, loans.c.loan_id).where(loans.c.customer_id.in_(with_tasks))
        ).all()
        accounts = [(c, a, "card_instalment") for c, a in card_rows] + [
            (c, a, "loan_extension") for c, a in loan_rows
        ]
        quiet = [x for x in accounts if not _recent_payment(conn, x[1])]
        assert quiet, "a customer with collection work and no recent payment"
        b = quiet[0]
        k = next(x for x in accounts if x[0] != b[0])
        d = next((c, a) for c, a in loan_rows if c not in (b[0], k[0]))
        conn.execute(
            insert(payments),
            [
                {"payment_id": "T-K-1", "account_id": k[1], "value_date": date(2026, 6, 10),
                 "amount": 10000, "channel": "transfer", "reverses_payment_id": None},
                {"payment_id": "T-B-1", "account_id": b[1], "value_date": date(2026, 6, 10),
                 "amount": 10000, "channel": "transfer", "reverses_payment_id": None},
                {"payment_id": "T-B-1R", "account_id": b[1], "value_date": date(2026, 6, 12),
                 "amount": 10000, "channel": "transfer", "reverses_payment_id": "T-B-1"},
            ],
        )  # fmt: skip
        plan_k = _plan(conn, k[0], k[1], k[2], 12)
        plan_b = _plan(conn, b[0], b[1], b[2], 12)
        plan_d = _plan(conn, d[0], d[1], "loan_deferral", 3)
        paused_b = _count(conn, b[0], "paused")
        assert paused_b > 0 and _count(conn, b[0], "open") == 0
        expected = _reference(conn, AS_OF)
        assert expected == {plan_b}, "the scenario as designed"
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)

    engine = engine_for(store)
    with engine.begin() as conn:
        broken = hardship.get(conn, plan_b)
        assert broken.status == "broken" and broken.ended_on == AS_OF
        assert "missed instalment" in broken.end_note
        assert hardship.get(conn, plan_k).status == "approved"
        assert hardship.get(conn, plan_d).status == "approved"
        assert _count(conn, b[0], "paused") == 0
        assert _count(conn, b[0], "open") >= paused_b
        still = paused_customers(conn)
        assert b[0] not in still and {k[0], d[0]} <= still
        entry = conn.execute(
            select(audit_log).where(
                audit_log.c.action == "hardship.broken", audit_log.c.target_id == str(plan_b)
            )
        ).one()
        assert entry.actor == "daily-run"
        detail = json.loads(entry.detail)
        assert detail["detected"] == "payments"
        # the reversed payment of 2026-06-10 does not count: the last one is older
        last = date.fromisoformat(detail["last_paid"]) if detail["last_paid"] else APPROVED
        assert last < AS_OF - timedelta(days=QUIET)
        assert detail["days_quiet"] == (AS_OF - max(last, APPROVED)).days
        assert detail["tasks_resumed"] == paused_b
        n_audit = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)  # again: nothing more is broken

    engine = engine_for(store)
    with engine.begin() as conn:
        assert hardship.get(conn, plan_k).status == "approved"
        breaks = select(func.count()).where(audit_log.c.action == "hardship.broken")
        assert conn.execute(breaks).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() >= n_audit
    engine.dispose()


def test_missed_plans_counts_from_the_later_of_due_day_and_last_payment() -> None:
    import polars as pl

    from postloan.relationship.rules.hardship import missed_plans

    day = date(2026, 6, 30)
    kept = pl.DataFrame(
        {
            "plan_id": [1, 2, 3, 4, 5],
            "kind": ["card_instalment", "card_instalment", "loan_extension", "loan_deferral",
                     "loan_deferral"],
            "months": [12, 12, 6, 1, 3],
            # 1: paid 35 days ago (kept); 2: paid 36 days ago (broken); 3: approved 36 days
            # ago, never paid (broken); 4: deferral ended 2026-05-25 — 36 days (broken);
            # 5: deferral runs to 2026-07-25 (kept)
            "decided_on": [date(2026, 1, 1), date(2026, 1, 1), date(2026, 5, 25),
                           date(2026, 4, 25), date(2026, 4, 25)],
            "last_paid": [date(2026, 5, 26), date(2026, 5, 25), None, None, None],
        },
        schema_overrides={"last_paid": pl.Date},
    )  # fmt: skip
    out = missed_plans(kept, day, 35)
    assert out["plan_id"].to_list() == [2, 3, 4]
    assert out["days_quiet"].to_list() == [36, 36, 36]
    assert out["due_from"].to_list()[2] == date(2026, 5, 25)
