"""Ratio characteristics: found when the ratio carries what its parts do not, scored from the
parts, missing when the denominator is zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from postloan.modelling import FitParams, ModellingError, auc, fit_scorecard, load_model, save_model
from postloan.modelling.ratios import Ratio, ratio_values


def loan_to_value_table(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    """Bad depends on amount / price only; amount and price alone say little."""
    rng = np.random.default_rng(seed)
    price = rng.lognormal(7, 0.6, n)
    ltv = rng.uniform(0.2, 1.1, n)
    noise = rng.normal(0, 1, n)
    bad = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-1.5 + 4 * (ltv - 0.65))))).astype(int)
    return pd.DataFrame({"amount": price * ltv, "price": price, "noise": noise, "bad": bad})


def test_ratio_values_make_zero_and_missing_denominators_missing() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": [2.0, 0.0, np.nan, 1.0]})
    values = ratio_values(frame, Ratio("a", "b"))
    assert values.iloc[0] == 0.5 and values.iloc[1:].isna().all()


def test_the_ratio_is_found_and_lifts_the_auc(tmp_path: Path) -> None:
    train, test = loan_to_value_table(seed=5), loan_to_value_table(seed=6)
    with_ratio = fit_scorecard(train, "bad")
    without = fit_scorecard(train, "bad", params=FitParams(max_ratios=0))
    ratios = [c.ratio for c in with_ratio.characteristics if c.ratio is not None]
    assert Ratio("amount", "price") in ratios
    y = test["bad"].to_numpy()
    assert auc(y, with_ratio.score(test)) > auc(y, without.score(test)) + 0.03
    # scored from its parts; a zero price falls in the ratio's missing bin
    test.loc[0, "price"] = 0.0
    ratio = next(c for c in with_ratio.characteristics if c.ratio == Ratio("amount", "price"))
    assert with_ratio.bin_indices(test.head(1))[ratio.name][0] == ratio.n_bins
    save_model(with_ratio, tmp_path)
    loaded = load_model(tmp_path)
    pd.testing.assert_frame_equal(loaded.predict(test), with_ratio.predict(test), check_exact=True)
    assert set(loaded.inputs) == {"amount", "price", "noise"}
    with pytest.raises(ModellingError, match="missing from the data: price"):
        loaded.predict(test.drop(columns=["price"]))


def test_no_ratio_without_a_gain() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=2000), "z": rng.uniform(1, 2, 2000)})
    frame["bad"] = (rng.uniform(size=2000) < 1 / (1 + np.exp(-frame["x"]))).astype(int)
    model = fit_scorecard(frame, "bad")
    assert all(c.ratio is None for c in model.characteristics)
