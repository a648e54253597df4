"""LGD from the recovery history, expected loss and the classification matrix against plain
references, and the property that the matrix never contradicts the five-category floors."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.policy import default_policy
from postloan.risk.rules import expected_loss as el

CFG = default_policy().risk.models
D = date(2025, 3, 31)


def test_lgd_by_type_equals_a_plain_reference() -> None:
    defaults = pl.DataFrame(
        [("L1", "loan", date(2024, 1, 31), 10_000), ("L2", "loan", date(2024, 6, 30), 30_000),
         ("C1", "card", date(2024, 2, 29), 5_000)],
        schema=el.DEFAULTS, orient="row",
    )  # fmt: skip
    recoveries = pl.DataFrame(
        [("L1", date(2024, 1, 31), 999),  # on the default date: before it, not a recovery
         ("L1", date(2024, 5, 1), 4_000), ("L1", date(2026, 2, 1), 6_000),  # past 24 months
         ("L2", date(2024, 7, 1), 50_000),  # more than the EAD: capped
         ("X9", date(2024, 7, 1), 1_000)],  # no default
        schema=el.RECOVERIES, orient="row",
    )  # fmt: skip
    got = {r["account_type"]: r for r in el.lgd_by_type(defaults, recoveries, CFG).to_dicts()}
    # loans: recovered 4 000 of 10 000 and 30 000 of 30 000 → 1 − 34 000 / 40 000
    assert got["loan"]["lgd"] == pytest.approx(1 - 34_000 / 40_000)
    assert (got["loan"]["defaults"], got["loan"]["ead"]) == (2, 40_000)
    assert got["card"]["lgd"] == pytest.approx(1.0)  # nothing recovered
    none = el.lgd_by_type(defaults.head(0), recoveries, CFG).to_dicts()
    assert [r["lgd"] for r in none] == [CFG.lgd_fallback_pct / 100] * 2


def _reference_class(pd: float, ead_fen: int, floor: str) -> str:
    pd_band = sum(1 for e in CFG.pd_band_edges_bp if pd * 10_000 >= e)
    exposure_band = sum(1 for e in CFG.exposure_band_edges if ead_fen / 100 >= e)
    matrix = CFG.matrix[pd_band][exposure_band]
    return max(matrix, floor, key=el.CLASS_ORDER.index)


def test_expected_loss_equals_a_plain_reference() -> None:
    scores = pl.DataFrame({"as_of": [D, D, D], "customer_id": ["A", "B", "C"],
                           "pd": [0.005, 0.25, 0.05]})  # fmt: skip
    exposures = pl.DataFrame(
        [(D, "A", "loan", 1_000_000, "normal"), (D, "A", "card", 200_000, "normal"),
         (D, "B", "loan", 80_000_000, "special_mention"), (D, "C", "card", 0, "loss")],
        schema=el.EXPOSURES, orient="row",
    )  # fmt: skip
    lgd = pl.DataFrame({"account_type": ["card", "loan"], "lgd": [0.8, 0.4]})
    got = {r["customer_id"]: r for r in el.expected_loss(scores, exposures, lgd, CFG).to_dicts()}
    a = got["A"]
    assert a["ead"] == 1_200_000
    assert a["lgd"] == pytest.approx((1_000_000 * 0.4 + 200_000 * 0.8) / 1_200_000)
    assert a["el"] == round(0.005 * (1_000_000 * 0.4 + 200_000 * 0.8))  # 2 800 分
    assert (a["pd_band"], a["exposure_band"], a["risk_class"]) == (0, 0, "normal")
    b = got["B"]  # PD 25 %, 800 000 yuan: the matrix says substandard, above the floor
    assert (b["pd_band"], b["exposure_band"]) == (4, 2)
    assert (b["matrix_class"], b["risk_class"]) == ("substandard", "substandard")
    assert b["el"] == round(0.25 * 80_000_000 * 0.4)
    c = got["C"]  # nothing exposed, yet its account's floor is loss: the floor stands
    assert (c["el"], c["matrix_class"], c["risk_class"]) == (0, "special_mention", "loss")


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 10**11),
                  st.sampled_from(el.CLASS_ORDER)),
        min_size=1, max_size=30,
    )
)  # fmt: skip
def test_the_matrix_never_lowers_a_five_category_floor(
    rows: list[tuple[float, int, str]],
) -> None:
    ids = [f"C{i}" for i in range(len(rows))]
    scores = pl.DataFrame({"as_of": [D] * len(rows), "customer_id": ids,
                           "pd": [r[0] for r in rows]})  # fmt: skip
    exposures = pl.DataFrame(
        [(D, c, "loan", r[1], r[2]) for c, r in zip(ids, rows, strict=True)],
        schema=el.EXPOSURES, orient="row",
    )  # fmt: skip
    lgd = pl.DataFrame({"account_type": ["loan"], "lgd": [0.45]})
    got = el.expected_loss(scores, exposures, lgd, CFG).sort("customer_id").to_dicts()
    by_id = dict(zip(ids, rows, strict=True))
    for r in got:
        pd, ead, floor = by_id[r["customer_id"]]
        assert el.CLASS_ORDER.index(r["risk_class"]) >= el.CLASS_ORDER.index(floor)
        assert r["risk_class"] == _reference_class(pd, ead, floor)
