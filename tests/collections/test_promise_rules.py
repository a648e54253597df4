"""Promise rules without a database: kept on the day the payments reach the amount, broken
the day after the due date, reversals and other accounts not counting, and case priority from
the stage and the promises broken since the case opened."""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.collections.cases import STAGE_RANK
from postloan.collections.rules.promises import (
    BROKEN,
    BROKEN_WEIGHT,
    OPEN_CASES,
    PAYMENTS,
    PROMISES,
    case_priorities,
    promise_outcomes,
)


def _promises(*rows: tuple[int, str | None, int, date, date]) -> pl.DataFrame:
    return pl.DataFrame([(p, "c1", a, m, made, due) for p, a, m, made, due in rows],
                        schema=PROMISES, orient="row")  # fmt: skip


def _payments(*rows: tuple[str, str, date, int, str | None]) -> pl.DataFrame:
    return pl.DataFrame([(p, "c1", a, d, m, r) for p, a, d, m, r in rows], schema=PAYMENTS,
                        orient="row")  # fmt: skip


def _decided(promises: pl.DataFrame, payments: pl.DataFrame, as_of: date) -> list[tuple]:
    return promise_outcomes(promises, payments, as_of).rows()


def test_kept_on_the_day_the_running_total_reaches_the_amount() -> None:
    promise = _promises((1, None, 1000, date(2024, 3, 1), date(2024, 3, 10)))
    paid = _payments(("p1", "L1", date(2024, 3, 2), 600, None),
                     ("p2", "L2", date(2024, 3, 5), 400, None))  # fmt: skip
    assert _decided(promise, paid, date(2024, 3, 4)) == [(1, "pending", None)]
    assert _decided(promise, paid, date(2024, 3, 5)) == [(1, "kept", date(2024, 3, 5))]


def test_broken_the_day_after_the_due_date() -> None:
    promise = _promises((1, None, 1000, date(2024, 3, 1), date(2024, 3, 10)))
    paid = _payments(("p1", "L1", date(2024, 3, 11), 1000, None))  # a day late
    assert _decided(promise, paid, date(2024, 3, 10)) == [(1, "pending", None)]
    assert _decided(promise, paid, date(2024, 3, 11)) == [(1, "broken", date(2024, 3, 11))]


def test_reversed_payments_and_other_accounts_do_not_keep_a_promise() -> None:
    promise = _promises((1, "L1", 1000, date(2024, 3, 1), date(2024, 3, 10)))
    paid = _payments(
        ("p1", "L1", date(2024, 3, 2), 1000, None),
        ("r1", "L1", date(2024, 3, 12), -1000, "p1"),  # bounced, known from 12 March
        ("p2", "L2", date(2024, 3, 3), 1000, None),  # another account
    )
    assert _decided(promise, paid, date(2024, 3, 11)) == [(1, "kept", date(2024, 3, 2))]
    assert _decided(promise, paid, date(2024, 3, 12)) == [(1, "broken", date(2024, 3, 11))]


def test_payments_before_the_promise_was_made_do_not_count() -> None:
    promise = _promises((1, None, 500, date(2024, 3, 5), date(2024, 3, 10)))
    paid = _payments(("p1", "L1", date(2024, 3, 4), 500, None))
    assert _decided(promise, paid, date(2024, 3, 20)) == [(1, "broken", date(2024, 3, 11))]


def test_priority_is_stage_rank_plus_broken_promises_since_the_case_opened() -> None:
    stage = next(s for s, r in STAGE_RANK.items() if r > 0)
    open_cases = pl.DataFrame(
        [(1, "a", stage, date(2024, 3, 1)), (2, "b", stage, date(2024, 3, 1)),
         (3, "c", "unknown", date(2024, 3, 1))],
        schema=OPEN_CASES, orient="row",
    )  # fmt: skip
    broken = pl.DataFrame(
        [("a", date(2024, 3, 1)), ("a", date(2024, 3, 9)), ("a", date(2024, 2, 28)),
         ("c", date(2024, 4, 1)), ("b", None)],
        schema=BROKEN, orient="row",
    )  # fmt: skip
    got = dict(case_priorities(open_cases, broken).rows())
    rank = STAGE_RANK[stage]
    # a: two broken on or after 1 March (the one of 28 February is an earlier episode's)
    assert got == {1: rank + 2 * BROKEN_WEIGHT, 2: rank, 3: BROKEN_WEIGHT}
    assert max(STAGE_RANK.values()) < BROKEN_WEIGHT  # a broken promise outranks any stage
