"""Fitting a scorecard: optbinning's WoE binning and `Scorecard` over a logistic regression.

The library does the work (optimal binning by constraint programming, WoE, the regression,
PDO points); this module types the input, seeds what has a seed, and turns the fitted
library objects into the readable `ScorecardModel` — then checks that the readable form
scores every training row as the library does, so `model.json` is never a lossy copy.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from optbinning import BinningProcess, Scorecard
from sklearn.linear_model import LogisticRegression

from postloan.modelling.errors import ModellingError
from postloan.modelling.frames import (
    NUMERICAL,
    as_pandas,
    binary_target,
    feature_kinds,
    typed_features,
)
from postloan.modelling.metrics import auc, gini, ks
from postloan.modelling.model import Characteristic, ScorecardModel
from postloan.modelling.ratios import Ratio, ratio_values, search_ratios
from postloan.modelling.scaling import PdoScaling

LIBRARIES = ("optbinning", "ortools", "scikit-learn", "scipy", "numpy", "pandas")
# The readable table must reproduce the library's scores; float sums in another order may
# differ in the last bits, nothing more.
SELF_CHECK_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FitParams:
    """Binning and regression settings (defaults chosen on the public benchmark,
    benchmarks/RESULTS.md). `monotonic_trend` applies to numeric columns: "auto" lets
    optbinning pick ascending, descending, peak or valley; categories are ordered by risk."""

    max_n_prebins: int = 20
    min_prebin_size: float = 0.05
    monotonic_trend: str = "auto"
    min_bin_size: float | None = None
    regularisation_c: float = 1.0  # scikit-learn's C: inverse L2 strength
    max_ratios: int = 3  # ratio characteristics a/b to add (ratios.py); 0: none
    min_ratio_gain: float = 0.08  # information value a ratio must add over both its parts
    n_bands: int = 10  # score bands for PD per band (training-score quantiles)
    n_reasons: int = 3
    seed: int = 42


def _versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            out[name] = "unknown"
    return out


def _numeric_binning(params: FitParams) -> dict[str, object]:
    out: dict[str, object] = {"monotonic_trend": params.monotonic_trend}
    if params.min_bin_size is not None:
        out["min_bin_size"] = params.min_bin_size
    return out


def _library_scorecard(kinds: dict[str, str], params: FitParams, scaling: PdoScaling) -> Scorecard:
    numeric_fit = _numeric_binning(params)
    process = BinningProcess(
        variable_names=list(kinds),
        categorical_variables=[c for c, k in kinds.items() if k != NUMERICAL],
        max_n_prebins=params.max_n_prebins,
        min_prebin_size=params.min_prebin_size,
        binning_fit_params={c: numeric_fit for c, k in kinds.items() if k == NUMERICAL},
    )
    # lbfgs is deterministic; random_state seeds the solvers that are not.
    estimator = LogisticRegression(
        C=params.regularisation_c, max_iter=1000, random_state=params.seed
    )
    return Scorecard(
        binning_process=process,
        estimator=estimator,
        scaling_method="pdo_odds",
        scaling_method_params={
            "pdo": scaling.pdo,
            "odds": scaling.base_odds,
            "scorecard_points": scaling.base_points,
        },
    )


def _characteristics(
    fitted: Scorecard, kinds: dict[str, str], ratios: dict[str, Ratio]
) -> tuple[Characteristic, ...]:
    table = fitted.table(style="detailed")
    out = []
    for name in table["Variable"].unique():
        rows = table[table["Variable"] == name].reset_index(drop=True)
        binned = fitted.binning_process_.get_binned_variable(name)
        kind = kinds[name]
        splits: tuple[float, ...] = ()
        categories: tuple[tuple[str, ...], ...] = ()
        if kind == NUMERICAL:
            splits = tuple(float(s) for s in binned.splits)
            n_bins = len(splits) + 1
        else:
            categories = tuple(tuple(str(c) for c in group) for group in binned.splits)
            n_bins = len(categories)
        # The table lists the regular bins in order, then "Special" and "Missing" (a bin's
        # cell is a label for numeric bins, an array of categories for categorical ones).
        regular = rows.iloc[:n_bins]
        missing = rows[[isinstance(b, str) and b == "Missing" for b in rows["Bin"]]]
        if kind == NUMERICAL:
            labels = tuple(str(b) for b in regular["Bin"])
        else:
            labels = tuple(", ".join(group) for group in categories)
        points = tuple(float(p) for p in regular["Points"])
        missing_points = float(missing["Points"].iloc[0])
        if len(missing) != 1 or any(
            isinstance(b, str) and b in ("Special", "Missing") for b in regular["Bin"]
        ):
            raise RuntimeError(f"optbinning's table for {name} does not match its bins")
        out.append(
            Characteristic(
                name=str(name),
                kind=kind,
                labels=labels,
                points=points,
                missing_points=missing_points,
                # optbinning scores an unseen category at WoE 0, like a missing value
                unknown_points=missing_points,
                splits=splits,
                categories=categories,
                woe=tuple(float(w) for w in regular["WoE"]),
                counts=tuple(int(n) for n in regular["Count"]),
                bads=tuple(int(n) for n in regular["Event"]),
                ratio=ratios.get(str(name)),
            )
        )
    return tuple(out)


def _bands(
    scores: npt.NDArray[np.float64], y: npt.NDArray[np.int8], n_bands: int
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...]]:
    """Quantile bands of the training scores, (a, b], and their observed bad rates."""
    inner = np.quantile(scores, np.linspace(0, 1, n_bands + 1)[1:-1])
    edges = np.unique(inner)
    band = np.digitize(scores, edges, right=True)
    counts = np.bincount(band, minlength=len(edges) + 1)
    bads = np.bincount(band, weights=y, minlength=len(edges) + 1)
    rates = np.divide(bads, counts, out=np.zeros(len(counts)), where=counts > 0)
    return (
        tuple(float(e) for e in edges),
        tuple(float(r) for r in rates),
        tuple(int(c) for c in counts),
    )


def fit_scorecard(
    frame: Any,
    target: str,
    *,
    bad: str | None = None,
    features: Sequence[str] | None = None,
    exclude: Iterable[str] = (),
    categorical: Iterable[str] = (),
    params: FitParams | None = None,
    scaling: PdoScaling | None = None,
    data_window: str | None = None,
    source: dict[str, Any] | None = None,
) -> ScorecardModel:
    """Fit a WoE logistic scorecard of `target` (bad = 1) on `frame`'s other columns (or
    `features`). Same data and parameters → the same model, bin for bin and point for point."""
    params = params or FitParams()
    scaling = scaling or PdoScaling()
    df = as_pandas(frame)
    if len(df) == 0:
        raise ModellingError("the data has no rows")
    y = binary_target(df, target, bad)
    exclude, categorical = list(exclude), list(categorical)
    unknown = [c for c in [*exclude, *categorical, *(features or ())] if c not in df.columns]
    if unknown:
        raise ModellingError(f"column(s) named but not in the data: {', '.join(unknown)}")
    skip = {target, *exclude}
    columns = [c for c in (features if features is not None else df.columns) if c not in skip]
    if not columns:
        raise ModellingError("no feature columns besides the target")
    kinds = feature_kinds(df, [str(c) for c in columns], categorical)
    x = typed_features(df, kinds).reset_index(drop=True)
    binning = {
        "max_n_prebins": params.max_n_prebins,
        "min_prebin_size": params.min_prebin_size,
        **_numeric_binning(params),
    }
    found = search_ratios(
        x,
        y,
        [c for c, k in kinds.items() if k == NUMERICAL],
        max_ratios=params.max_ratios,
        min_gain=params.min_ratio_gain,
        binning=binning,
    )
    for ratio in found:
        x[ratio.name] = ratio_values(x, ratio)
        kinds[ratio.name] = NUMERICAL
    library = _library_scorecard(kinds, params, scaling)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning's solver chatter; failures still raise
        library.fit(x, y)
    characteristics = _characteristics(library, kinds, {r.name: r for r in found})
    partial = ScorecardModel(characteristics, scaling, target, bad, params.seed, (), (0.0,), ())
    scores = partial.score(x)
    drift = float(np.max(np.abs(scores - library.score(x))))
    if drift > SELF_CHECK_TOLERANCE:
        raise RuntimeError(f"readable scorecard differs from optbinning's by {drift}")
    edges, band_pd, band_counts = _bands(scores, y, params.n_bands)
    return ScorecardModel(
        characteristics=characteristics,
        scaling=scaling,
        target=target,
        bad_value=bad,
        seed=params.seed,
        band_edges=edges,
        band_pd=band_pd,
        band_counts=band_counts,
        n_reasons=params.n_reasons,
        metrics={"auc": auc(y, scores), "ks": ks(y, scores), "gini": gini(y, scores)},
        params=asdict(params),
        library_versions=_versions(),
        data_window=data_window,
        source=source,
        n_rows=len(df),
        n_bads=int(y.sum()),
    )


def training_frame(frame: Any, model: ScorecardModel) -> pd.DataFrame:
    """`frame`'s model columns typed as the model types them (for monitoring against it)."""
    return model.model_frame(frame)
