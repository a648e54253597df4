"""Each behaviour does what its name says, checked with the plain-Python oracle (not the engine)
on a sample of accounts per behaviour."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import polars as pl
import pytest

from postloan.synth import SyntheticPortfolio
from tests.synth.conftest import AS_OF
from tests.synth.oracle import (
    counted_payments,
    instalment_lateness,
    paid_in_full,
    statement_lateness,
)

SAMPLE = 150
Payments = dict[str, list[tuple[date, str, int]]]


def _sample(frame: pl.DataFrame, behaviour: str) -> list[str]:
    ids = frame.filter(pl.col("behaviour") == behaviour)["account_id"]
    return ids.sample(min(SAMPLE, ids.len()), seed=1).sort().to_list()


def _reversed_accounts(sp: SyntheticPortfolio) -> set[str]:
    return set(sp.payments.filter(pl.col("reverses_payment_id").is_not_null())["account_id"])


@pytest.fixture(scope="module")
def payments(sp10k: SyntheticPortfolio) -> Payments:
    return counted_payments(sp10k.payments, AS_OF)


def _loan_lateness(
    sp: SyntheticPortfolio, behaviour: str, payments: Payments, skip_reversed: bool = True
) -> dict[str, list[int]]:
    accounts = _sample(sp.loans, behaviour)
    if skip_reversed:
        accounts = [a for a in accounts if a not in _reversed_accounts(sp)]
    rows = sp.instalments.filter(pl.col("account_id").is_in(accounts)).sort("account_id", "period")
    schedules: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for acc, due, principal, interest in rows.select(
        "account_id", "due_date", "principal_due", "interest_due"
    ).iter_rows():
        schedules[acc].append((due, principal + interest))
    return {a: instalment_lateness(schedules[a], payments.get(a, []), AS_OF) for a in accounts}


@pytest.mark.parametrize("behaviour", ["on_time", "over_payer", "early_payoff"])
def test_clean_payers_are_never_late(
    sp10k: SyntheticPortfolio, payments: Payments, behaviour: str
) -> None:
    late = _loan_lateness(sp10k, behaviour, payments, skip_reversed=False)
    assert len(late) >= 100
    assert all(d == 0 for days in late.values() for d in days)


def test_on_time_payers_pay_on_or_a_few_days_before_the_due_date(
    sp10k: SyntheticPortfolio, payments: Payments
) -> None:
    accounts = _sample(sp10k.loans, "on_time")
    rows = sp10k.instalments.filter(pl.col("account_id").is_in(accounts))
    dues = defaultdict(set)
    for acc, due in rows.select("account_id", "due_date").iter_rows():
        dues[acc].add(due)
    for acc in accounts:
        for value_date, _, _ in payments.get(acc, []):
            assert any(0 <= (d - value_date).days <= 3 for d in dues[acc]), (acc, value_date)


def test_early_payoff_closes_the_loan(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    accounts = _sample(sp10k.loans, "early_payoff")
    due = (
        sp10k.instalments.filter(pl.col("account_id").is_in(accounts))
        .group_by("account_id")
        .agg((pl.col("principal_due") + pl.col("interest_due")).sum().alias("due"))
    )
    for acc, total in due.iter_rows():
        assert sum(a for _, _, a in payments[acc]) == total
    # the payoff is one lump: the last payment is larger than any regular one
    for acc in accounts:
        amounts = [a for _, _, a in payments[acc]]
        assert amounts[-1] >= max(amounts)


def test_early_payoff_pays_remaining_principal_plus_current_interest(
    sp10k: SyntheticPortfolio, payments: Payments
) -> None:
    accounts = _sample(sp10k.loans, "early_payoff")[:40]
    loans = sp10k.loans.filter(pl.col("account_id").is_in(accounts))
    for acc, principal in loans.select("account_id", "principal").iter_rows():
        rows = sp10k.instalments.filter(pl.col("account_id") == acc).sort("period")
        paid_principal_before = rows["principal_due"][:-1].sum()
        lump = payments[acc][-1][2]
        assert lump == principal - paid_principal_before + rows["interest_due"][-1]


def test_occasionally_late(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    late = _loan_lateness(sp10k, "occasionally_late", payments)
    days = [d for v in late.values() for d in v]
    assert max(days) <= 20
    share = sum(d > 0 for d in days) / len(days)
    assert 0.05 <= share <= 0.25


def test_chronic_late(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    late = _loan_lateness(sp10k, "chronic_late", payments)
    days = [d for v in late.values() for d in v]
    assert max(days) <= 45
    assert sum(d > 0 for d in days) / len(days) >= 0.6
    assert sum(d >= 5 for d in days) / len(days) >= 0.5


def test_curing(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    late = _loan_lateness(sp10k, "curing", payments)
    worst = [max(v) for v in late.values()]
    assert min(worst) >= 25 and max(worst) <= 105
    assert sum(w >= 30 for w in worst) / len(worst) >= 0.6
    # most have caught up by as_of: the latest instalment due is covered
    current = [v[-1] == 0 for v in late.values()]
    assert sum(current) / len(current) >= 0.8


def test_defaulting(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    late = _loan_lateness(sp10k, "defaulting", payments, skip_reversed=False)
    assert all(v and v[-1] > 0 for v in late.values())  # overdue as of as_of
    # they paid before defaulting
    assert sum(v[0] == 0 for v in late.values()) / len(late) >= 0.5


def _card_rows(
    sp: SyntheticPortfolio, accounts: list[str]
) -> dict[str, list[tuple[date, date, int, int]]]:
    rows = sp.statements.filter(pl.col("account_id").is_in(accounts)).sort(
        "account_id", "statement_date"
    )
    out: dict[str, list[tuple[date, date, int, int]]] = defaultdict(list)
    for acc, issued, due, balance, minimum in rows.select(
        "account_id", "statement_date", "due_date", "statement_balance", "minimum_due"
    ).iter_rows():
        out[acc].append((issued, due, balance, minimum))
    return out


def _card_lateness(
    sp: SyntheticPortfolio, behaviour: str, payments: Payments
) -> dict[str, list[int]]:
    accounts = [a for a in _sample(sp.cards, behaviour) if a not in _reversed_accounts(sp)]
    st = _card_rows(sp, accounts)
    return {
        a: statement_lateness([(i, d, m) for i, d, _, m in st[a]], payments.get(a, []), AS_OF)
        for a in accounts
    }


def test_transactors_pay_every_statement_in_full(
    sp10k: SyntheticPortfolio, payments: Payments
) -> None:
    accounts = _sample(sp10k.cards, "transactor")
    st = _card_rows(sp10k, accounts)
    checked = 0
    for acc in accounts:
        for issued, due, balance, _ in st[acc]:
            if due <= AS_OF:
                assert paid_in_full((issued, due, balance), payments.get(acc, []))
                checked += 1
    assert checked > 1_000
    assert all(d == 0 for v in _card_lateness(sp10k, "transactor", payments).values() for d in v)


def test_revolvers_carry_a_balance_but_pay_on_time(
    sp10k: SyntheticPortfolio, payments: Payments
) -> None:
    late = _card_lateness(sp10k, "revolver", payments)
    assert all(d == 0 for v in late.values() for d in v)
    accounts = list(late)
    st = _card_rows(sp10k, accounts)
    not_full = sum(
        not paid_in_full((i, d, b), payments.get(a, []))
        for a in accounts
        for i, d, b, _ in st[a]
        if d <= AS_OF and b > 0
    )
    total = sum(1 for a in accounts for _, d, b, _ in st[a] if d <= AS_OF and b > 0)
    assert not_full / total >= 0.7


def test_late_payers(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    days = [d for v in _card_lateness(sp10k, "late_payer", payments).values() for d in v]
    late = [d for d in days if d > 0]
    assert 0.2 <= len(late) / len(days) <= 0.6
    assert max(late) <= 40


def test_card_defaulters_are_overdue(sp10k: SyntheticPortfolio, payments: Payments) -> None:
    late = _card_lateness(sp10k, "defaulter", payments)
    assert all(v and v[-1] > 0 for v in late.values())
