"""Every churn path of SPEC CH-2 and every reason signal of CH-3 is in a generated portfolio.

The rules are evaluated by `churn_reference` (plain Python, straight from the contract's rule
text) over 3,000 customers generated with the demo's seed, on the demo's latest business date D
and on the first date of its default backfill (D − 119 days): each rule identifies customers on
D, and between the two dates customers enter each rule's pool and others leave it (a living
pool: returns after closures and transfers out, explanations of dormancy).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import polars as pl
import pytest

from postloan.synth import SyntheticPortfolio, generate
from postloan.synth.churn import STRESSED_INDUSTRIES
from tests.synth.churn_reference import CONDITIONS, ChurnReference
from tests.synth.conftest import AS_OF

D = AS_OF
FIRST = D - timedelta(days=119)  # `postloan demo` runs 120 business dates ending on D
CUSTOMERS = 3_000

# Share of customers each condition may identify on D: some, and not the whole portfolio.
# (b)'s first count is large by the contract's definition: every revolver (pays the minimum,
# not the balance) is "not paid in full".
UPPER = {
    "loan_consecutive": 0.10,
    "loan_cumulative": 0.10,
    "card_not_paid_in_full": 0.16,
    "card_late": 0.06,
    "closed_not_reapplied": 0.05,
    "transferred_out": 0.03,
    "inactive": 0.08,
}


@pytest.fixture(scope="module")
def sp() -> SyntheticPortfolio:
    return generate(accounts=round(CUSTOMERS * 1.4), seed=42, as_of=AS_OF)


@pytest.fixture(scope="module")
def ref(sp: SyntheticPortfolio) -> ChurnReference:
    return ChurnReference.of(sp)


@pytest.fixture(scope="module")
def on_d(ref: ChurnReference) -> dict[str, set[str]]:
    return ref.conditions(D)


@pytest.fixture(scope="module")
def on_first(ref: ChurnReference) -> dict[str, set[str]]:
    return ref.conditions(FIRST)


def _holding(conditions: dict[str, set[str]], name: str) -> set[str]:
    return {customer for customer, held in conditions.items() if name in held}


def _dates(sp: SyntheticPortfolio, kind: str) -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    for customer, day in (
        sp.events.filter(pl.col("type") == kind).select("customer_id", "date").rows()
    ):
        out[customer].append(day)
    return out


def _openings(sp: SyntheticPortfolio) -> dict[str, list[date]]:
    out: dict[str, list[date]] = defaultdict(list)
    for customer, day in pl.concat(
        [
            sp.loans.select("customer_id", pl.col("disbursement_date").alias("day")),
            sp.cards.select("customer_id", pl.col("open_date").alias("day")),
        ]
    ).rows():
        out[customer].append(day)
    return out


def test_portfolio_size(sp: SyntheticPortfolio) -> None:
    assert sp.customers.height == CUSTOMERS


@pytest.mark.parametrize("name", list(CONDITIONS))
def test_each_rule_identifies_customers_on_the_latest_business_date(
    on_d: dict[str, set[str]], name: str
) -> None:
    share = len(_holding(on_d, name)) / CUSTOMERS
    assert 0.005 <= share <= UPPER[name], f"{name}: {share:.1%}"


@pytest.mark.parametrize("rule", sorted(set(CONDITIONS.values())))
def test_customers_enter_and_leave_each_pool_over_the_demo_dates(
    ref: ChurnReference, on_d: dict[str, set[str]], on_first: dict[str, set[str]], rule: str
) -> None:
    names = [name for name, r in CONDITIONS.items() if r == rule]
    now = set().union(*(_holding(on_d, n) for n in names))
    before = set().union(*(_holding(on_first, n) for n in names))
    assert now - before, f"nobody entered {rule}"
    assert before - now, f"nobody left {rule}"


def _returns(
    sp: SyntheticPortfolio, kind: str
) -> tuple[set[str], set[str], dict[str, date], dict[str, list[date]]]:
    """Customers with a `kind` event on or before D whose latest one was followed by an
    application or an account opening (returned), or not; their latest such event."""
    latest = {c: max(days) for c, days in _dates(sp, kind).items()}
    applied = _dates(sp, "application")
    opened = _openings(sp)
    back = {
        c: sorted(d for d in (*applied.get(c, []), *opened.get(c, [])) if d > e)
        for c, e in latest.items()
    }
    returned = {c for c, days in back.items() if days}
    return returned, set(latest) - returned, latest, back


def test_closures_with_and_without_a_return(
    sp: SyntheticPortfolio, on_d: dict[str, set[str]], on_first: dict[str, set[str]]
) -> None:
    returned, stayed_away, latest, back = _returns(sp, "account_closed")
    share = len(returned) / (len(returned) + len(stayed_away))
    assert 0.15 <= share <= 0.6, share
    # returns after the pool's 6 months: in the pool, then out on the application date
    later = [c for c in returned if (back[c][0] - latest[c]).days > 185]
    assert len(later) >= 10
    left = _holding(on_first, "closed_not_reapplied") - _holding(on_d, "closed_not_reapplied")
    applied = _dates(sp, "application")
    assert any(FIRST < day <= D for c in left for day in applied.get(c, []))
    # a new account after a closure, with the application that led to it
    closed = _dates(sp, "account_closed")
    new_accounts = pl.concat(
        [
            sp.loans.select("customer_id", "account_id", pl.col("disbursement_date").alias("day")),
            sp.cards.select("customer_id", "account_id", pl.col("open_date").alias("day")),
        ]
    )
    reopened = [
        (c, account, day)
        for c, account, day in new_accounts.rows()
        if any(e < day for e in closed.get(c, []))
    ]
    assert len(reopened) >= 10
    applications = sp.events.filter(pl.col("type") == "application").drop_nulls("account_id")
    applied_for = dict(applications.select("account_id", "date").rows())
    assert sum(1 for _, account, day in reopened if applied_for.get(account, D) < day) >= 10


def test_transfers_out_with_and_without_resumption(
    sp: SyntheticPortfolio, on_d: dict[str, set[str]], on_first: dict[str, set[str]]
) -> None:
    returned, stayed_away, latest, back = _returns(sp, "transfer_out")
    assert len(returned) >= 10 and len(stayed_away) >= 10
    assert any((back[c][0] - latest[c]).days > 185 for c in returned)
    left = _holding(on_first, "transferred_out") - _holding(on_d, "transferred_out")
    applied = _dates(sp, "application")
    opened = _openings(sp)
    assert any(FIRST < day <= D for c in left for day in (*applied.get(c, []), *opened.get(c, [])))


def test_dormancy_with_and_without_an_explanation(
    sp: SyntheticPortfolio,
    ref: ChurnReference,
    on_d: dict[str, set[str]],
    on_first: dict[str, set[str]],
) -> None:
    silent = _holding(on_d, "inactive")
    explained = ref.quiet_but_explained(D)
    assert len(silent) >= 30 and len(explained) >= 30
    assert not silent & explained
    left = _holding(on_first, "inactive") - silent
    explanations = _dates(sp, "explanation")
    assert any(FIRST < day <= D for c in left for day in explanations.get(c, []))


def test_service_signal_complaints_before_closures(sp: SyntheticPortfolio) -> None:
    ev = sp.events
    closed = ev.filter(pl.col("type") == "account_closed").select(
        "account_id", pl.col("date").alias("closed")
    )
    complaints = ev.filter(pl.col("type") == "complaint").join(closed, on="account_id")
    before = complaints.filter(
        (pl.col("date") <= pl.col("closed")) & (pl.col("date") >= pl.col("closed") - timedelta(90))
    )
    assert before["customer_id"].n_unique() >= 0.1 * closed.height


def test_own_reason_signal_paid_off_then_closed(
    sp: SyntheticPortfolio, ref: ChurnReference
) -> None:
    """Loans closed (account_closed) once repaid in full, before their last due date."""
    closed = sp.events.filter(pl.col("type") == "account_closed").drop_nulls("account_id")
    paid_off = 0
    for account, day in closed.select("account_id", "date").rows():
        if account not in ref.loans:
            continue
        schedule = ref.loans[account].schedule
        owed = sum(amount for _, amount in schedule)
        if sum(a for _, _, a in ref.counted(account, day)) >= owed and day < schedule[-1][0]:
            paid_off += 1
    assert paid_off >= 50


def test_competition_signal_transfers_out(sp: SyntheticPortfolio) -> None:
    transfers = sp.events.filter(pl.col("type") == "transfer_out")
    assert 0.01 <= transfers["customer_id"].n_unique() / CUSTOMERS <= 0.08


def test_macro_signal_income_drops_in_stressed_industries(sp: SyntheticPortfolio) -> None:
    income = dict(sp.customers.select("customer_id", "monthly_income").rows())
    drops = {
        c
        for c, amount in sp.events.filter(pl.col("type") == "income_change")
        .select("customer_id", "amount")
        .rows()
        if amount < income[c]
    }
    stressed = set(
        sp.customers.filter(pl.col("industry").is_in(STRESSED_INDUSTRIES))["customer_id"]
    )
    others = set(sp.customers["customer_id"]) - stressed
    in_stressed = len(drops & stressed) / len(stressed)
    elsewhere = len(drops & others) / len(others)
    assert len(drops & stressed) >= 30
    assert in_stressed >= 4 * elsewhere, (in_stressed, elsewhere)


def test_malicious_default_signal_asset_transfers_of_severe_defaulters(
    sp: SyntheticPortfolio, ref: ChurnReference
) -> None:
    severe = {
        c
        for c, account in sp.loans.select("customer_id", "account_id").rows()
        if ref.loan_dpd(account, D) > 90
    }
    transferred = set(sp.events.filter(pl.col("type") == "asset_transfer")["customer_id"])
    others = set(sp.customers["customer_id"]) - severe
    assert len(severe & transferred) >= 10
    share_severe = len(severe & transferred) / len(severe)
    share_others = len(others & transferred) / len(others)
    assert share_severe >= 5 * share_others, (share_severe, share_others)
