"""A seeded synthetic credit table: numeric and categorical columns, missing values, and a
bad flag drawn from a known logistic model (so the scorecard has something real to find)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from postloan.modelling import FitParams, ScorecardModel, fit_scorecard


def credit_table(n: int = 3000, seed: int = 7, missing: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(8.5, 0.5, n)
    utilisation = rng.uniform(0, 1.2, n)
    months = rng.integers(1, 120, n).astype(float)
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    channel = rng.choice(["branch", "online", "agent"], n)
    logit = (
        -1.0
        - 0.8 * (np.log(income) - 8.5)
        + 2.0 * (utilisation - 0.6)
        - 0.01 * months
        + np.select([region == "west", region == "east"], [0.9, 0.4], 0.0)
        + np.where(channel == "agent", 0.5, 0.0)
    )
    bad = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "income": income,
            "utilisation": utilisation,
            "months_on_book": months,
            "region": region,
            "channel": pd.Series(channel, dtype=object),
            "bad": bad,
        }
    )
    if missing:
        frame.loc[rng.uniform(size=n) < 0.08, "income"] = np.nan
        frame.loc[rng.uniform(size=n) < 0.05, "channel"] = None
    return frame


@pytest.fixture(scope="session")
def table() -> pd.DataFrame:
    return credit_table()


@pytest.fixture(scope="session")
def model(table: pd.DataFrame) -> ScorecardModel:
    return fit_scorecard(table, "bad")


@pytest.fixture(scope="session")
def plain_model(table: pd.DataFrame) -> ScorecardModel:
    """Without ratio characteristics: the columns as they are, like optbinning's own."""
    return fit_scorecard(table, "bad", params=FitParams(max_ratios=0))
