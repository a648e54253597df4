"""Repayment agreements in the store, through real runs (SQLite, and PostgreSQL when set).

One loan falls behind, an officer proposes re-spreading what is owed, a supervisor approves;
the daily runs then follow the new schedule (checked date by date against the plain reference
implementation fed that schedule), earlier dates keep the old one on re-run, and the class
follows the restructuring rules: 关注 during observation at 0 DPD, 次级 after a missed payment
with the period restarted, back to the DPD rules once the period has passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from postloan.access.roles import Role
from postloan.access.tables import audit_log
from postloan.access.users import User
from postloan.collections import agreements as service
from postloan.collections.agreement_tables import agreement_instalments, agreements
from postloan.collections.tables import cases
from postloan.engine.frames import Portfolio
from postloan.ledger import add_months
from postloan.policy import default_policy
from postloan.runs.load import load_contract_portfolio, load_portfolio
from postloan.runs.service import date_range, run_dates
from postloan.store import bulk
from postloan.store.db import engine_for
from postloan.store.schema import cards, customers, loans, payments
from tests.reference import reference_account_status
from tests.store.conftest import BACKENDS

POLICY = default_policy()
NOW = datetime(2025, 3, 16, 9, 0, tzinfo=UTC)
MAKER = User(1, "wang", Role.COLLECTOR, None, None, None, True)
CHECKER = User(2, "li", Role.COLLECTION_SUPERVISOR, "B1", None, None, True)
ROOT = User(3, "root", Role.ADMIN, None, None, None, True)
CS = User(4, "zhao", Role.CUSTOMER_SERVICE, "B1", None, None, True)

# L1: 12,000.00 at 12 % a year, equal principal, due on the 10th from 2025-01-10: 1,000.00
# principal a month plus 1 % of the balance. Only the first instalment (1,120.00) is paid.
# L2 (another customer) pays nothing after its first instalment either; L3 pays everything.
LOAN = {
    "principal": 1_200_000,
    "annual_rate": 12_000_000,
    "term_months": 12,
    "repayment_method": "equal_principal",
    "disbursement_date": date(2024, 12, 10),
    "first_due_date": date(2025, 1, 10),
}
STORED = date(2025, 3, 15)  # L1: Feb 10 unpaid -> 33 DPD
EFFECTIVE = STORED + timedelta(days=1)
FIRST_AGREED = date(2025, 4, 1)
N = 24
# Remaining after instalment 1: principal 11,000.00; interest 110+100+…+10 = 660.00.
# Spread over 24: principal 458.33 × 23 + 458.41 (last); interest 27.50 each.
AGREED = [(45_833 if k < N - 1 else 45_841, 2_750) for k in range(N)]
MISSED_DUE = add_months(FIRST_AGREED, 2)  # 2025-06-01, paid 5 days late


def _setup(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        for cid, branch in (("K1", "B1"), ("K2", "B2"), ("K3", "B1")):
            conn.execute(
                customers.insert().values(
                    customer_id=cid, name=cid, id_type="prc_id", branch_id=branch
                )
            )
        for loan, cid in (("L1", "K1"), ("L2", "K2"), ("L3", "K3")):
            conn.execute(loans.insert().values(loan_id=loan, customer_id=cid, **LOAN))
        conn.execute(
            cards.insert().values(
                card_id="C1", customer_id="K1", credit_limit=100_000, open_date=date(2024, 1, 1)
            )
        )
        rows = [
            {
                "payment_id": f"{loan}-1",
                "account_id": loan,
                "value_date": date(2025, 1, 10),
                "amount": 112_000,
            }
            for loan in ("L1", "L2", "L3")
        ]
        rows += [
            {
                "payment_id": f"L3-{k}",
                "account_id": "L3",
                "value_date": add_months(date(2025, 1, 10), k - 1),
                "amount": 100_000 + (1_200_000 - (k - 1) * 100_000) // 100,
            }
            for k in range(2, 13)
        ]
        conn.execute(payments.insert(), rows)
    engine.dispose()


def _pay_agreed(url: str, last: date) -> None:
    """L1 pays every agreed instalment due up to `last` on its due date, except MISSED_DUE,
    which it pays 5 days late."""
    rows = []
    for k, (principal, interest) in enumerate(AGREED):
        due = add_months(FIRST_AGREED, k)
        if due > last:
            break
        paid_on = due + timedelta(days=5) if due == MISSED_DUE else due
        rows.append(
            {
                "payment_id": f"L1-A{k:02d}",
                "account_id": "L1",
                "value_date": paid_on,
                "amount": principal + interest,
            }
        )
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(payments.insert(), rows)
    engine.dispose()


@contextmanager
def _transaction(url: str) -> Iterator[Connection]:
    """A SQLAlchemy transaction whose engine is disposed after it: the runs write through ADBC,
    whose bundled SQLite must not meet an open pysqlite connection to the same file."""
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _status(url: str) -> pl.DataFrame:
    from postloan.store.schema import account_status as st

    names = ("as_of", "account_id", "dpd", "overdue_principal", "overdue_interest",
             "outstanding_principal", "consecutive_overdue_periods",
             "cumulative_overdue_periods", "bucket", "risk_class", "restructured")  # fmt: skip
    with bulk.connect(url) as conn:
        frame = bulk.read(
            conn,
            select(*(st.c[n] for n in names)).order_by(st.c.as_of, st.c.account_id),
        )
    return frame


def _refused(kind: type[Exception], match: str, call: Any) -> service.AgreementError:
    with pytest.raises(kind, match=match) as info:
        call()
    assert isinstance(info.value, service.AgreementError)
    return info.value


def _propose(conn: Connection, **kw: Any) -> int:
    args = {
        "account_id": "L1",
        "kind": "instalments",
        "proposed_by": MAKER.username,
        "now": NOW,
        "instalments": N,
        "first_due_date": FIRST_AGREED,
        "reason": "lost job in January; new employment from March",
    }
    return service.propose(conn, POLICY, **{**args, **kw})


@pytest.mark.parametrize("backend", BACKENDS)
def test_from_overdue_to_an_approved_agreement_to_cure(make_store: Any, backend: str) -> None:
    url = make_store(backend)
    _setup(url)
    run_dates(url, date_range(date(2025, 1, 1), date(2025, 3, 5)), POLICY)
    with _transaction(url) as conn:  # 23 DPD on 2025-03-05: too early (OD-4: from 31)
        err = _refused(service.AgreementInvalid, "23 DPD.*31 DPD", lambda: _propose(conn))
        assert err.field == "account_id"
    run_dates(url, date_range(date(2025, 3, 6), STORED), POLICY)
    before = _status(url)
    assert before.filter((pl.col("account_id") == "L1") & (pl.col("as_of") == STORED))[
        "dpd"
    ].to_list() == [33]

    with _transaction(url) as conn:
        _refused(service.AgreementInvalid, "is a card", lambda: _propose(conn, account_id="C1"))
        _refused(service.AgreementNotFound, "no loan", lambda: _propose(conn, account_id="L9"))
        _refused(service.AgreementInvalid, "0 DPD", lambda: _propose(conn, account_id="L3"))
        _refused(
            service.AgreementInvalid, "instalments: 1 to 60", lambda: _propose(conn, instalments=61)
        )
        _refused(
            service.AgreementInvalid,
            "first_due_date: must fall after",
            lambda: _propose(conn, first_due_date=STORED),
        )
        _refused(
            service.AgreementInvalid,
            "at least 2 months",
            lambda: _propose(
                conn, kind="extension", instalments=None, first_due_date=None, extension_months=1
            ),
        )
        agreement_id = _propose(conn)
        _refused(service.AgreementConflict, "already has agreement", lambda: _propose(conn))
        # maker-checker: never the proposer, whatever the role; never a role without approval
        _refused(
            service.MakerCheckerRefused,
            "different user",
            lambda: service.approve(conn, POLICY, agreement_id, MAKER, NOW),
        )
        _refused(
            service.MakerCheckerRefused,
            "may not decide",
            lambda: service.approve(conn, POLICY, agreement_id, CS, NOW),
        )
        _refused(
            service.MakerCheckerRefused,
            "only they may withdraw",
            lambda: service.withdraw(conn, agreement_id, CHECKER, NOW),
        )
        preview = service.schedule_of(conn, POLICY, service.get(conn, agreement_id))
        row = service.approve(conn, POLICY, agreement_id, CHECKER, NOW, note="capacity checked")
        _refused(
            service.AgreementConflict,
            "is approved",
            lambda: service.reject(conn, agreement_id, ROOT, NOW),
        )
        fixed = conn.execute(
            select(agreement_instalments).order_by(agreement_instalments.c.period)
        ).all()
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    assert (row.status, row.decided_by, row.live_account_id) == ("approved", "li", None)
    assert (row.effective_date, row.first_agreed_due) == (EFFECTIVE, FIRST_AGREED)
    assert (row.class_at_restructuring, bool(row.repeat)) == ("special_mention", False)
    assert actions == ["agreement.propose", "agreement.approve"]
    # the new schedule: instalment 1 as paid, then 24 agreed ones owing exactly what was left
    assert [(r.period, r.agreed) for r in fixed[:2]] == [(1, False), (13, True)]
    assert [(r.principal_due, r.interest_due) for r in fixed[1:]] == AGREED
    assert [r.due_date for r in fixed[1:]] == [add_months(FIRST_AGREED, k) for k in range(N)]
    assert sum(r.principal_due for r in fixed) == LOAN["principal"]
    assert [(p.period, p.principal_due, p.interest_due) for p in preview] == [
        (r.period, r.principal_due, r.interest_due) for r in fixed
    ]

    # the daily runs go on: daily to mid-July, then the dates around the period's ends
    later = [
        *date_range(EFFECTIVE, date(2025, 7, 10)),
        date(2025, 10, 1),
        date(2026, 4, 1),
        date(2026, 4, 2),
        date(2026, 7, 1),
        date(2026, 7, 2),
        date(2026, 8, 1),
    ]
    _pay_agreed(url, later[-1])
    run_dates(url, later, POLICY)
    after = _status(url)
    l1 = {r["as_of"]: r for r in after.filter(pl.col("account_id") == "L1").to_dicts()}

    # DPD and amounts follow the new schedule: the plain reference fed it agrees on every date
    with bulk.connect(url) as conn:
        old = load_contract_portfolio(conn)
        new = load_portfolio(conn)
    for day, got in l1.items():
        portfolio = new if day >= EFFECTIVE else old
        ref = _reference_row(portfolio, day)
        assert {k: got[k] for k in ref} == ref, day
    assert l1[EFFECTIVE]["dpd"] == 0 and l1[STORED]["dpd"] == 33
    assert l1[date(2025, 6, 2)]["dpd"] == 1 and l1[date(2025, 6, 6)]["dpd"] == 0

    classes = {d: (r["risk_class"], r["restructured"]) for d, r in l1.items()}
    assert classes[STORED] == ("special_mention", False)
    assert classes[EFFECTIVE] == ("special_mention", True)  # 0 DPD, capped at 关注
    assert classes[date(2025, 5, 20)] == ("special_mention", True)
    assert classes[date(2025, 6, 2)] == ("substandard", True)  # the missed payment
    assert classes[date(2025, 7, 10)] == ("substandard", True)  # paid up, period restarted
    # without the miss the period would have ended 2026-04-01 (first agreed + 12 months) …
    assert classes[date(2026, 4, 2)] == ("substandard", True)
    # … restarted at 2025-07-01, it ends 2026-07-01: then the DPD rules again
    assert classes[date(2026, 7, 1)] == ("substandard", True)
    assert classes[date(2026, 7, 2)] == ("normal", False)
    assert classes[date(2026, 8, 1)] == ("normal", False)
    others = after.filter(pl.col("account_id") != "L1")
    assert not others["restructured"].any()
    l2 = others.filter((pl.col("account_id") == "L2") & (pl.col("as_of") == date(2025, 7, 10)))
    assert l2["dpd"].to_list() == [150] and l2["risk_class"].to_list() == ["substandard"]

    # the agreement cures the case: closed on the effective date, nothing overdue any more
    with _transaction(url) as conn:
        k1 = conn.execute(
            select(cases.c.opened_on, cases.c.closed_on, cases.c.close_reason)
            .where(cases.c.customer_id == "K1")
            .order_by(cases.c.opened_on)
        ).all()
    assert tuple(k1[0]) == (date(2025, 2, 11), EFFECTIVE, "cured")

    # earlier dates keep the old schedule; a whole re-run (one backfill) changes nothing
    assert after.filter(pl.col("as_of") <= STORED).equals(before)
    run_dates(url, date_range(date(2025, 1, 1), date(2025, 7, 10)) + later[-6:], POLICY)
    assert _status(url).equals(after)


def _reference_row(portfolio: Portfolio, day: date) -> dict[str, Any]:
    rows = [r for r in reference_account_status(portfolio, day, POLICY) if r["account_id"] == "L1"]
    assert len(rows) == 1
    keep = (
        "dpd",
        "overdue_principal",
        "overdue_interest",
        "outstanding_principal",
        "consecutive_overdue_periods",
        "cumulative_overdue_periods",
        "bucket",
    )
    return {k: rows[0][k] for k in keep}


@pytest.mark.parametrize("backend", BACKENDS)
def test_extension_reject_withdraw_and_one_live_agreement(make_store: Any, backend: str) -> None:
    url = make_store(backend)
    _setup(url)
    run_dates(url, date_range(date(2025, 2, 1), STORED), POLICY)
    with _transaction(url) as conn:
        first = _propose(
            conn,
            account_id="L2",
            kind="extension",
            instalments=None,
            first_due_date=None,
            extension_months=2,
        )
        _refused(
            service.MakerCheckerRefused,
            "different user",
            lambda: service.reject(conn, first, MAKER, NOW),
        )
        service.reject(conn, first, CHECKER, NOW, note="no income shown")
        second = _propose(
            conn,
            account_id="L2",
            kind="extension",
            instalments=None,
            first_due_date=None,
            extension_months=2,
        )
        withdrawn = service.withdraw(conn, second, MAKER, NOW)
        third = _propose(
            conn,
            account_id="L2",
            kind="extension",
            instalments=None,
            first_due_date=None,
            extension_months=3,
        )
        service.approve(conn, POLICY, third, ROOT, NOW)
        fixed = conn.execute(
            select(agreement_instalments)
            .where(agreement_instalments.c.agreement_id == third)
            .order_by(agreement_instalments.c.period)
        ).all()
        statuses = dict(conn.execute(select(agreements.c.agreement_id, agreements.c.status)).all())
        trail = [
            (r.action, r.target_id)
            for r in conn.execute(
                select(audit_log.c.action, audit_log.c.target_id).order_by(audit_log.c.seq)
            )
        ]
    assert withdrawn.status == "withdrawn"
    assert statuses == {first: "rejected", second: "withdrawn", third: "approved"}
    assert trail == [
        ("agreement.propose", str(first)),
        ("agreement.reject", str(first)),
        ("agreement.propose", str(second)),
        ("agreement.withdraw", str(second)),
        ("agreement.propose", str(third)),
        ("agreement.approve", str(third)),
    ]
    # instalment 1 stays; 2..12 move 3 months later, amounts unchanged
    schedule = [(r.period, r.due_date, r.agreed) for r in fixed]
    assert schedule[0] == (1, date(2025, 1, 10), False)
    assert schedule[1:] == [(k, add_months(date(2025, 1, 10), k + 2), True) for k in range(2, 13)]
    run_dates(url, [EFFECTIVE, date(2025, 5, 11)], POLICY)
    l2 = _status(url).filter(pl.col("account_id") == "L2")
    by_day = {r["as_of"]: (r["dpd"], r["risk_class"], r["restructured"]) for r in l2.to_dicts()}
    assert by_day[EFFECTIVE] == (0, "special_mention", True)
    # Feb 10 moved to May 10, unpaid: 1 DPD on May 11 — a missed payment in observation
    assert by_day[date(2025, 5, 11)] == (1, "substandard", True)

    # still nothing paid: 32 DPD on 2025-06-11 — restructured again while under observation
    run_dates(url, date_range(date(2025, 5, 12), date(2025, 6, 11)), POLICY)
    with _transaction(url) as conn:
        again = _propose(conn, account_id="L2", instalments=6, first_due_date=date(2025, 7, 1))
        second = service.approve(conn, POLICY, again, CHECKER, NOW)
    assert (second.class_at_restructuring, bool(second.repeat)) == ("substandard", True)
    assert second.effective_date == date(2025, 6, 12)
    run_dates(url, [date(2025, 6, 12), date(2025, 7, 2)], POLICY)
    l2 = _status(url).filter(pl.col("account_id") == "L2")
    by_day = {r["as_of"]: (r["dpd"], r["risk_class"], r["restructured"]) for r in l2.to_dicts()}
    assert by_day[date(2025, 6, 11)] == (32, "substandard", True)  # the first agreement's
    assert by_day[date(2025, 6, 12)] == (0, "substandard", True)  # a second restructuring
    assert by_day[date(2025, 7, 2)] == (1, "substandard", True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_database_keeps_one_live_agreement_per_loan(make_store: Any, backend: str) -> None:
    url = make_store(backend)
    _setup(url)
    run_dates(url, [STORED], POLICY)
    with _transaction(url) as conn:
        first = _propose(conn)
        row = dict(service.get(conn, first)._mapping)
        del row["agreement_id"]
        with pytest.raises(IntegrityError), conn.begin_nested():  # past the service's check
            conn.execute(agreements.insert().values(**row))
        service.withdraw(conn, first, MAKER, NOW)
        assert _propose(conn) > first  # withdrawn: no longer live
