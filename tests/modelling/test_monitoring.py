"""PSI of the score and of each characteristic equals optbinning's ScorecardMonitoring on the
same bins (issue 13: within 0.001)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from optbinning.scorecard import ScorecardMonitoring

from postloan.modelling import FitParams, characteristic_psi, fit_scorecard, score_psi

from .conftest import credit_table
from .test_scorecard import FEATURES, library_scorecard


@pytest.fixture(scope="module")
def drift() -> tuple[pd.DataFrame, pd.DataFrame]:
    # No missing values: optbinning's per-variable PSI is undefined (0/0) for a bin empty on
    # both sides, which a missing bin without missing values is.
    expected = credit_table(n=3000, seed=11, missing=False)
    actual = credit_table(n=2000, seed=12, missing=False)
    actual["utilisation"] *= 1.15  # the population moved
    actual.loc[actual.index % 3 == 0, "region"] = "west"
    return expected, actual


def test_psi_equals_optbinnings_on_the_same_bins(drift: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    expected, actual = drift
    model = fit_scorecard(expected, "bad", params=FitParams(max_ratios=0))
    library = library_scorecard(expected)
    for c in model.characteristics:  # the same bins, fitted separately
        binned = library.binning_process_.get_binned_variable(c.name)
        got = [tuple(map(str, g)) for g in binned.splits] if c.categories else list(binned.splits)
        assert got == (list(c.categories) if c.categories else list(c.splits))
    monitoring = ScorecardMonitoring(scorecard=library, psi_method="cart", psi_n_bins=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monitoring.fit(
            actual[FEATURES], actual["bad"].to_numpy(),
            expected[FEATURES], expected["bad"].to_numpy(),
        )  # fmt: skip
        theirs = monitoring.psi_variable_table(style="summary").set_index("Variable")["PSI"]
        their_score_psi = float(monitoring.psi_table()["PSI"].iloc[-1])
    ours = characteristic_psi(model, expected, actual).set_index("characteristic")["psi"]
    for name in FEATURES:
        assert ours[name] == pytest.approx(theirs[name], abs=1e-3), name
    assert ours["utilisation"] > 0.05 and ours["region"] > 0.05  # the drift is seen
    splits = monitoring.psi_splits
    ours_score = score_psi(model.score(expected), model.score(actual), splits)
    assert ours_score == pytest.approx(their_score_psi, abs=1e-3)
    assert ours_score > 0.01


def test_psi_of_a_sample_against_itself_is_zero() -> None:
    table = credit_table(n=1500, seed=3)
    model = fit_scorecard(table, "bad")
    same = characteristic_psi(model, table, table.sample(frac=1.0, random_state=2))
    assert np.allclose(same["psi"], 0.0)
    scores = model.score(table)
    assert score_psi(scores, scores, model.band_edges) == 0.0
