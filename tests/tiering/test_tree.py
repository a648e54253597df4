"""The decision tree's exported rules reproduce its predictions exactly — on the training rows
and on fresh rows it never saw — and read as plain conditions."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.tiering.rules.tree import apply_rules, fit_rules

FEATURES = ("max_dpd", "times_late", "dsr_percent", "rfm_f")


def _frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    return pl.DataFrame({
        "max_dpd": rng.choice([0, 0, 0, 3, 15, 31, 45, 91, 200], n),
        "times_late": rng.integers(0, 10, n),
        "dsr_percent": rng.integers(0, 120, n),
        "rfm_f": rng.integers(1, 6, n),
    })  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 5), st.integers(1, 30))
def test_rules_reproduce_the_tree(seed: int, depth: int, leaf: int) -> None:
    rng = np.random.default_rng(seed)
    train = _frame(rng, 400)
    noisy = rng.random(400) < 0.1
    bad = ((train["max_dpd"] > 30) | (train["dsr_percent"] > 60)).to_numpy() ^ noisy
    labels = pl.Series(np.where(bad, "high", "low"))
    rules, tree = fit_rules(train, labels, max_depth=depth, min_samples_leaf=leaf, seed=seed)
    for frame in (train, _frame(rng, 500)):
        wanted = tree.predict(frame.to_numpy())  # type: ignore[attr-defined]
        assert apply_rules(rules, frame).to_list() == list(wanted)
    assert sum(r.samples for r in rules) == 400
    assert all(r.text().startswith("if ") for r in rules)


def test_rules_read_as_conditions() -> None:
    frame = pl.DataFrame({"max_dpd": [0, 10, 40, 90, 100, 5], "rfm_f": [5, 1, 1, 4, 2, 3]})
    labels = pl.Series(["low", "low", "high", "high", "high", "low"])
    rules, _ = fit_rules(frame, labels, max_depth=1, min_samples_leaf=1)
    assert [r.text() for r in rules] == ["if max_dpd <= 25 then low", "if max_dpd > 25 then high"]


def test_non_integer_or_huge_features_are_refused() -> None:
    with pytest.raises(ValueError, match="integer"):
        fit_rules(pl.DataFrame({"x": [0.5, 1.5]}), pl.Series(["a", "b"]))
    with pytest.raises(ValueError, match="exact"):
        fit_rules(pl.DataFrame({"x": [0, 2**25]}), pl.Series(["a", "b"]))


def test_an_adopted_tree_only_raises_the_tier() -> None:
    """`tree_floor`: customers the adopted rules label npl qualify for at least `npl_floor`;
    the others, and a riskier qualified tier, are untouched; no rules, nothing changes."""
    from postloan.policy import default_policy
    from postloan.tiering.rules.tree import tree_floor

    policy = default_policy()
    rows = pl.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "qualified_tier": ["premium", "low", "high", "low"],
        "max_dpd": [40, 40, 40, 0], "times_late": [0, 0, 0, 0],
        "credit_status": ["good"] * 4, "capacity": ["strong"] * 4,
        "rfm_r": [3] * 4, "rfm_f": [3] * 4, "rfm_m": [3] * 4,
    })  # fmt: skip
    assert tree_floor(rows, policy).equals(rows)  # the default policy adopts no tree
    data = policy.model_dump(mode="json")
    data["tiering"]["tree"]["rules"] = [
        {"conditions": [{"feature": "max_dpd", "op": ">", "value": 30}], "label": "npl"},
        {"conditions": [{"feature": "max_dpd", "op": "<=", "value": 30}], "label": "performing"},
    ]
    from postloan.policy import policy_from_dict

    adopted = policy_from_dict(data, "test")
    got = tree_floor(rows, adopted)["qualified_tier"].to_list()
    assert got == ["medium", "medium", "high", "low"]
