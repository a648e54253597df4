"""Churn identification, rule by rule, on hand-made portfolios with hand-computed answers
(DATA_CONTRACT "Semantics of churn identification as of D"; default thresholds: (a) 3
consecutive / 6 in the 24-month window, (b) 3 / 6, (c) 6 months, (d) 6 months, (e) 12 months).
Each threshold from both sides (one below, at, one above), month-end edges, the lookback
window's edge, explanations and resumption. Each case is also checked against the plain
reference (tests/churn/reference.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from postloan.churn.rules.frames import EVENTS
from postloan.churn.rules.identify import ChurnInputs, identify
from postloan.policy import default_policy
from tests.churn.reference import reference_churn
from tests.churn.test_engine_lateness import engine_lateness
from tests.strategies import (
    add_months,
    build_portfolio,
    card_row,
    instalment_row,
    loan_row,
    payment_row,
    statement_row,
)

POLICY = default_policy()
UNIT = 100_000  # each instalment / statement: 1,000.00


def rules_on(
    day: date, *, loans: Any = (), instalments: Any = (), cards: Any = (), statements: Any = (),
    payments: Any = (), events: Any = (), customer: str = "K1",
) -> set[str]:  # fmt: skip
    """The rules that hold for `customer` on `day` (checked equal to the reference)."""
    portfolio = build_portfolio(loans, instalments, cards, statements, payments)
    frame = pl.DataFrame(
        [{"customer_id": customer, "amount": None, **e} for e in events], schema=EVENTS
    )
    found = identify(ChurnInputs(portfolio, frame), [day], POLICY)
    # The daily run's way (the counters from the engine's pass) finds the same.
    late = engine_lateness(portfolio, frame, [day], POLICY)
    assert identify(ChurnInputs(portfolio, frame, engine_lateness=late), [day], POLICY).equals(
        found
    )
    got = {r["customer_id"]: {k for k, v in r.items() if v is True} for r in found.to_dicts()}
    want = {
        c: {k for k, v in flags.items() if v}
        for c, flags in reference_churn(portfolio, frame.to_dicts(), day, POLICY).items()
    }
    assert got == want
    return got.get(customer, set())


def monthly_loan(
    first_due: date, n: int, late: set[int] = frozenset(), unpaid_from: int | None = None,  # type: ignore[assignment]
    days_late: int = 5, account: str = "L1", customer: str = "K1",
) -> dict[str, Any]:  # fmt: skip
    """A loan of n instalments of 1,000.00 due monthly from `first_due` (month-end rolled);
    instalment k (1-based) is paid on its due date, `days_late` after it when k is in `late`,
    never from `unpaid_from` on."""
    dues = [add_months(first_due, k) for k in range(n)]
    disbursed = add_months(first_due, -1)
    pays = []
    for k, due in enumerate(dues, start=1):
        if unpaid_from is not None and k >= unpaid_from:
            break
        when = due + timedelta(days=days_late) if k in late else due
        pays.append(payment_row(f"{account}-p{k}", account, when, UNIT))
    return {
        "loans": [loan_row(account, n * UNIT, disbursed, customer_id=customer, term_months=n)],
        "instalments": [instalment_row(account, k, d, UNIT, 0) for k, d in enumerate(dues, 1)],
        "payments": pays,
    }


# --------------------------------------------------------------------------------------------
# (a) loan_overdue


@pytest.mark.parametrize(("unpaid_from", "expected"), [(5, False), (4, True), (3, True)])
def test_a_consecutive_overdue_periods_around_three(unpaid_from: int, expected: bool) -> None:
    # Dues Jan 31, Feb 28, Mar 31, Apr 30, May 31, Jun 30 2025 before D = Jul 15: the last
    # 2 / 3 / 4 of them unpaid.
    loan = monthly_loan(date(2025, 1, 31), 12, unpaid_from=unpaid_from)
    assert ("loan_overdue" in rules_on(date(2025, 7, 15), **loan)) is expected


def test_a_an_instalment_due_on_d_is_not_yet_counted() -> None:
    # Apr 30, May 31 and Jun 30 unpaid: on Jun 30 only two are due before D.
    loan = monthly_loan(date(2025, 1, 31), 12, unpaid_from=4)
    assert "loan_overdue" not in rules_on(date(2025, 6, 30), **loan)
    assert "loan_overdue" in rules_on(date(2025, 7, 1), **loan)


def test_a_late_then_paid_still_counts_consecutively() -> None:
    # Mar, Apr, May paid 5 days late, all paid by D: three consecutive periods paid late.
    loan = monthly_loan(date(2025, 1, 31), 12, late={3, 4, 5})
    assert "loan_overdue" in rules_on(date(2025, 6, 10), **loan)
    # Jun 30 paid on time: the run stops there.
    assert "loan_overdue" not in rules_on(date(2025, 7, 2), **loan)


@pytest.mark.parametrize(("late", "expected"), [
    ({1, 3, 5, 7, 9}, False),
    ({1, 3, 5, 7, 9, 11}, True),
    ({1, 3, 5, 7, 9, 11, 13}, True),
])  # fmt: skip
def test_a_cumulative_late_periods_in_the_window_around_six(late: set[int], expected: bool) -> None:
    loan = monthly_loan(date(2024, 1, 31), 20, late=late)
    assert ("loan_overdue" in rules_on(date(2025, 8, 15), **loan)) is expected


def test_a_the_window_starts_on_d_minus_24_months() -> None:
    # Six late instalments, the first due 2023-01-31 (month end). W = D - 24 months: on
    # 2025-01-31, W = 2023-01-31 and the first counts (W <= due date); a day later it does not.
    loan = monthly_loan(date(2023, 1, 31), 30, late={1, 3, 5, 7, 9, 11})
    assert "loan_overdue" in rules_on(date(2025, 1, 31), **loan)
    assert "loan_overdue" not in rules_on(date(2025, 2, 1), **loan)


def test_a_a_loan_closed_on_d_still_counts_its_instalments() -> None:
    # Three instalments, each paid 10 days late: the loan is repaid (closed) long before D.
    loan = monthly_loan(date(2024, 1, 31), 3, late={1, 2, 3}, days_late=10)
    assert "loan_overdue" in rules_on(date(2024, 12, 1), **loan)


def test_a_a_loan_disbursed_after_d_does_not_count() -> None:
    loan = monthly_loan(date(2025, 1, 31), 12, unpaid_from=1)
    assert "loan_overdue" in rules_on(date(2025, 7, 15), **loan)
    loan["loans"][0]["disbursement_date"] = date(2025, 8, 1)
    assert "loan_overdue" not in rules_on(date(2025, 7, 15), **loan)


def test_a_a_reversed_payment_makes_its_instalments_unpaid_from_the_reversal() -> None:
    loan = monthly_loan(date(2025, 1, 31), 12, unpaid_from=4)
    # The Mar 31 payment is reversed on Jun 5: from then on Mar, Apr, May, Jun are unpaid.
    loan["payments"].append(payment_row("r1", "L1", date(2025, 6, 5), UNIT, "L1-p3"))
    assert "loan_overdue" not in rules_on(date(2025, 6, 4), **loan)  # Apr, May: 2
    assert "loan_overdue" in rules_on(date(2025, 6, 5), **loan)  # Mar, Apr, May: 3


# --------------------------------------------------------------------------------------------
# (b) card_default


def monthly_card(
    first: date, n: int, full: set[int] = frozenset(), late: set[int] = frozenset(),  # type: ignore[assignment]
    zero: set[int] = frozenset(), account: str = "C1",  # type: ignore[assignment]
) -> dict[str, Any]:  # fmt: skip
    """Statements monthly from `first` (due 20 days later), balance 1,000.00, minimum 100.00:
    statement k is paid in full on its due date when in `full`, its minimum 5 days late when
    in `late`, else its minimum on time; balance 0 when in `zero`."""
    statements, pays = [], []
    for k in range(1, n + 1):
        issued = add_months(first, k - 1)
        due = issued + timedelta(days=20)
        balance = 0 if k in zero else UNIT
        statements.append(statement_row(account, issued, due, balance, balance // 10))
        if k in zero:
            continue
        amount = UNIT if k in full else UNIT // 10
        when = due + timedelta(days=5) if k in late else due
        pays.append(payment_row(f"{account}-p{k}", account, when, amount))
    return {
        "cards": [card_row(account, add_months(first, -1))],
        "statements": statements,
        "payments": pays,
    }


@pytest.mark.parametrize(("full", "expected"), [
    ({1, 2, 3, 4}, False),  # statements 5, 6 not paid in full: 2
    ({1, 2, 3}, True),  # 4, 5, 6: 3
    ({1, 2}, True),  # 4
])  # fmt: skip
def test_b_consecutive_statements_not_paid_in_full_around_three(
    full: set[int], expected: bool
) -> None:
    card = monthly_card(date(2025, 1, 31), 6, full=full)
    # Dues Feb 20 .. Jul 20; D = Aug 1: all six due before D.
    assert ("card_default" in rules_on(date(2025, 8, 1), **card)) is expected


def test_b_a_zero_balance_statement_counts_as_paid_in_full() -> None:
    card = monthly_card(date(2025, 1, 31), 6, full={1, 2}, zero={4})
    assert "card_default" not in rules_on(date(2025, 8, 1), **card)  # 5, 6 after the zero


@pytest.mark.parametrize(("late", "expected"), [
    ({1, 2, 3, 4, 5}, False), ({1, 2, 3, 4, 5, 6}, True), ({1, 2, 3, 4, 5, 6, 7}, True),
])  # fmt: skip
def test_b_overdue_times_in_the_window_around_six(late: set[int], expected: bool) -> None:
    # Every statement after the seventh is paid in full, so the consecutive count stays 0.
    card = monthly_card(date(2024, 1, 31), 12, full=set(range(8, 13)) | (set(range(1, 8)) - late),
                        late=late)  # fmt: skip
    assert ("card_default" in rules_on(date(2025, 3, 1), **card)) is expected


# --------------------------------------------------------------------------------------------
# (c) closed_not_reapplied


def closed_customer(closed_on: date) -> dict[str, Any]:
    """A one-instalment loan repaid on time before `closed_on`, then an account_closed event."""
    loan = monthly_loan(add_months(closed_on, -2), 1)
    return {**loan, "events": [{"date": closed_on, "type": "account_closed"}]}


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 7, 30), False), (date(2025, 7, 31), True), (date(2025, 8, 1), True),
])  # fmt: skip
def test_c_six_months_after_closing(day: date, expected: bool) -> None:
    assert (
        "closed_not_reapplied" in rules_on(day, **closed_customer(date(2025, 1, 31)))
    ) is expected


def test_c_month_end_aug_31_plus_6_months_is_feb_28() -> None:
    case = closed_customer(date(2025, 8, 31))
    assert "closed_not_reapplied" not in rules_on(date(2026, 2, 27), **case)
    assert "closed_not_reapplied" in rules_on(date(2026, 2, 28), **case)


def test_c_an_application_after_closing_or_a_new_account_resumes() -> None:
    case = closed_customer(date(2025, 1, 31))
    same_day = {**case, "events": [*case["events"], {"date": date(2025, 1, 31),
                                                     "type": "application"}]}  # fmt: skip
    assert "closed_not_reapplied" in rules_on(date(2025, 8, 1), **same_day)  # not after E
    later = {**case, "events": [*case["events"], {"date": date(2025, 2, 1),
                                                  "type": "application"}]}  # fmt: skip
    assert "closed_not_reapplied" not in rules_on(date(2025, 8, 1), **later)
    card = monthly_card(date(2025, 3, 15), 1, full={1})  # a card opened Feb 15
    opened = {**case, **{k: case.get(k, []) + card[k] for k in ("payments",)},
              "cards": card["cards"], "statements": card["statements"]}  # fmt: skip
    assert "closed_not_reapplied" not in rules_on(date(2025, 8, 1), **opened)


def test_c_an_open_account_on_d_means_not_closed() -> None:
    case = closed_customer(date(2025, 1, 31))
    other = monthly_loan(date(2024, 6, 30), 24, account="L2", unpaid_from=30)
    both = {"loans": case["loans"] + other["loans"],
            "instalments": case["instalments"] + other["instalments"],
            "payments": case["payments"] + other["payments"], "events": case["events"]}  # fmt: skip
    assert "closed_not_reapplied" not in rules_on(date(2025, 8, 1), **both)
    # ... and once that loan is repaid in full it is closed: the rule holds again.
    assert "closed_not_reapplied" in rules_on(date(2026, 7, 1), **both)


# --------------------------------------------------------------------------------------------
# (d) transferred_out


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 29), False), (date(2025, 9, 30), True), (date(2025, 10, 1), True),
])  # fmt: skip
def test_d_six_months_after_transfer_out(day: date, expected: bool) -> None:
    loan = monthly_loan(date(2024, 6, 30), 36)
    case = {**loan, "events": [{"date": date(2025, 3, 31), "type": "transfer_out"}]}
    assert ("transferred_out" in rules_on(day, **case)) is expected


def test_d_resumed_by_an_application_or_an_account_opened_after_the_transfer() -> None:
    events = [{"date": date(2025, 3, 31), "type": "transfer_out"}]
    assert "transferred_out" in rules_on(date(2025, 10, 1), events=events)  # no account at all
    applied = [*events, {"date": date(2025, 9, 1), "type": "application"}]
    assert "transferred_out" not in rules_on(date(2025, 10, 1), events=applied)
    # The latest transfer counts: a second one restarts the six months.
    again = [*applied, {"date": date(2025, 9, 15), "type": "transfer_out"}]
    assert "transferred_out" not in rules_on(date(2026, 3, 14), events=again)
    assert "transferred_out" in rules_on(date(2026, 3, 15), events=again)
    card = monthly_card(date(2025, 6, 1), 1, full={1})  # opened May 1: after the transfer
    assert "transferred_out" not in rules_on(date(2025, 10, 1), events=events, **card)


# --------------------------------------------------------------------------------------------
# (e) inactive


def quiet_card(last_payment: date, opened: date = date(2023, 6, 15)) -> dict[str, Any]:
    return {
        "cards": [card_row("C1", opened)],
        "payments": [payment_row("p1", "C1", last_payment, UNIT)],
    }


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 3, 30), False), (date(2025, 3, 31), True), (date(2025, 4, 1), True),
])  # fmt: skip
def test_e_twelve_months_without_a_credit_transaction(day: date, expected: bool) -> None:
    assert ("inactive" in rules_on(day, **quiet_card(date(2024, 3, 31)))) is expected


def test_e_month_end_d_minus_12_months() -> None:
    # D = 2025-02-28: D - 12 months = 2024-02-28, and a payment on 2024-02-29 is after it.
    case = quiet_card(date(2024, 2, 29))
    assert "inactive" not in rules_on(date(2025, 2, 28), **case)
    assert "inactive" in rules_on(date(2025, 3, 1), **case)


def test_e_needs_an_account_opened_by_d_minus_12_months() -> None:
    # Opening an account is a credit transaction, so an account opened inside the quiet
    # period already breaks it; without any account opened by D - 12 months (none at all, or
    # only one opened later) the rule cannot hold.
    case = quiet_card(date(2024, 1, 10), opened=date(2024, 1, 1))
    assert "inactive" in rules_on(date(2025, 1, 10), **case)
    assert "inactive" not in rules_on(date(2025, 1, 9), **case)
    future = {"cards": [card_row("C1", date(2026, 1, 1))]}
    assert "inactive" not in rules_on(date(2025, 6, 1), **future)
    assert "inactive" not in rules_on(
        date(2025, 6, 1), events=[{"date": date(2020, 1, 1), "type": "contact"}]
    )


def test_e_an_explanation_keeps_the_customer_out_for_twelve_months() -> None:
    case = {**quiet_card(date(2024, 1, 10)),
            "events": [{"date": date(2024, 6, 1), "type": "explanation"}]}  # fmt: skip
    assert "inactive" not in rules_on(date(2025, 5, 31), **case)
    assert "inactive" in rules_on(date(2025, 6, 1), **case)


def test_e_resumption_by_any_credit_transaction() -> None:
    base = quiet_card(date(2024, 1, 10))
    day = date(2025, 3, 31)
    assert "inactive" in rules_on(day, **base)
    reversed_later = {**base, "payments": [*base["payments"],
                      payment_row("p2", "C1", date(2024, 9, 1), UNIT),
                      payment_row("r2", "C1", date(2024, 9, 2), UNIT, "p2")]}  # fmt: skip
    assert "inactive" not in rules_on(day, **reversed_later)  # the customer did transact
    bought = {**base, "statements": [{**statement_row("C1", date(2024, 10, 1),
              date(2024, 10, 21), 0, 0), "purchases": 5_000}]}  # fmt: skip
    assert "inactive" not in rules_on(day, **bought)
    browsed = {**base, "statements": [statement_row("C1", date(2024, 10, 1), date(2024, 10, 21),
                                                    0, 0)]}  # fmt: skip
    assert "inactive" in rules_on(day, **browsed)  # a statement without purchases is not one
    applied = {**base, "events": [{"date": date(2024, 12, 1), "type": "application"}]}
    assert "inactive" not in rules_on(day, **applied)
    contacted = {**base, "events": [{"date": date(2024, 12, 1), "type": "contact"}]}
    assert "inactive" in rules_on(day, **contacted)  # a contact is no explanation


def test_every_rule_is_reported_separately() -> None:
    loan = monthly_loan(date(2024, 1, 31), 6, unpaid_from=1)
    case = {**loan, "events": [{"date": date(2024, 3, 1), "type": "transfer_out"}]}
    assert rules_on(date(2025, 3, 1), **case) == {"loan_overdue", "transferred_out", "inactive"}


def test_evidence_names_accounts_counts_and_dates() -> None:
    import json

    loan = monthly_loan(date(2025, 1, 31), 12, unpaid_from=3)
    portfolio = build_portfolio(loan["loans"], loan["instalments"], payments=loan["payments"])
    events = pl.DataFrame(
        [{"customer_id": "K1", "date": date(2025, 1, 2), "type": "transfer_out", "amount": None}],
        schema=EVENTS,
    )
    found = identify(ChurnInputs(portfolio, events), [date(2025, 7, 15)], POLICY)
    evidence = json.loads(found.get_column("evidence")[0])
    assert evidence["loan_overdue"] == [{"account_id": "L1", "consecutive": 4, "window_late": 4}]
    assert evidence["transferred_out"] == {"transfer_out_on": "2025-01-02", "since": "2025-07-02"}
    assert evidence["card_default"] is None and evidence["window_from"] == "2023-07-15"
