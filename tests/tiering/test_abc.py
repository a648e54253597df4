"""ABC by value contribution (LY-3) against the plain per-customer recomputation
(`reference.abc_day`) on random portfolios with many equal values, and on a hand-computed
example of the cut-offs and ties."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.policy import default_policy
from postloan.tiering.rules.abc import abc, classify_abc
from postloan.tiering.rules.frames import LOANS, STATUS
from tests.tiering.reference import abc_day
from tests.tiering.test_rules_property import frames, portfolios

POLICY = default_policy()
DAY = date(2026, 6, 30)


@settings(max_examples=150, deadline=None)
@given(portfolios())
def test_abc_equals_the_plain_recomputation(p: dict[str, Any]) -> None:
    status, loans, _, _ = frames(p)
    rows = abc(status, loans, POLICY).to_dicts()
    found = {r["customer_id"]: (r["value"], r["abc"]) for r in rows}
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for a in p["status"]:
        by_customer.setdefault(a["customer_id"], []).append(a)
    wanted = abc_day(by_customer, {lo["loan_id"]: lo for lo in p["loans"]}, POLICY)
    assert found == wanted
    # equal values, equal classes; a larger value never gets a worse class
    ordered = sorted(found.values(), key=lambda v: -v[0])
    for (v1, c1), (v2, c2) in pairwise(ordered):
        assert c1 <= c2 and (v1 != v2 or c1 == c2)


values = st.lists(st.sampled_from([0, 1, 5, 5, 10, 10, 10, 100, 1000]), min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(1, 100), st.integers(0, 100))
def test_cut_offs_and_ties_against_the_plain_rule(vals: list[int], a: int, extra: int) -> None:
    b = min(100, a + extra)
    cuts = POLICY.tiering.abc.model_copy(update={"a_max_share_percent": a,
                                                 "b_max_share_percent": b})  # fmt: skip
    policy = POLICY.model_copy(update={"tiering": POLICY.tiering.model_copy(
        update={"abc": cuts})})  # fmt: skip
    frame = pl.DataFrame({"as_of": [DAY] * len(vals),
                          "customer_id": [f"C{i:02d}" for i in range(len(vals))],
                          "value": vals}, schema={"as_of": pl.Date, "customer_id": pl.String,
                                                  "value": pl.Int64})  # fmt: skip
    got = dict(zip(*classify_abc(frame, policy).select("customer_id", "abc"), strict=True))
    rows = {
        f"C{i:02d}": [
            {
                "account_type": "loan",
                "account_id": f"L{i}",
                "outstanding_principal": v * 100_000_000,
            }
        ]
        for i, v in enumerate(vals)
    }
    loans = {f"L{i}": {"annual_rate": 1} for i in range(len(vals))}
    wanted = abc_day(rows, loans, policy)
    assert got == {c: w[1] for c, w in wanted.items()}


def test_hand_computed_classes() -> None:
    """Values 50, 20, 10, 10, 5, 5, 0 of a total 100; A < 70 % ahead, B < 90 %.
    Ahead: 0 → A, 50 → A (50 < 70), 70 → B twice (the tie: both 10s have 70 ahead), 90 → C
    twice (5s: 90 is not < 90), and the customer without value → C."""
    vals = {"a": 50, "b": 20, "c1": 10, "c2": 10, "d1": 5, "d2": 5, "z": 0}
    status = pl.DataFrame(
        [(DAY, f"L{k}", k, "loan", v * 10, 0, "normal", 0, None) for k, v in vals.items()],
        schema=STATUS, orient="row",
    )  # fmt: skip
    # 10 % a year on 10 × value: the value itself; a card at the policy's rate
    loans = pl.DataFrame(
        [(f"L{k}", k, 1, 10_000_000, 12, DAY, None, "consumer") for k in vals],
        schema=LOANS, orient="row",
    )  # fmt: skip
    got = {r["customer_id"]: (r["value"], r["abc"]) for r in abc(status, loans, POLICY).to_dicts()}
    assert got == {"a": (50, "A"), "b": (20, "A"), "c1": (10, "B"), "c2": (10, "B"),
                   "d1": (5, "C"), "d2": (5, "C"), "z": (0, "C")}  # fmt: skip
    card = status.with_columns(pl.lit("card").alias("account_type"),
                               pl.lit(100_000_000).alias("outstanding_principal"))  # fmt: skip
    valued = abc(card.head(1), loans, POLICY).row(0, named=True)
    assert valued["value"] == 18_250_000 and valued["abc"] == "A"  # 18.25 % of 1e8
