"""Fitting, scoring, reason codes, bands and determinism of the scorecard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression

from postloan.modelling import Characteristic, ModellingError, ScorecardModel, fit_scorecard
from postloan.modelling.model_dir import to_json

from .conftest import credit_table

FEATURES = ["income", "utilisation", "months_on_book", "region", "channel"]


def library_scorecard(table: pd.DataFrame) -> Scorecard:
    """optbinning configured by hand as the docs describe (not through postloan's code)."""
    x = table[FEATURES]
    sc = Scorecard(
        binning_process=BinningProcess(FEATURES, categorical_variables=["region", "channel"]),
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
    )
    return sc.fit(x, table["bad"].to_numpy())


def test_retraining_on_the_same_data_gives_the_same_model(
    table: pd.DataFrame, model: ScorecardModel
) -> None:
    again = fit_scorecard(table.copy(), "bad")
    assert to_json(again) == to_json(model)  # bins, points, bands, metrics: all of it
    assert np.array_equal(again.score(table), model.score(table))


def test_row_order_does_not_change_the_bins(table: pd.DataFrame, model: ScorecardModel) -> None:
    shuffled = table.sample(frac=1.0, random_state=1).reset_index(drop=True)
    other = fit_scorecard(shuffled, "bad")

    def bins(c: Characteristic) -> tuple[object, ...]:
        return (c.name, c.splits, c.categories, c.counts)

    for a, b in zip(model.characteristics, other.characteristics, strict=True):
        assert bins(a) == bins(b)
        # the regression's sums run in another order: the last bits may differ
        np.testing.assert_allclose(a.points, b.points, rtol=0, atol=1e-6)


def test_scores_and_pd_equal_optbinnings_on_new_data(
    table: pd.DataFrame, plain_model: ScorecardModel
) -> None:
    model = plain_model
    library = library_scorecard(table)
    new = credit_table(n=800, seed=99)
    new.loc[:20, "region"] = "overseas"  # a category never seen in training
    new.loc[21:40, "utilisation"] = np.nan  # missing where training had none
    ours = model.predict(new)
    np.testing.assert_allclose(ours["score"], library.score(new[FEATURES]), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        ours["pd"], library.predict_proba(new[FEATURES])[:, 1], rtol=0, atol=1e-12
    )


def test_numeric_and_categorical_bins_are_readable(plain_model: ScorecardModel) -> None:
    model = plain_model
    kinds = {c.name: c.kind for c in model.characteristics}
    assert kinds == {
        "income": "numerical", "utilisation": "numerical", "months_on_book": "numerical",
        "region": "categorical", "channel": "categorical",
    }  # fmt: skip
    region = next(c for c in model.characteristics if c.name == "region")
    assert sorted(c for group in region.categories for c in group) == [
        "east", "north", "south", "west",
    ]  # fmt: skip
    # the riskiest region (west, +0.9 in the generating model) scores fewest points
    west = next(i for i, g in enumerate(region.categories) if "west" in g)
    assert region.points[west] == min(region.points)


def test_reason_codes_are_the_characteristics_that_lost_most(
    table: pd.DataFrame, model: ScorecardModel
) -> None:
    rows = table.head(200)
    out = model.predict(rows)
    points = model.points(rows)
    names = [c.name for c in model.characteristics]
    for r in range(len(rows)):
        losses = {
            name: max(c.points) - points[r, j]
            for j, (name, c) in enumerate(zip(names, model.characteristics, strict=True))
        }
        ranked = sorted((-loss, names.index(n), n) for n, loss in losses.items() if loss > 0)
        expected = [n for _, _, n in ranked[:3]] + [None] * (3 - min(3, len(ranked)))
        assert [out.loc[r, f"reason_{i}"] for i in (1, 2, 3)] == expected
    # the points add up to the score, and the PD follows from the score
    np.testing.assert_allclose(points.sum(axis=1), out["score"], rtol=0, atol=1e-9)


def test_a_customer_in_every_best_bin_has_no_reason(plain_model: ScorecardModel) -> None:
    model = plain_model  # (a ratio's best bin is not set by choosing its parts' values)
    best = {}
    for c in model.characteristics:
        i = int(np.argmax(c.points))
        if c.categories:
            best[c.name] = c.categories[i][0]
        else:  # a value inside bin i: [splits[i-1], splits[i])
            best[c.name] = c.splits[i - 1] if i > 0 else c.splits[0] - 1.0
    out = model.predict(pd.DataFrame([best]))
    assert out.loc[0, "reason_1"] is None


def test_bands_hold_the_observed_bad_rate(table: pd.DataFrame, model: ScorecardModel) -> None:
    scores = model.score(table)
    edges = model.band_edges
    assert len(edges) == 9 and list(edges) == sorted(edges)
    for b, (rate, count) in enumerate(zip(model.band_pd, model.band_counts, strict=True)):
        low = -np.inf if b == 0 else edges[b - 1]
        high = np.inf if b == len(edges) else edges[b]
        inside = (scores > low) & (scores <= high)
        assert count == inside.sum()
        assert rate == pytest.approx(table["bad"][inside].mean())
    assert model.band_pd[0] > model.band_pd[-1]  # the lowest scores are the riskiest


def test_polars_in_gives_the_same_scores(table: pd.DataFrame, model: ScorecardModel) -> None:
    np.testing.assert_array_equal(model.score(pl.from_pandas(table)), model.score(table))


def test_training_metrics_are_recorded(table: pd.DataFrame, model: ScorecardModel) -> None:
    assert model.metrics["gini"] == pytest.approx(2 * model.metrics["auc"] - 1)
    assert 0.65 < model.metrics["auc"] < 0.95
    assert model.n_rows == len(table) and model.n_bads == table["bad"].sum()


@pytest.mark.parametrize(
    ("change", "target", "bad", "message"),
    [
        (lambda t: t, "outcome", None, "'outcome': target column not in the data"),
        (lambda t: t.assign(bad=0), "bad", None, "single class"),
        (lambda t: t.assign(bad=np.where(t.bad == 1, "B", "G")), "bad", None, "--bad"),
        (lambda t: t.assign(bad=np.where(t.bad == 1, "B", "G")), "bad", "X", "'X' does not occur"),
        (lambda t: t.assign(bad=t.bad * 2), "bad", None, "0 (good) / 1 (bad)"),
        (lambda t: t.assign(bad=t.bad.where(t.index > 5)), "bad", None, "6 row(s) have no target"),
        (lambda t: t.head(0), "bad", None, "no rows"),
        (lambda t: t[["bad"]], "bad", None, "no feature columns"),
    ],
)
def test_bad_input_is_refused_naming_the_reason(
    table: pd.DataFrame, change, target: str, bad: str | None, message: str
) -> None:
    with pytest.raises(ModellingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit_scorecard(change(table), target, bad=bad)


def test_a_text_target_with_its_bad_value(table: pd.DataFrame, model: ScorecardModel) -> None:
    text = table.assign(bad=np.where(table.bad == 1, "B", "G"))
    fitted = fit_scorecard(text, "bad", bad="B")
    np.testing.assert_array_equal(fitted.score(table), model.score(table))


def test_scoring_refuses_missing_columns_and_text_in_numbers(model: ScorecardModel) -> None:
    new = credit_table(n=50, seed=5)
    with pytest.raises(ModellingError, match="missing from the data: region"):
        model.predict(new.drop(columns=["region"]))
    new["income"] = new["income"].astype(object)
    new.loc[3, "income"] = "lots"
    with pytest.raises(ModellingError, match="'income': expected numbers, found 'lots'"):
        model.predict(new)


def test_columns_named_but_absent_are_refused(table: pd.DataFrame) -> None:
    with pytest.raises(ModellingError, match="not in the data: salary"):
        fit_scorecard(table, "bad", exclude=["salary"])
    with pytest.raises(ModellingError, match="not in the data: grade"):
        fit_scorecard(table, "bad", categorical=["grade"])


def test_a_numeric_column_can_be_treated_as_categories(table: pd.DataFrame) -> None:
    coded = table.assign(grade=table["bad"].where(table.index % 4 == 0, 0) + table.index % 3)
    fitted = fit_scorecard(coded, "bad", categorical=["grade"], exclude=["months_on_book"])
    grade = next(c for c in fitted.characteristics if c.name == "grade")
    assert grade.kind == "categorical"
    assert sorted(c for g in grade.categories for c in g) == ["0", "1", "2", "3"]
    assert "months_on_book" not in fitted.features
