"""Named scenarios at the edges of the contract, expected values worked out by hand.

Each expectation comes from DATA_CONTRACT.md / docs/semantics.md (the arithmetic is in the
comments), never from an implementation's output, and each is asserted against BOTH the engine
and the reference implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from postloan.engine import account_status, instalment_status, statement_status
from postloan.engine.frames import LOANS, Portfolio
from postloan.ledger import generate_instalments
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
Rows = Callable[[Portfolio, date, Any], list[dict[str, Any]]]


def _implementations(engine: Callable[..., pl.DataFrame], reference: Rows) -> dict[str, Rows]:
    return {
        "engine": lambda p, d, pol: engine(p, d, pol).to_dicts(),
        "reference": reference,
    }


ACCOUNTS = _implementations(account_status, reference_account_status)
INSTALMENTS = _implementations(instalment_status, reference_instalment_status)
STATEMENTS = _implementations(statement_status, reference_statement_status)


def expect_account(
    portfolio: Portfolio, as_of: date, account_id: str, policy: Any = DEFAULT, **expected: Any
) -> None:
    """Both implementations report `account_id` on `as_of` with these column values."""
    for impl, rows_of in ACCOUNTS.items():
        rows = [r for r in rows_of(portfolio, as_of, policy) if r["account_id"] == account_id]
        assert len(rows) == 1, f"{impl}: {account_id} reported {len(rows)} times on {as_of}"
        got = {k: rows[0][k] for k in expected}
        assert got == expected, f"{impl} on {as_of}: {got} != {expected}"


def expect_not_reported(
    portfolio: Portfolio, as_of: date, account_id: str, policy: Any = DEFAULT
) -> None:
    for impl, rows_of in ACCOUNTS.items():
        ids = [r["account_id"] for r in rows_of(portfolio, as_of, policy)]
        assert account_id not in ids, f"{impl}: {account_id} reported on {as_of}"


def expect_instalment(
    portfolio: Portfolio,
    as_of: date,
    account_id: str,
    period: int,
    policy: Any = DEFAULT,
    **expected: Any,
) -> None:
    for impl, rows_of in INSTALMENTS.items():
        rows = [
            r
            for r in rows_of(portfolio, as_of, policy)
            if r["account_id"] == account_id and r["period"] == period
        ]
        assert len(rows) == 1, f"{impl}: instalment {account_id}/{period}: {len(rows)} rows"
        got = {k: rows[0][k] for k in expected}
        assert got == expected, f"{impl} {account_id}/{period} on {as_of}: {got} != {expected}"


def expect_statement(
    portfolio: Portfolio,
    as_of: date,
    account_id: str,
    statement_date: date,
    policy: Any = DEFAULT,
    **expected: Any,
) -> None:
    for impl, rows_of in STATEMENTS.items():
        rows = [
            r
            for r in rows_of(portfolio, as_of, policy)
            if r["account_id"] == account_id and r["statement_date"] == statement_date
        ]
        assert len(rows) == 1, f"{impl}: statement {account_id}/{statement_date}: {len(rows)}"
        got = {k: rows[0][k] for k in expected}
        assert got == expected, (
            f"{impl} {account_id}/{statement_date} on {as_of}: {got} != {expected}"
        )


NOTHING_OVERDUE = {
    "dpd": 0,
    "bucket": "current",
    "risk_class": "normal",
    "overdue_principal": 0,
    "overdue_interest": 0,
    "overdue_amount": 0,
}


def monthly_loan(periods: int, *payments: dict[str, Any]) -> Portfolio:
    """Instalments of 100.00 principal + 1.00 interest due on the 15th from Mar 2024 on."""
    return build_portfolio(
        loans=[loan_row("L1", 10_000 * periods, D(2024, 2, 15), term_months=periods)],
        instalments=[
            instalment_row("L1", k, D(2024, 2 + k, 15), 10_000, 100) for k in range(1, periods + 1)
        ],
        payments=list(payments),
    )


def two_instalment_loan(*payments: dict[str, Any]) -> Portfolio:
    """200.00 in two instalments of 100.00 principal + 1.00 interest, due Mar 15 and Apr 15 2024."""
    return monthly_loan(2, *payments)


# --------------------------------------------------------------------------------------------
# Loans


def test_due_today_is_not_overdue_the_day_after_is() -> None:
    portfolio = two_instalment_loan()
    # On the due date nothing is overdue, and the instalment is not late.
    expect_account(
        portfolio,
        D(2024, 3, 15),
        "L1",
        **NOTHING_OVERDUE,
        outstanding_principal=20_000,
        consecutive_overdue_periods=0,
        cumulative_overdue_periods=0,
        last_payment_date=None,
    )
    expect_instalment(portfolio, D(2024, 3, 15), "L1", 1, days_late=0, paid_late=False)
    # From D + 1: dpd 1, the whole instalment overdue, one unpaid period; still 正常 (grace).
    expect_account(
        portfolio,
        D(2024, 3, 16),
        "L1",
        dpd=1,
        bucket="M1",
        risk_class="normal",
        overdue_principal=10_000,
        overdue_interest=100,
        overdue_amount=10_100,
        consecutive_overdue_periods=1,
        cumulative_overdue_periods=1,
    )
    expect_instalment(
        portfolio, D(2024, 3, 16), "L1", 1, days_late=1, paid_late=True, completion_date=None
    )


def test_paid_on_the_due_date_is_on_time() -> None:
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 15), 10_100))
    expect_account(
        portfolio,
        D(2024, 3, 20),
        "L1",
        **NOTHING_OVERDUE,
        outstanding_principal=10_000,  # 20000 - 10000 covered
        consecutive_overdue_periods=0,
        cumulative_overdue_periods=0,
        last_payment_date=D(2024, 3, 15),
    )
    expect_instalment(
        portfolio,
        D(2024, 3, 20),
        "L1",
        1,
        covered_interest=100,
        covered_principal=10_000,
        completion_date=D(2024, 3, 15),
        days_late=0,
        paid_late=False,
    )


def test_paid_a_day_late_and_the_period_counters() -> None:
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 16), 10_100))
    # As of 03-16 the instalment is covered (dpd 0) but was paid 1 day late.
    expect_account(
        portfolio,
        D(2024, 3, 16),
        "L1",
        **NOTHING_OVERDUE,
        consecutive_overdue_periods=1,
        cumulative_overdue_periods=1,
    )
    expect_instalment(
        portfolio,
        D(2024, 3, 16),
        "L1",
        1,
        completion_date=D(2024, 3, 16),
        days_late=1,
        paid_late=True,
    )
    # On 04-16 instalment 2 (due 04-15) is unpaid too: two late periods in a row, dpd 1.
    expect_account(
        portfolio,
        D(2024, 4, 16),
        "L1",
        dpd=1,
        consecutive_overdue_periods=2,
        cumulative_overdue_periods=2,
    )
    # A 100-short payment is no payment for lateness: 10000 -> interest 100 + principal 9900.
    short_second = two_instalment_loan(
        payment_row("p1", "L1", D(2024, 3, 16), 10_100),
        payment_row("p2", "L1", D(2024, 4, 10), 10_000),
    )
    expect_account(
        short_second,
        D(2024, 4, 16),
        "L1",
        dpd=1,
        overdue_principal=100,
        overdue_interest=0,
        consecutive_overdue_periods=2,
        cumulative_overdue_periods=2,
    )
    # Paying instalment 2 in full and early breaks the run; instalment 3 unpaid starts a new one.
    three = monthly_loan(
        3,
        payment_row("p1", "L1", D(2024, 3, 16), 10_100),  # #1 a day late
        payment_row("p2", "L1", D(2024, 4, 10), 10_100),  # #2 early
    )
    expect_account(
        three,
        D(2024, 4, 16),
        "L1",
        **NOTHING_OVERDUE,
        consecutive_overdue_periods=0,  # the latest instalment due before D was on time
        cumulative_overdue_periods=1,
    )
    expect_account(
        three,
        D(2024, 5, 16),
        "L1",
        dpd=1,
        consecutive_overdue_periods=1,  # #3 unpaid, stops at #2 (on time)
        cumulative_overdue_periods=2,  # #1 and #3
    )


def test_partial_payment_splits_overdue_interest_and_principal() -> None:
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 15), 5_000))
    # Interest first: 5000 -> interest 100, principal 4900; 5100 principal uncovered.
    expect_account(
        portfolio,
        D(2024, 3, 20),
        "L1",
        dpd=5,
        overdue_principal=5_100,
        overdue_interest=0,
        overdue_amount=5_100,
        outstanding_principal=15_100,  # 20000 - 4900
    )
    # Principal first: 5000 -> principal 5000, interest 0; 5000 principal + 100 interest due.
    principal_first = make_policy("principal_first", 0)
    expect_account(
        portfolio,
        D(2024, 3, 20),
        "L1",
        principal_first,
        dpd=5,
        overdue_principal=5_000,
        overdue_interest=100,
        overdue_amount=5_100,
        outstanding_principal=15_000,
    )
    expect_instalment(
        portfolio,
        D(2024, 3, 20),
        "L1",
        1,
        principal_first,
        covered_principal=5_000,
        covered_interest=0,
    )


def test_principal_first_overflow_to_the_next_instalment() -> None:
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 1), 15_000))
    # Principal first: #1 principal 10000 + interest 100, then #2 principal 4900.
    # Interest first would give #2 interest 100 + principal 4800.
    pf = make_policy("principal_first", 0)
    expect_instalment(
        portfolio, D(2024, 3, 1), "L1", 2, pf, covered_principal=4_900, covered_interest=0
    )
    expect_instalment(
        portfolio, D(2024, 3, 1), "L1", 2, covered_principal=4_800, covered_interest=100
    )
    expect_account(portfolio, D(2024, 3, 1), "L1", pf, outstanding_principal=5_100)
    expect_account(portfolio, D(2024, 3, 1), "L1", outstanding_principal=5_200)


def test_reversal_after_completion() -> None:
    portfolio = two_instalment_loan(
        payment_row("p1", "L1", D(2024, 3, 15), 10_100),
        payment_row("p2", "L1", D(2024, 4, 15), 10_100),
        payment_row("r1", "L1", D(2024, 5, 10), 10_100, reverses="p1"),
    )
    # Before the reversal: everything covered on time -> the loan is closed.
    expect_not_reported(portfolio, D(2024, 4, 15), "L1")
    expect_not_reported(portfolio, D(2024, 5, 9), "L1")
    expect_instalment(portfolio, D(2024, 5, 9), "L1", 1, completion_date=D(2024, 3, 15))
    expect_instalment(portfolio, D(2024, 5, 9), "L1", 2, completion_date=D(2024, 4, 15))
    # From 05-10 p1 never happened: p2 (04-15) completes instalment 1, 31 days late
    # (03-15 -> 04-15); instalment 2 is unpaid since 04-15 -> dpd 25 (04-15 -> 05-10).
    expect_account(
        portfolio,
        D(2024, 5, 10),
        "L1",
        dpd=25,
        bucket="M1",
        risk_class="special_mention",
        overdue_principal=10_000,
        overdue_interest=100,
        outstanding_principal=10_000,
        consecutive_overdue_periods=2,
        cumulative_overdue_periods=2,
        last_payment_date=D(2024, 4, 15),
    )
    expect_instalment(
        portfolio,
        D(2024, 5, 10),
        "L1",
        1,
        completion_date=D(2024, 4, 15),
        days_late=31,
        paid_late=True,
    )
    expect_instalment(
        portfolio, D(2024, 5, 10), "L1", 2, completion_date=None, days_late=25, paid_late=True
    )


def test_reversal_on_the_payment_date() -> None:
    portfolio = two_instalment_loan(
        payment_row("p1", "L1", D(2024, 3, 15), 10_100),
        payment_row("r1", "L1", D(2024, 3, 15), 10_100, reverses="p1"),
    )
    # Reversed on the day it was made: it never counts, and is no "last payment".
    expect_account(portfolio, D(2024, 3, 15), "L1", last_payment_date=None, dpd=0)
    expect_account(portfolio, D(2024, 3, 16), "L1", dpd=1, overdue_amount=10_100)


def test_backdated_payment_changes_an_earlier_dates_answer() -> None:
    before = two_instalment_loan()
    expect_account(before, D(2024, 3, 20), "L1", dpd=5, cumulative_overdue_periods=1)
    # A payment dated 03-14, recorded later: recomputing 03-20 now gives dpd 0, on time.
    after = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 14), 10_100))
    expect_account(
        after,
        D(2024, 3, 20),
        "L1",
        dpd=0,
        cumulative_overdue_periods=0,
        last_payment_date=D(2024, 3, 14),
    )
    # ...and a date before the payment's value date is unchanged by it.
    expect_account(
        after, D(2024, 3, 13), "L1", last_payment_date=None, outstanding_principal=20_000
    )


def _generated(*loans: dict[str, Any], payments: Sequence[dict[str, Any]] = ()) -> Portfolio:
    """Loans with the schedules the ledger generates for them."""
    frame = pl.DataFrame(list(loans), schema=LOANS)
    return build_portfolio(
        loans=list(loans),
        instalments=generate_instalments(frame).to_dicts(),
        payments=list(payments),
    )


def test_jan31_feb29_rolling() -> None:
    # Disbursed 2023-12-31, default first due = +1 month = 2024-01-31; zero rate, equal
    # instalments: A = 30000 / 3 = 10000 each. Due dates roll Jan 31 -> Feb 29 -> Mar 31.
    portfolio = _generated(
        loan_row("L1", 30_000, D(2023, 12, 31), term_months=3),
        payments=(payment_row("p1", "L1", D(2024, 1, 31), 10_000),),
    )
    assert portfolio.instalments.select("due_date", "principal_due", "interest_due").rows() == [
        (D(2024, 1, 31), 10_000, 0),
        (D(2024, 2, 29), 10_000, 0),
        (D(2024, 3, 31), 10_000, 0),
    ]
    expect_account(portfolio, D(2024, 2, 29), "L1", dpd=0)  # due today
    expect_account(portfolio, D(2024, 3, 1), "L1", dpd=1, overdue_principal=10_000)
    # 03-31: dpd = 03-31 - 02-29 = 31 -> M2; instalment 3 is due today, not overdue yet.
    expect_account(
        portfolio,
        D(2024, 3, 31),
        "L1",
        dpd=31,
        bucket="M2",
        overdue_principal=10_000,
        consecutive_overdue_periods=1,
        cumulative_overdue_periods=1,
    )
    expect_account(
        portfolio,
        D(2024, 4, 1),
        "L1",
        dpd=32,
        overdue_principal=20_000,
        consecutive_overdue_periods=2,
        cumulative_overdue_periods=2,
    )


def test_zero_rate_interest_only_has_zero_instalments_never_late() -> None:
    # Interest-only at 0 %: periods 1-2 owe nothing, period 3 the whole 300.00.
    portfolio = _generated(
        loan_row("L1", 30_000, D(2024, 1, 10), term_months=3, method="interest_only")
    )
    assert portfolio.instalments.select("due_date", "principal_due", "interest_due").rows() == [
        (D(2024, 2, 10), 0, 0),
        (D(2024, 3, 10), 0, 0),
        (D(2024, 4, 10), 30_000, 0),
    ]
    expect_account(
        portfolio,
        D(2024, 3, 11),
        "L1",
        **NOTHING_OVERDUE,
        outstanding_principal=30_000,
        cumulative_overdue_periods=0,
    )
    expect_instalment(
        portfolio,
        D(2024, 3, 11),
        "L1",
        1,
        completion_date=D(2024, 2, 10),  # nothing due: covered on its due date
        days_late=0,
        paid_late=False,
    )
    expect_account(
        portfolio,
        D(2024, 4, 11),
        "L1",
        dpd=1,
        overdue_principal=30_000,
        overdue_interest=0,
        consecutive_overdue_periods=1,  # the two zero instalments were on time
        cumulative_overdue_periods=1,
    )


def test_one_period_loan() -> None:
    # 500.00 at 12 % for one month: interest = 50000 * 0.12 / 12 = 500; principal 50000.
    portfolio = _generated(
        loan_row("L1", 50_000, D(2024, 5, 15), annual_rate=12_000_000),
        payments=(payment_row("p1", "L1", D(2024, 6, 20), 50_500),),
    )
    assert portfolio.instalments.select("due_date", "principal_due", "interest_due").rows() == [
        (D(2024, 6, 15), 50_000, 500)
    ]
    expect_not_reported(portfolio, D(2024, 5, 14), "L1")  # not disbursed yet
    expect_account(portfolio, D(2024, 5, 15), "L1", **NOTHING_OVERDUE, outstanding_principal=50_000)
    expect_account(portfolio, D(2024, 6, 15), "L1", dpd=0)
    expect_account(
        portfolio,
        D(2024, 6, 19),
        "L1",
        dpd=4,
        overdue_principal=50_000,
        overdue_interest=500,
        consecutive_overdue_periods=1,
    )
    expect_not_reported(portfolio, D(2024, 6, 20), "L1")  # paid in full: closed
    expect_instalment(
        portfolio,
        D(2024, 6, 20),
        "L1",
        1,
        completion_date=D(2024, 6, 20),
        days_late=5,
        paid_late=True,
    )


def test_over_payment_is_credit_and_closes_the_loan() -> None:
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 10), 25_000))
    # 25000 >= 20200 due: both instalments covered on 03-10 (early), 4800 credit.
    expect_account(
        portfolio,
        D(2024, 3, 9),
        "L1",
        **NOTHING_OVERDUE,
        outstanding_principal=20_000,
        last_payment_date=None,
    )
    expect_not_reported(portfolio, D(2024, 3, 10), "L1")
    expect_not_reported(portfolio, D(2024, 6, 1), "L1")
    expect_instalment(
        portfolio,
        D(2024, 3, 10),
        "L1",
        2,
        covered_principal=10_000,
        covered_interest=100,
        completion_date=D(2024, 3, 10),
        days_late=0,
        paid_late=False,
    )


def test_dpd_counts_from_the_oldest_uncovered_instalment() -> None:
    portfolio = build_portfolio(
        loans=[loan_row("L1", 30_000, D(2024, 1, 1), term_months=3)],
        instalments=[
            instalment_row("L1", 1, D(2024, 2, 1), 10_000, 0),
            instalment_row("L1", 2, D(2024, 3, 1), 10_000, 0),
            instalment_row("L1", 3, D(2024, 4, 1), 10_000, 0),
        ],
        payments=[payment_row("p1", "L1", D(2024, 3, 25), 5_000)],
    )
    # 5000 goes to the oldest (#1): #1 is still short 5000 -> dpd from 02-01: 29 + 31 = 60.
    expect_account(
        portfolio,
        D(2024, 4, 1),
        "L1",
        dpd=60,
        bucket="M2",
        overdue_principal=15_000,  # #1 5000 + #2 10000; #3 due today
        consecutive_overdue_periods=2,
        cumulative_overdue_periods=2,
    )


def test_materiality_threshold() -> None:
    # Instalment 1 paid 40 cents short on its due date.
    portfolio = two_instalment_loan(payment_row("p1", "L1", D(2024, 3, 15), 10_060))
    as_of = D(2024, 3, 25)
    # Default (0.00): 40 cents uncovered is overdue -> dpd 10 (03-15 -> 03-25).
    expect_account(
        portfolio, as_of, "L1", dpd=10, overdue_principal=40, cumulative_overdue_periods=1
    )
    # Threshold 0.50 (and exactly 0.40): covered for dpd and counters; amounts stay exact.
    for cents in (50, 40):
        policy = make_policy("interest_first", cents)
        expect_account(
            portfolio,
            as_of,
            "L1",
            policy,
            dpd=0,
            bucket="current",
            risk_class="normal",
            overdue_principal=40,
            overdue_amount=40,
            outstanding_principal=10_040,  # 20000 - 9960
            consecutive_overdue_periods=0,
            cumulative_overdue_periods=0,
        )
        expect_instalment(
            portfolio, as_of, "L1", 1, policy, completion_date=None, days_late=0, paid_late=False
        )
    # Threshold 0.39: 40 > 39 -> overdue as with the default.
    expect_account(portfolio, as_of, "L1", make_policy("interest_first", 39), dpd=10)
    # The few cents keep the loan open even after the last instalment is paid on time:
    # 10100 on 04-15 covers #1's 40 and 10060 of #2 -> 40 short in total, within 0.50.
    later = two_instalment_loan(
        payment_row("p1", "L1", D(2024, 3, 15), 10_060),
        payment_row("p2", "L1", D(2024, 4, 15), 10_100),
    )
    expect_account(
        later,
        D(2024, 5, 1),
        "L1",
        make_policy("interest_first", 50),
        dpd=0,
        overdue_principal=40,
        cumulative_overdue_periods=0,
    )
    # Default: #1 completed 04-15 (31 days late), #2 40 short since 04-15 -> dpd 16.
    expect_account(later, D(2024, 5, 1), "L1", dpd=16, cumulative_overdue_periods=2)


# --------------------------------------------------------------------------------------------
# Cards


def _card(
    statements: list[dict[str, Any]],
    payments: Sequence[dict[str, Any]] = (),
    close: date | None = None,
) -> Portfolio:
    return build_portfolio(
        cards=[card_row("C1", D(2024, 1, 1), close)],
        statements=statements,
        payments=list(payments),
    )


def test_card_closed_is_not_reported_from_its_close_date() -> None:
    portfolio = _card(
        [statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 50_000, 5_000)],
        close=D(2024, 3, 1),
    )
    expect_not_reported(portfolio, D(2023, 12, 31), "C1")  # not opened yet
    expect_account(
        portfolio,
        D(2024, 2, 29),
        "C1",
        account_type="card",
        dpd=30,  # 01-30 -> 02-29
        overdue_principal=5_000,
        overdue_interest=0,
        overdue_amount=5_000,
        outstanding_principal=50_000,
        risk_class="special_mention",
    )
    expect_not_reported(portfolio, D(2024, 3, 1), "C1")
    expect_statement(
        portfolio, D(2024, 3, 1), "C1", D(2024, 1, 10), minimum_covered=0, days_late=31
    )


def test_card_zero_minimum_is_never_late() -> None:
    portfolio = _card([statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 30_000, 0)])
    expect_account(
        portfolio,
        D(2024, 6, 1),
        "C1",
        **NOTHING_OVERDUE,
        outstanding_principal=30_000,
        consecutive_overdue_periods=0,
        cumulative_overdue_periods=0,
    )
    expect_statement(
        portfolio,
        D(2024, 6, 1),
        "C1",
        D(2024, 1, 10),
        minimum_covered=0,
        completion_date=D(2024, 1, 30),
        days_late=0,
        paid_late=False,
        paid_in_full=False,
    )


def test_card_payment_before_the_statement_date_does_not_count_toward_its_minimum() -> None:
    statements = [statement_row("C1", D(2024, 2, 10), D(2024, 3, 1), 50_000, 5_000)]
    early = _card(statements, [payment_row("p1", "C1", D(2024, 2, 9), 5_000)])
    expect_account(
        early,
        D(2024, 3, 2),
        "C1",
        dpd=1,
        overdue_principal=5_000,
        outstanding_principal=50_000,  # p1 is not after the statement date
        last_payment_date=D(2024, 2, 9),
    )
    expect_statement(early, D(2024, 3, 2), "C1", D(2024, 2, 10), minimum_covered=0)
    # On the statement date itself it counts.
    same_day = _card(statements, [payment_row("p1", "C1", D(2024, 2, 10), 5_000)])
    expect_account(same_day, D(2024, 3, 2), "C1", dpd=0, overdue_principal=0)
    expect_statement(
        same_day,
        D(2024, 3, 2),
        "C1",
        D(2024, 2, 10),
        minimum_covered=5_000,
        completion_date=D(2024, 2, 10),
        paid_late=False,
    )


def test_card_payment_does_not_prepay_a_later_minimum() -> None:
    portfolio = _card(
        [
            statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 50_000, 5_000),
            statement_row("C1", D(2024, 2, 10), D(2024, 3, 1), 60_000, 6_000),
        ],
        [payment_row("p1", "C1", D(2024, 1, 20), 20_000)],  # only S1 issued on 01-20
    )
    # S1 met (5000); the other 15000 reduces the balance but not S2's minimum.
    expect_account(
        portfolio,
        D(2024, 3, 5),
        "C1",
        dpd=4,  # S2 due 03-01
        overdue_principal=6_000,
        consecutive_overdue_periods=1,
        cumulative_overdue_periods=1,
        outstanding_principal=60_000,
    )
    expect_statement(portfolio, D(2024, 3, 5), "C1", D(2024, 2, 10), minimum_covered=0)


def test_card_outstanding() -> None:
    portfolio = _card(
        [
            statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 50_000, 0),
            statement_row("C1", D(2024, 2, 10), D(2024, 3, 1), 70_000, 0),
        ],
        [
            payment_row("p1", "C1", D(2024, 1, 20), 10_000),
            payment_row("p2", "C1", D(2024, 2, 10), 5_000),  # on S2's statement date
            payment_row("p3", "C1", D(2024, 2, 15), 20_000),
            payment_row("p4", "C1", D(2024, 3, 1), 60_000),
        ],
    )
    expect_account(portfolio, D(2024, 1, 5), "C1", outstanding_principal=0)  # no statement yet
    expect_account(portfolio, D(2024, 2, 9), "C1", outstanding_principal=40_000)  # 50000 - p1
    # S2's balance less payments dated after 02-10 (p2 is on it, not after).
    expect_account(portfolio, D(2024, 2, 10), "C1", outstanding_principal=70_000)
    expect_account(portfolio, D(2024, 2, 20), "C1", outstanding_principal=50_000)  # - p3
    expect_account(portfolio, D(2024, 3, 1), "C1", outstanding_principal=0)  # 70000-80000 -> 0


def test_card_paid_in_full() -> None:
    portfolio = _card(
        [
            statement_row("C1", D(2024, 1, 10), D(2024, 1, 30), 30_000, 3_000),
            statement_row("C1", D(2024, 2, 10), D(2024, 3, 1), 30_000, 3_000),
        ],
        [
            payment_row("p1", "C1", D(2024, 1, 10), 10_000),  # S1's statement date: counts
            payment_row("p2", "C1", D(2024, 1, 30), 20_000),  # S1's due date: counts
            payment_row("p3", "C1", D(2024, 2, 9), 30_000),  # before S2: not for S2
            payment_row("p4", "C1", D(2024, 3, 2), 30_000),  # after S2's due date
        ],
    )
    expect_statement(portfolio, D(2024, 1, 29), "C1", D(2024, 1, 10), paid_in_full=False)
    expect_statement(portfolio, D(2024, 1, 30), "C1", D(2024, 1, 10), paid_in_full=True)
    expect_statement(
        portfolio,
        D(2024, 3, 5),
        "C1",
        D(2024, 2, 10),
        paid_in_full=False,
        minimum_covered=3_000,  # met by p4 on 03-02, a day late
        completion_date=D(2024, 3, 2),
        days_late=1,
        paid_late=True,
    )


# --------------------------------------------------------------------------------------------
# Buckets and classes at their boundaries (default policy), stated directly


LOAN_BOUNDARIES = [
    (0, "current", "normal"),
    (1, "M1", "normal"),
    (7, "M1", "normal"),  # technical grace: 7 days
    (8, "M1", "special_mention"),
    (30, "M1", "special_mention"),
    (31, "M2", "special_mention"),
    (60, "M2", "special_mention"),
    (61, "M3", "special_mention"),
    (90, "M3", "special_mention"),
    (91, "M3+", "substandard"),
    (270, "M3+", "substandard"),
    (271, "M3+", "doubtful"),
    (360, "M3+", "doubtful"),
    (361, "M3+", "loss"),
]
CARD_BOUNDARIES = [
    (7, "M1", "normal"),
    (8, "M1", "special_mention"),
    (90, "M3", "special_mention"),
    (91, "M3+", "substandard"),
    (120, "M3+", "substandard"),
    (121, "M3+", "doubtful"),
    (180, "M3+", "doubtful"),
    (181, "M3+", "loss"),
]
DUE = D(2024, 1, 1)


@pytest.mark.parametrize(("dpd", "bucket", "risk_class"), LOAN_BOUNDARIES)
def test_loan_class_boundaries(dpd: int, bucket: str, risk_class: str) -> None:
    portfolio = build_portfolio(
        loans=[loan_row("L1", 10_000, D(2023, 12, 1))],
        instalments=[instalment_row("L1", 1, DUE, 10_000, 0)],
    )
    expect_account(
        portfolio, DUE + timedelta(days=dpd), "L1", dpd=dpd, bucket=bucket, risk_class=risk_class
    )


@pytest.mark.parametrize(("dpd", "bucket", "risk_class"), CARD_BOUNDARIES)
def test_card_class_boundaries(dpd: int, bucket: str, risk_class: str) -> None:
    portfolio = build_portfolio(
        cards=[card_row("C1", D(2023, 12, 1))],
        statements=[statement_row("C1", D(2023, 12, 10), DUE, 20_000, 2_000)],
    )
    expect_account(
        portfolio, DUE + timedelta(days=dpd), "C1", dpd=dpd, bucket=bucket, risk_class=risk_class
    )
