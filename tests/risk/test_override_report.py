"""The override-performance report on a hand-built history: bad rates of the overridden
customers against their comparison group (same model grade, same date, not overridden)."""

from __future__ import annotations

import calendar
from datetime import date

import polars as pl

from postloan.risk.rules.overrides import OVERRIDES, SCORES, override_performance

ENDS = [date(2025, m, calendar.monthrange(2025, m)[1]) for m in range(1, 13)]
GRADES = ["A", "B", "C", "D", "E"]


def _scores(rows: dict[str, tuple[str, list[int]]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(c, d, grade, dpd) for c, (grade, dpds) in rows.items()
         for d, dpd in zip(ENDS, dpds, strict=True)],
        schema=SCORES, orient="row",
    )  # fmt: skip


def test_bad_rates_of_overridden_and_comparison_customers() -> None:
    # On Jan 31 four customers have model grade B. X1 was overridden to D (riskier) and goes
    # 90+ in April; of its peers X2 goes 90+ in June, X3 never, X4 only in December (past 6
    # months from Jan 31 = Jul 31). Y1, grade C, is no peer.
    late = [0, 0, 30, 95] + [120] * 8
    scores = _scores({
        "X1": ("B", late), "X2": ("B", [0] * 5 + [95] + [0] * 6), "X3": ("B", [0] * 12),
        "X4": ("B", [0] * 11 + [100]), "Y1": ("C", late),
    })  # fmt: skip
    overrides = pl.DataFrame([("X1", ENDS[0], "B", "D")], schema=OVERRIDES, orient="row")
    got = override_performance(overrides, scores, GRADES, 90, 6)
    assert got.rows() == [
        ("B", "riskier", "comparison", 3, 1, 1 / 3),
        ("B", "riskier", "overridden", 1, 1, 1.0),
    ]
    # A 12-month horizon from Jan 31 reaches Jan 31 2026, past the last stored date: not judged.
    assert override_performance(overrides, scores, GRADES, 90, 12).is_empty()


def test_an_assessment_on_an_already_bad_customer_is_not_judged() -> None:
    scores = _scores({"X1": ("E", [100] * 12), "X2": ("E", [0] * 12)})
    overrides = pl.DataFrame([("X1", ENDS[0], "E", "C")], schema=OVERRIDES, orient="row")
    assert override_performance(overrides, scores, GRADES, 90, 3).rows() == [
        ("E", "safer", "comparison", 1, 0, 0.0)
    ]
