"""The review (LY-4, first part) on a hand-built history with hand-computed figures: the tier
transition matrix between two dates, and per month and tier the NPL rate and the next month's
NPL and churn rates."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from postloan.tiering.rules.review import ORDER, monthly, transitions

J15, J31, F28, M31 = date(2026, 1, 15), date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
HISTORY = pl.DataFrame(
    [
        (J15, "A", "high", 100, 0),  # not the month's last date: not in the review
        (J31, "A", "premium", 100, 0), (J31, "B", "low", 200, 0),
        (J31, "C", "high", 300, 300), (J31, "D", "high", 100, 0),
        (F28, "A", "low", 100, 0), (F28, "B", "low", 200, 50), (F28, "C", "high", 300, 300),
        (M31, "A", "low", 100, 0), (M31, "B", "medium", 200, 200), (M31, "C", "high", 0, 0),
        (M31, "D", "premium", 50, 0),
    ],
    schema={"as_of": pl.Date, "customer_id": pl.String, "tier": pl.String,
            "balance": pl.Int64, "npl_balance": pl.Int64},
    orient="row",
)  # fmt: skip
CHURNED = pl.DataFrame({"as_of": [F28, F28], "customer_id": ["C", "D"]})


def _tiers(day: date) -> pl.DataFrame:
    return HISTORY.filter(pl.col("as_of") == day).select("customer_id", "tier")


def test_transition_matrix() -> None:
    cells = {(r["from_tier"], r["to_tier"]): r["customers"]
             for r in transitions(_tiers(J31), _tiers(M31)).to_dicts()}  # fmt: skip
    assert len(cells) == len(ORDER) ** 2 - 1  # every pair but none → none, zeros included
    moved = {k: v for k, v in cells.items() if v}
    assert moved == {("premium", "low"): 1, ("low", "medium"): 1, ("high", "high"): 1,
                     ("high", "premium"): 1}  # fmt: skip
    found = transitions(_tiers(F28), _tiers(M31)).filter(pl.col("customers") > 0)
    later = {(r["from_tier"], r["to_tier"]): r["customers"] for r in found.to_dicts()}
    assert later == {("low", "low"): 1, ("low", "medium"): 1, ("high", "high"): 1,
                     ("none", "premium"): 1}  # fmt: skip


def test_monthly_rates_by_hand() -> None:
    rows = monthly(HISTORY, CHURNED, [F28]).to_dicts()
    got = {(r["month"], r["tier"]): (r["customers"], r["balance"], r["npl_balance"],
                                     r["npl_rate"], r["next_npl_rate"], r["next_churn_rate"])
           for r in rows}  # fmt: skip
    assert got == {
        # January (Jan 31; next: Feb 28, when churn ran)
        ("2026-01", "premium"): (1, 100, 0, 0.0, 0.0, 0.0),
        ("2026-01", "low"): (1, 200, 0, 0.0, 1.0, 0.0),  # B has NPL on Feb 28
        # C: NPL on both dates; D not tiered on Feb 28 (counts in the denominator only);
        # both identified as churned on Feb 28
        ("2026-01", "high"): (2, 400, 300, 0.75, 0.5, 1.0),
        # February (Feb 28; next: Mar 31, churn not identified then: null)
        ("2026-02", "low"): (2, 300, 50, pytest.approx(50 / 300), 0.5, None),
        ("2026-02", "high"): (1, 300, 300, 1.0, 0.0, None),
        # March: the last month, nothing to look forward to; C's balance is 0: no NPL rate
        ("2026-03", "premium"): (1, 50, 0, 0.0, None, None),
        ("2026-03", "low"): (1, 100, 0, 0.0, None, None),
        ("2026-03", "medium"): (1, 200, 200, 1.0, None, None),
        ("2026-03", "high"): (1, 0, 0, None, None, None),
    }
    # rows come month by month, best tier first
    assert [(r["month"], r["tier"]) for r in rows][:3] == [
        ("2026-01", "premium"),
        ("2026-01", "low"),
        ("2026-01", "high"),
    ]
    assert all(r["next_as_of"] == F28 for r in rows if r["month"] == "2026-01")


def test_empty_history() -> None:
    assert monthly(HISTORY.clear(), CHURNED.clear(), []).height == 0
