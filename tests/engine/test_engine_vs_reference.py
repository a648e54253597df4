"""Property tests: the vectorised engine equals the plain reference on every column.

Random portfolios (tests/strategies.py) — partial, early, late, backdated, reversed and
over-payments; loans of the three repayment methods, hand-made schedules with zero-amount
instalments, cards with zero minimums and closings — at random as-of dates and policy variants.
The main property runs the `ci` profile's 500 examples (tests/conftest.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings

from postloan.engine import (
    account_status,
    account_status_history,
    instalment_status,
    statement_status,
)
from postloan.engine.frames import ACCOUNT_STATUS
from tests.conftest import examples
from tests.reference import (
    reference_account_status,
    reference_instalment_status,
    reference_statement_status,
)
from tests.strategies import Case, cases

INSTALMENT_STATUS = {
    "account_id": pl.String,
    "period": pl.Int32,
    "due_date": pl.Date,
    "principal_due": pl.Int64,
    "interest_due": pl.Int64,
    "covered_interest": pl.Int64,
    "covered_principal": pl.Int64,
    "completion_date": pl.Date,
    "days_late": pl.Int32,
    "paid_late": pl.Boolean,
}

STATEMENT_STATUS = {
    "account_id": pl.String,
    "statement_date": pl.Date,
    "due_date": pl.Date,
    "statement_balance": pl.Int64,
    "minimum_due": pl.Int64,
    "minimum_covered": pl.Int64,
    "completion_date": pl.Date,
    "days_late": pl.Int32,
    "paid_late": pl.Boolean,
    "paid_in_full": pl.Boolean,
}


def _engine_rows(
    frame: pl.DataFrame, schema: dict[str, Any], keys: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The frame's rows sorted by `keys`, after checking its columns and types."""
    assert frame.columns == list(schema), f"columns {frame.columns} != {list(schema)}"
    for name, dtype in schema.items():
        assert frame.schema[name] == dtype, f"{name}: {frame.schema[name]} != {dtype}"
    return sorted(frame.to_dicts(), key=lambda r: tuple(r[k] for k in keys))


def assert_rows_equal(
    what: str,
    engine: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    keys: tuple[str, ...],
) -> None:
    """Row-for-row equality with a message naming the row and every differing column."""
    reference = sorted(reference, key=lambda r: tuple(r[k] for k in keys))
    engine_keys = [tuple(r[k] for k in keys) for r in engine]
    reference_keys = [tuple(r[k] for k in keys) for r in reference]
    assert engine_keys == reference_keys, (
        f"{what}: rows {engine_keys} != reference {reference_keys}"
    )
    for got, want in zip(engine, reference, strict=True):
        diffs = {c: (got.get(c), want[c]) for c in want if got.get(c) != want[c]}
        assert not diffs, f"{what} row {tuple(want[k] for k in keys)}: " + ", ".join(
            f"{c}: engine {e!r} != reference {r!r}" for c, (e, r) in diffs.items()
        )


def check_date(case: Case, as_of: date, policy: Any) -> None:
    portfolio = case.portfolio
    assert_rows_equal(
        f"account_status as of {as_of}",
        _engine_rows(account_status(portfolio, as_of, policy), ACCOUNT_STATUS, ("account_id",)),
        reference_account_status(portfolio, as_of, policy),
        ("account_id",),
    )
    inst_keys = ("account_id", "period")
    assert_rows_equal(
        f"instalment_status as of {as_of}",
        _engine_rows(instalment_status(portfolio, as_of, policy), INSTALMENT_STATUS, inst_keys),
        reference_instalment_status(portfolio, as_of, policy),
        inst_keys,
    )
    st_keys = ("account_id", "statement_date")
    assert_rows_equal(
        f"statement_status as of {as_of}",
        _engine_rows(statement_status(portfolio, as_of, policy), STATEMENT_STATUS, st_keys),
        reference_statement_status(portfolio, as_of, policy),
        st_keys,
    )


@given(cases())
def test_engine_equals_reference(case: Case) -> None:
    """The main property: every output, every column, at each drawn date (500 examples in CI)."""
    policy = case.policy.build()
    for as_of in case.dates:
        check_date(case, as_of, policy)


@settings(max_examples=examples(0.3))
@given(cases(max_dates=5))
def test_history_equals_per_date_and_reference(case: Case) -> None:
    """Multi-date mode = account_status for each date = the reference at each date."""
    policy = case.policy.build()
    dates = list(case.dates)
    keys = ("as_of", "account_id")
    history = _engine_rows(
        account_status_history(case.portfolio, dates, policy), ACCOUNT_STATUS, keys
    )
    per_date = [
        row
        for d in dates
        for row in _engine_rows(account_status(case.portfolio, d, policy), ACCOUNT_STATUS, keys)
    ]
    reference = [row for d in dates for row in reference_account_status(case.portfolio, d, policy)]
    per_date.sort(key=lambda r: tuple(r[k] for k in keys))
    assert_rows_equal("history vs per-date", history, per_date, keys)
    assert_rows_equal("history vs reference", history, reference, keys)


@settings(max_examples=examples(0.1))
@given(cases(max_dates=1))
def test_history_of_no_dates_and_repeated_dates(case: Case) -> None:
    """Edge inputs of multi-date mode: no dates -> no rows; a date twice -> same as once."""
    policy = case.policy.build()
    empty = account_status_history(case.portfolio, [], policy)
    assert empty.height == 0
    assert empty.columns == list(ACCOUNT_STATUS)
    (d,) = case.dates
    keys = ("as_of", "account_id")
    once = _engine_rows(account_status_history(case.portfolio, [d], policy), ACCOUNT_STATUS, keys)
    single = _engine_rows(account_status(case.portfolio, d, policy), ACCOUNT_STATUS, keys)
    assert_rows_equal("history([d]) vs account_status(d)", once, single, keys)
