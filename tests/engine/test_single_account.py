"""Property tests: the one-account routine (`engine.single`, used by the 360° view) answers
exactly what the portfolio engine answers for every loan instalment and card statement.

Same random portfolios as the engine-vs-reference properties: partial, early, late, reversed,
reversed-before-paid and over-payments, hand-made schedules with zero instalments, cards with
zero minimums, both allocation orders and materiality thresholds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given, settings

from postloan.engine import instalment_status, statement_status
from postloan.engine.single import (
    InstalmentDue,
    PaymentRow,
    StatementDue,
    counted_curve,
    instalment_states,
    statement_states,
)
from tests.conftest import examples
from tests.strategies import Case, cases, payment_row


def _payments(case: Case, account_id: str) -> list[PaymentRow]:
    return [
        PaymentRow(r["payment_id"], r["value_date"], r["amount"], r["reverses_payment_id"])
        for r in case.portfolio.payments.filter(account_id=account_id).iter_rows(named=True)
    ]


def _single_rows(case: Case, as_of: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    policy = case.policy.build()
    threshold = int(policy.allocation.materiality_threshold * 100)
    principal_first = policy.allocation.order == "principal_first"
    p = case.portfolio
    instalments: list[dict[str, Any]] = []
    for account_id in sorted(p.loans["account_id"].to_list()):
        schedule = [
            InstalmentDue(r["period"], r["due_date"], r["principal_due"], r["interest_due"])
            for r in p.instalments.filter(account_id=account_id).iter_rows(named=True)
        ]
        for row in instalment_states(
            schedule,
            _payments(case, account_id),
            as_of,
            threshold=threshold,
            principal_first=principal_first,
        ):
            instalments.append({"account_id": account_id, **row})
    statements: list[dict[str, Any]] = []
    for account_id in sorted(p.cards["account_id"].to_list()):
        issued = [
            StatementDue(
                r["statement_date"], r["due_date"], r["statement_balance"], r["minimum_due"]
            )
            for r in p.statements.filter(account_id=account_id).iter_rows(named=True)
        ]
        for row in statement_states(
            issued, _payments(case, account_id), as_of, threshold=threshold
        ):
            statements.append({"account_id": account_id, **row})
    return instalments, statements


def _engine_rows(case: Case, as_of: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    policy = case.policy.build()
    instalments = instalment_status(case.portfolio, as_of, policy).to_dicts()
    statements = statement_status(case.portfolio, as_of, policy).to_dicts()
    return instalments, statements


@settings(max_examples=examples(0.5))
@given(cases())
def test_single_account_equals_engine(case: Case) -> None:
    for as_of in case.dates:
        single_inst, single_st = _single_rows(case, as_of)
        engine_inst, engine_st = _engine_rows(case, as_of)
        assert single_inst == engine_inst, f"instalments as of {as_of}"
        assert single_st == engine_st, f"statements as of {as_of}"


def test_counted_curve_drops_reversed_and_future_payments() -> None:
    d = date
    rows = [
        payment_row("p1", "A", d(2025, 1, 10), 100),
        payment_row("p2", "A", d(2025, 1, 10), 50),
        payment_row("p3", "A", d(2025, 1, 12), 30),  # reversed on 1-20: counts before it
        payment_row("r1", "A", d(2025, 1, 20), 30, "p3"),
        payment_row("p4", "A", d(2025, 1, 15), 7),  # reversed before its own date: never
        payment_row("r2", "A", d(2025, 1, 14), 7, "p4"),
        payment_row("p5", "A", d(2025, 2, 1), 1_000),  # after D
    ]
    payments = [
        PaymentRow(r["payment_id"], r["value_date"], r["amount"], r["reverses_payment_id"])
        for r in rows
    ]
    assert counted_curve(payments, d(2025, 1, 19)) == [(d(2025, 1, 10), 150), (d(2025, 1, 12), 180)]
    assert counted_curve(payments, d(2025, 1, 20)) == [(d(2025, 1, 10), 150)]
