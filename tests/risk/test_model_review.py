"""Model monitoring (EW-2) on a frame against plain references: the score's PSI per month
(the formula written out over the model's bands), AUC per month (pair counting), alerts at
the policy's thresholds when a month's population shifts, calibration rows."""

from __future__ import annotations

import math
from datetime import date
from itertools import pairwise

import numpy as np
import pandas as pd
import polars as pl
import pytest

from postloan.modelling import FitParams, fit_scorecard
from postloan.policy import default_policy
from postloan.risk.model_review import monitor

CFG = default_policy().risk.models
MONTHS = [date(2025, m, 28) for m in range(1, 7)]


def _month(rng: np.random.Generator, shift: float, n: int = 500) -> pd.DataFrame:
    x = rng.normal(shift, 1.0, n)
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-(x - 1.5)))).astype(int)
    return pd.DataFrame({"x": x, "bad": bad})


def _plain_psi(expected: np.ndarray, actual: np.ndarray, edges: tuple[float, ...]) -> float:
    bins = [-math.inf, *edges, math.inf]
    total = 0.0
    for lo, hi in pairwise(bins):
        e = ((expected > lo) & (expected <= hi)).mean()
        a = ((actual > lo) & (actual <= hi)).mean()
        if e > 0 and a > 0:
            total += (a - e) * math.log(a / e)
    return total


def _plain_auc(bad: np.ndarray, score: np.ndarray) -> float:
    b, g = score[bad == 1], score[bad == 0]
    return float(((b[:, None] < g[None, :]) + 0.5 * (b[:, None] == g[None, :])).mean())


def test_monitoring_against_plain_references() -> None:
    rng = np.random.default_rng(4)
    parts = [_month(rng, 0.0) for _ in range(4)] + [_month(rng, 0.05), _month(rng, 1.5)]
    frames = [p.assign(as_of=d) for p, d in zip(parts, MONTHS, strict=True)]
    data = pd.concat(frames, ignore_index=True)
    data.loc[data["as_of"] == MONTHS[-1], "bad"] = None  # the latest outcome is not known yet
    train = data[data["as_of"] <= MONTHS[3]]
    model = fit_scorecard(train[["x", "bad"]].astype({"bad": int}), "bad",
                          params=FitParams(max_ratios=0))  # fmt: skip
    frame = pl.from_pandas(data).with_columns(pl.col("bad").cast(pl.Int8))
    got = monitor(model, frame, MONTHS[3], validation_auc=0.95, cfg=CFG)

    scores = model.score(data)
    expected = scores[(data["as_of"] <= MONTHS[3]).to_numpy()]
    for row, month in zip(got["stability"], MONTHS[4:], strict=True):
        actual = scores[(data["as_of"] == month).to_numpy()]
        assert row["score_psi"] == pytest.approx(_plain_psi(expected, actual, model.band_edges))
    assert got["stability"][0]["score_psi"] < CFG.psi_warning_pct / 100  # a small shift
    assert got["stability"][1]["score_psi"] >= CFG.psi_alert_pct / 100  # a large one
    assert [r["month"] for r in got["ranking"]] == [str(m) for m in MONTHS[:5]]
    for row, month in zip(got["ranking"], MONTHS[:5], strict=True):
        mask = (data["as_of"] == month).to_numpy()
        y = data.loc[mask, "bad"].to_numpy().astype(int)
        assert row["auc"] == pytest.approx(_plain_auc(y, scores[mask]))
    alerts = {(a["what"], a["month"], a["level"]) for a in got["alerts"]}
    assert ("score_psi", str(MONTHS[5]), "alert") in alerts
    assert ("psi:x", str(MONTHS[5]), "alert") in alerts
    assert ("score_psi", str(MONTHS[4]), "alert") not in alerts
    # the validation AUC of 0.95 is far above any month's: the post-training month alerts
    assert ("auc", str(MONTHS[4]), "alert") in alerts
    assert not any(a[0] == "auc" and a[1] <= str(MONTHS[3]) for a in alerts)
    # calibration over the judged months after training (month 5 only: month 6 unknown)
    assert sum(c["rows"] for c in got["calibration"]) == 500
