"""The partitioned runner gives the same answer however the portfolio is cut, and the same
answer as the reference — including unsorted input and accounts with reversals."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from postloan.engine import account_status, account_status_history
from postloan.engine.frames import Portfolio
from postloan.engine.keys import UnknownAccountError
from postloan.policy import default_policy
from postloan.synth import generate
from tests.reference import reference_account_status

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return generate(accounts=300, seed=17, as_of=AS_OF).portfolio


def test_partitions_do_not_change_the_answer(portfolio: Portfolio) -> None:
    whole = account_status(portfolio, AS_OF, partition_size=1_000_000)
    for size in (1, 7, 64):
        assert account_status(portfolio, AS_OF, partition_size=size).equals(whole), size
    reversed_accounts = portfolio.payments.filter(pl.col("reverses_payment_id").is_not_null())
    assert reversed_accounts.height > 0, "the portfolio exercises reversal histories"


def test_partitioned_multi_date_equals_reference(portfolio: Portfolio) -> None:
    dates = [AS_OF - timedelta(days=d) for d in (0, 9, 45)]
    seen: list[tuple[int, int]] = []
    history = account_status_history(
        portfolio, dates, partition_size=50, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1][0] == seen[-1][1] == 6  # 300 accounts in partitions of 50
    policy = default_policy()
    for day in dates:
        got = history.filter(pl.col("as_of") == day).sort("account_id").to_dicts()
        want = sorted(
            reference_account_status(portfolio, day, policy), key=lambda r: r["account_id"]
        )
        assert got == want, day


def test_unsorted_input_gives_the_same_answer(portfolio: Portfolio) -> None:
    shuffled = Portfolio(
        loans=portfolio.loans.sample(fraction=1.0, shuffle=True, seed=1),
        instalments=portfolio.instalments.sample(fraction=1.0, shuffle=True, seed=2),
        cards=portfolio.cards.sample(fraction=1.0, shuffle=True, seed=3),
        statements=portfolio.statements.sample(fraction=1.0, shuffle=True, seed=4),
        payments=portfolio.payments.sample(fraction=1.0, shuffle=True, seed=5),
    )
    expected = account_status(portfolio, AS_OF)
    assert account_status(shuffled, AS_OF, partition_size=40).equals(expected)


def test_payment_for_unknown_account_is_refused(portfolio: Portfolio) -> None:
    stray = portfolio.payments.head(1).with_columns(pl.lit("NOPE").alias("account_id"))
    bad = Portfolio(
        loans=portfolio.loans,
        instalments=portfolio.instalments,
        cards=portfolio.cards,
        statements=portfolio.statements,
        payments=pl.concat([portfolio.payments, stray]),
    )
    with pytest.raises(UnknownAccountError, match="NOPE"):
        account_status(bad, AS_OF)
