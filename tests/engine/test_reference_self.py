"""The reference implementation against cases worked out by hand, so that it can be trusted.

Every expected number below is computed in the comments from DATA_CONTRACT.md and
docs/semantics.md, not read off any implementation.
"""

from __future__ import annotations

from datetime import date

from postloan.engine.frames import Portfolio
from tests.reference import (
    reference_account_status,
    reference_instalment_status,
    reference_statement_status,
)
from tests.strategies import (
    build_portfolio,
    card_row,
    instalment_row,
    loan_row,
    make_policy,
    payment_row,
    statement_row,
)

D = date
DEFAULT = make_policy()


def _three_instalment_loan(payments: list[dict]) -> Portfolio:
    # 300.00 over three instalments of 100.00 principal + 5.00 interest (105.00 each),
    # due on the 15th of Feb, Mar and Apr 2024.
    return build_portfolio(
        loans=[loan_row("L1", 30_000, D(2024, 1, 15), term_months=3)],
        instalments=[
            instalment_row("L1", 1, D(2024, 2, 15), 10_000, 500),
            instalment_row("L1", 2, D(2024, 3, 15), 10_000, 500),
            instalment_row("L1", 3, D(2024, 4, 15), 10_000, 500),
        ],
        payments=payments,
    )


def _by(rows: list[dict], key: str = "account_id") -> dict:
    return {row[key]: row for row in rows}


def test_partial_payment_interest_first() -> None:
    portfolio = _three_instalment_loan(
        [
            payment_row("p1", "L1", D(2024, 2, 15), 10_500),  # instalment 1, on its due date
            payment_row("p2", "L1", D(2024, 3, 20), 6_000),  # part of instalment 2, late
        ]
    )
    as_of = D(2024, 3, 25)
    # p2 6000 -> instalment 2: interest 500, principal 5500; 4500 principal still uncovered.
    # dpd = 03-25 - 03-15 = 10. outstanding = 30000 - (10000 + 5500) = 14500.
    # Instalments due before D: #1 on time, #2 unpaid -> consecutive 1, cumulative 1.
    (row,) = reference_account_status(portfolio, as_of, DEFAULT)
    assert row == {
        "account_id": "L1",
        "customer_id": "K1",
        "account_type": "loan",
        "as_of": as_of,
        "outstanding_principal": 14_500,
        "overdue_principal": 4_500,
        "overdue_interest": 0,
        "overdue_amount": 4_500,
        "dpd": 10,
        "bucket": "M1",
        "risk_class": "special_mention",  # 10 > 7 grace days and > 0
        "consecutive_overdue_periods": 1,
        "cumulative_overdue_periods": 1,
        "last_payment_date": D(2024, 3, 20),
    }
    inst = _by(reference_instalment_status(portfolio, as_of, DEFAULT), "period")
    assert (inst[1]["covered_interest"], inst[1]["covered_principal"]) == (500, 10_000)
    assert inst[1]["completion_date"] == D(2024, 2, 15)
    assert (inst[1]["days_late"], inst[1]["paid_late"]) == (0, False)
    assert (inst[2]["covered_interest"], inst[2]["covered_principal"]) == (500, 5_500)
    assert inst[2]["completion_date"] is None
    assert (inst[2]["days_late"], inst[2]["paid_late"]) == (10, True)
    assert (inst[3]["covered_interest"], inst[3]["covered_principal"]) == (0, 0)
    assert (inst[3]["days_late"], inst[3]["paid_late"]) == (0, False)  # due after D


def test_partial_payment_principal_first() -> None:
    portfolio = _three_instalment_loan(
        [
            payment_row("p1", "L1", D(2024, 2, 15), 10_500),
            payment_row("p2", "L1", D(2024, 3, 20), 6_000),
        ]
    )
    policy = make_policy("principal_first", 0)
    # p2 6000 -> instalment 2 principal 6000 (of 10000), interest 0 (of 500).
    # overdue principal 4000, interest 500; outstanding = 30000 - 16000 = 14000.
    (row,) = reference_account_status(portfolio, D(2024, 3, 25), policy)
    assert (row["overdue_principal"], row["overdue_interest"], row["overdue_amount"]) == (
        4_000,
        500,
        4_500,
    )
    assert row["outstanding_principal"] == 14_000
    assert row["dpd"] == 10


def test_reversal_after_completion_moves_completion_dates() -> None:
    portfolio = _three_instalment_loan(
        [
            payment_row("p1", "L1", D(2024, 2, 15), 10_500),
            payment_row("p2", "L1", D(2024, 3, 20), 6_000),
            payment_row("p3", "L1", D(2024, 4, 10), 20_000),  # 4500 + 10500 + 5000 credit
            payment_row("r1", "L1", D(2024, 4, 20), 10_500, reverses="p1"),
        ]
    )
    # As of 04-19 p1 still counts: 10500 + 6000 + 20000 = 36500 >= 31500 due -> closed.
    assert reference_account_status(portfolio, D(2024, 4, 19), DEFAULT) == []
    inst = _by(reference_instalment_status(portfolio, D(2024, 4, 19), DEFAULT), "period")
    assert [inst[k]["completion_date"] for k in (1, 2, 3)] == [
        D(2024, 2, 15),
        D(2024, 4, 10),  # p2 left 4500 on it, p3 completed it
        D(2024, 4, 10),
    ]

    # From 04-20 p1 never happened: p2 6000 + p3 20000 = 26000 fill the queue
    #   #1 (10500): p2 6000, then p3 4500 -> completed 04-10, 55 days late (02-15 -> 04-10)
    #   #2 (10500): p3 -> completed 04-10, 26 days late (03-15 -> 04-10)
    #   #3: p3's last 5000 -> interest 500, principal 4500; 5500 principal uncovered
    # dpd = 04-20 - 04-15 = 5 (within the 7-day grace: normal); all three late/unpaid.
    as_of = D(2024, 4, 20)
    (row,) = reference_account_status(portfolio, as_of, DEFAULT)
    assert row["outstanding_principal"] == 5_500  # 30000 - (10000 + 10000 + 4500)
    assert (row["overdue_principal"], row["overdue_interest"]) == (5_500, 0)
    assert (row["dpd"], row["bucket"], row["risk_class"]) == (5, "M1", "normal")
    assert (row["consecutive_overdue_periods"], row["cumulative_overdue_periods"]) == (3, 3)
    assert row["last_payment_date"] == D(2024, 4, 10)
    inst = _by(reference_instalment_status(portfolio, as_of, DEFAULT), "period")
    assert [(inst[k]["completion_date"], inst[k]["days_late"]) for k in (1, 2, 3)] == [
        (D(2024, 4, 10), 55),
        (D(2024, 4, 10), 26),
        (None, 5),
    ]


def test_backdated_reversal_before_payment_date_and_ties() -> None:
    # Two payments on the same day: ties by payment_id in string order ("p10" < "p9").
    portfolio = _three_instalment_loan(
        [
            payment_row("p9", "L1", D(2024, 2, 20), 10_500),
            payment_row("p10", "L1", D(2024, 2, 20), 200),
        ]
    )
    # p10 first: 200 of instalment 1's interest; then p9 10500: 300 interest + 10000 principal
    # (instalment 1 complete, 5 days late) and 200 interest of instalment 2.
    inst = _by(reference_instalment_status(portfolio, D(2024, 3, 1), DEFAULT), "period")
    assert inst[1]["completion_date"] == D(2024, 2, 20)
    assert inst[1]["days_late"] == 5
    assert (inst[2]["covered_interest"], inst[2]["covered_principal"]) == (200, 0)


def test_zero_amount_instalment_is_never_late() -> None:
    portfolio = build_portfolio(
        loans=[loan_row("L2", 10_000, D(2024, 1, 1), term_months=3)],
        instalments=[
            instalment_row("L2", 1, D(2024, 2, 1), 0, 0),
            instalment_row("L2", 2, D(2024, 3, 1), 0, 0),
            instalment_row("L2", 3, D(2024, 4, 1), 10_000, 100),
        ],
    )
    as_of = D(2024, 3, 10)
    (row,) = reference_account_status(portfolio, as_of, DEFAULT)
    # Nothing due before D is unpaid: dpd 0, no overdue, no late periods.
    assert (row["dpd"], row["overdue_amount"], row["cumulative_overdue_periods"]) == (0, 0, 0)
    assert row["outstanding_principal"] == 10_000
    assert row["last_payment_date"] is None
    inst = _by(reference_instalment_status(portfolio, as_of, DEFAULT), "period")
    assert inst[1]["completion_date"] == D(2024, 2, 1)  # covered on its due date
    assert inst[2]["completion_date"] == D(2024, 3, 1)
    assert inst[3]["completion_date"] is None


def test_materiality_threshold() -> None:
    portfolio = _three_instalment_loan([payment_row("p1", "L1", D(2024, 2, 15), 10_460)])
    as_of = D(2024, 3, 1)
    # 10460 of 10500: 40 cents of instalment 1's principal uncovered.
    # Threshold 0.50: 40 <= 50 -> counts as covered on 02-15 for dpd and lateness,
    # but the amounts stay exact and the loan is not closed.
    (row,) = reference_account_status(portfolio, as_of, make_policy("interest_first", 50))
    assert (row["dpd"], row["bucket"], row["cumulative_overdue_periods"]) == (0, "current", 0)
    assert (row["overdue_principal"], row["overdue_interest"]) == (40, 0)
    # Threshold 0.00 (default): 15 days past due (02-15 -> 03-01 in a leap year: 14 + 1).
    (row,) = reference_account_status(portfolio, as_of, DEFAULT)
    assert (row["dpd"], row["cumulative_overdue_periods"]) == (15, 1)
    inst = _by(
        reference_instalment_status(portfolio, as_of, make_policy("interest_first", 50)), "period"
    )
    assert inst[1]["completion_date"] is None  # exact: not fully covered
    assert (inst[1]["days_late"], inst[1]["paid_late"]) == (0, False)


def _card_portfolio() -> Portfolio:
    return build_portfolio(
        cards=[card_row("C1", D(2024, 1, 1))],
        statements=[
            statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 50_000, 5_000),
            statement_row("C1", D(2024, 2, 10), D(2024, 3, 1), 60_000, 0),
            statement_row("C1", D(2024, 3, 10), D(2024, 3, 30), 40_000, 4_000),
        ],
        payments=[
            payment_row("c1", "C1", D(2024, 1, 5), 3_000),  # before any statement
            payment_row("c2", "C1", D(2024, 1, 30), 5_000),  # S1 minimum, on its due date
            payment_row("c3", "C1", D(2024, 3, 5), 2_000),  # S3 not issued yet: no minimum
            payment_row("c4", "C1", D(2024, 4, 2), 1_500),  # part of S3's minimum
        ],
    )


def test_card() -> None:
    portfolio = _card_portfolio()
    as_of = D(2024, 4, 5)
    # S1: met by c2 on 01-30 (on time). S2: zero minimum, covered on 03-01. S3: c4 1500 of
    # 4000 -> 2500 unmet, due 03-30 -> dpd 6. c1 and c3 went to no minimum.
    # Outstanding: S3 balance 40000 - c4 1500 (after 03-10, <= D) = 38500.
    (row,) = reference_account_status(portfolio, as_of, DEFAULT)
    assert row == {
        "account_id": "C1",
        "customer_id": "K1",
        "account_type": "card",
        "as_of": as_of,
        "outstanding_principal": 38_500,
        "overdue_principal": 2_500,
        "overdue_interest": 0,
        "overdue_amount": 2_500,
        "dpd": 6,
        "bucket": "M1",
        "risk_class": "normal",
        "consecutive_overdue_periods": 1,
        "cumulative_overdue_periods": 1,
        "last_payment_date": D(2024, 4, 2),
    }
    stmts = _by(reference_statement_status(portfolio, as_of, DEFAULT), "statement_date")
    s1, s2, s3 = (stmts[D(2024, m, 10)] for m in (1, 2, 3))
    assert (s1["minimum_covered"], s1["completion_date"], s1["paid_late"]) == (
        5_000,
        D(2024, 1, 30),
        False,
    )
    assert (s2["minimum_covered"], s2["completion_date"], s2["paid_late"]) == (
        0,
        D(2024, 3, 1),
        False,
    )
    assert (s3["minimum_covered"], s3["completion_date"], s3["days_late"]) == (1_500, None, 6)
    # Paid in full: S1 got 5000 between 01-10 and 01-30 (< 50000); none is paid in full.
    assert [s["paid_in_full"] for s in (s1, s2, s3)] == [False, False, False]

    # On S1's due date: not overdue yet. The day after, with c2 reversed that day: dpd 1.
    (row,) = reference_account_status(portfolio, D(2024, 1, 30), DEFAULT)
    assert (row["dpd"], row["outstanding_principal"]) == (0, 45_000)  # 50000 - c2
    reversed_c2 = build_portfolio(
        cards=portfolio.cards.to_dicts(),
        statements=portfolio.statements.to_dicts(),
        payments=[
            *portfolio.payments.to_dicts(),
            payment_row("r1", "C1", D(2024, 1, 31), 5_000, reverses="c2"),
        ],
    )
    (row,) = reference_account_status(reversed_c2, D(2024, 1, 31), DEFAULT)
    assert (row["dpd"], row["overdue_principal"], row["outstanding_principal"]) == (
        1,
        5_000,
        50_000,
    )
    assert row["last_payment_date"] == D(2024, 1, 5)  # c1; the reversal row is not a payment
