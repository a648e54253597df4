"""The model directory: readable model.json, load → score reproduces the fitted scores."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from postloan.modelling import ModellingError, ScorecardModel, load_model, save_model

from .conftest import credit_table


def test_load_then_score_reproduces_the_fitted_scores_exactly(
    tmp_path: Path, model: ScorecardModel
) -> None:
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    new = credit_table(n=500, seed=21)
    pd.testing.assert_frame_equal(loaded.predict(new), model.predict(new), check_exact=True)
    assert loaded == model


def test_model_json_is_readable_and_complete(tmp_path: Path, model: ScorecardModel) -> None:
    doc = json.loads(save_model(model, tmp_path).read_text("utf-8"))
    assert doc["format"] == "postloan-scorecard" and doc["version"] == 1
    assert (doc["target"], doc["bad_value"], doc["seed"]) == ("bad", None, 42)
    assert doc["features"] == [c["name"] for c in doc["characteristics"]]
    assert set(doc["library_versions"]) >= {"optbinning", "ortools", "scikit-learn"}
    assert set(doc["metrics"]) == {"auc", "ks", "gini"}
    assert doc["scaling"] == {"base_points": 600.0, "base_odds": 50.0, "pdo": 20.0}
    region = next(c for c in doc["characteristics"] if c["name"] == "region")
    assert all({"label", "points", "woe", "count", "categories"} <= set(b) for b in region["bins"])
    income = next(c for c in doc["characteristics"] if c["name"] == "income")
    assert income["bins"][0]["label"].startswith("(-inf, ")
    assert len(income["splits"]) == len(income["bins"]) - 1


def test_unreadable_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModellingError, match=r"no model\.json"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{not json", "utf-8")
    with pytest.raises(ModellingError, match="cannot be read"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "other", "version": 1}', "utf-8")
    with pytest.raises(ModellingError, match="not a postloan-scorecard v1 model"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text('{"format": "postloan-scorecard", "version": 1}')
    with pytest.raises(ModellingError, match="not a complete model"):
        load_model(tmp_path)
