"""A fitted scorecard in readable form, and scoring with it.

The model is its table: per characteristic the bins (numeric split points or category groups)
and the points of each bin, plus the PDO scaling. Scoring looks each value's bin up and adds
the points, so a model read back from `model.json` scores exactly as the fitted one — no
binary, nothing executed on load. `fit.fit_scorecard` checks at fit time that this table
reproduces optbinning's own scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from postloan.modelling.frames import NUMERICAL, as_pandas, typed_features
from postloan.modelling.ratios import Ratio, ratio_values
from postloan.modelling.scaling import PdoScaling


@dataclass(frozen=True)
class Characteristic:
    """One model input. Numeric bin i is [splits[i-1], splits[i]) (optbinning's convention);
    categorical bin i is the category group `categories[i]`. A missing value scores
    `missing_points`; a category never seen in training scores `unknown_points` (optbinning
    gives both WoE 0, i.e. average risk)."""

    name: str
    kind: str  # frames.NUMERICAL | frames.CATEGORICAL
    labels: tuple[str, ...]
    points: tuple[float, ...]
    missing_points: float
    unknown_points: float
    splits: tuple[float, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    woe: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()
    bads: tuple[int, ...] = ()
    ratio: Ratio | None = None  # a derived characteristic: numerator / denominator

    @property
    def inputs(self) -> dict[str, str]:
        """The input columns it reads, with their kinds."""
        if self.ratio is None:
            return {self.name: self.kind}
        return {self.ratio.numerator: NUMERICAL, self.ratio.denominator: NUMERICAL}

    @property
    def n_bins(self) -> int:
        """Regular bins; index n_bins is "missing", n_bins + 1 "unknown category"."""
        return len(self.points)

    @property
    def best_points(self) -> float:
        return max(self.points)

    def bin_index(self, values: pd.Series) -> npt.NDArray[np.int64]:
        missing = values.isna().to_numpy()
        if self.kind == NUMERICAL:
            x = values.to_numpy(dtype=np.float64)
            idx = np.digitize(np.where(missing, 0.0, x), np.asarray(self.splits), right=False)
        else:
            lookup = {c: i for i, group in enumerate(self.categories) for c in group}
            unknown = self.n_bins + 1
            # a hash look-up per distinct value (pandas' indexer), not a Python loop per row
            codes = pd.Index(list(lookup)).get_indexer(values.to_numpy())
            bins = np.append(np.fromiter(lookup.values(), np.int64, len(lookup)), unknown)
            idx = bins[codes]  # get_indexer gives -1 for a value not found: the unknown bin
        return np.where(missing, self.n_bins, idx).astype(np.int64)

    def points_of(self, index: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        table = np.asarray([*self.points, self.missing_points, self.unknown_points])
        return table[index]


@dataclass(frozen=True)
class ScorecardModel:
    characteristics: tuple[Characteristic, ...]
    scaling: PdoScaling
    target: str
    bad_value: str | None
    seed: int
    band_edges: tuple[float, ...]  # score bands (a, b]: band 0 holds the lowest scores
    band_pd: tuple[float, ...]  # observed bad rate per band in the training data
    band_counts: tuple[int, ...]
    n_reasons: int = 3
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)
    data_window: str | None = None
    source: dict[str, Any] | None = None
    n_rows: int = 0
    n_bads: int = 0

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.characteristics]

    @property
    def inputs(self) -> dict[str, str]:
        """The columns scoring reads (a ratio's parts, not the ratio), with their kinds."""
        out: dict[str, str] = {}
        for c in self.characteristics:
            out.update(c.inputs)
        return out

    def model_frame(self, frame: Any) -> pd.DataFrame:
        """Every characteristic's values: the inputs typed, the ratios derived."""
        typed = typed_features(as_pandas(frame), self.inputs)
        for c in self.characteristics:
            if c.ratio is not None:
                typed[c.name] = ratio_values(typed, c.ratio)
        return typed

    def bin_indices(self, frame: Any) -> dict[str, npt.NDArray[np.int64]]:
        values = self.model_frame(frame)
        return {c.name: c.bin_index(values[c.name]) for c in self.characteristics}

    def points(self, frame: Any) -> npt.NDArray[np.float64]:
        """Rows × characteristics matrix of points."""
        indices = self.bin_indices(frame)
        columns = [c.points_of(indices[c.name]) for c in self.characteristics]
        return np.column_stack(columns) if columns else np.zeros((len(as_pandas(frame)), 0))

    def score(self, frame: Any) -> npt.NDArray[np.float64]:
        return self.points(frame).sum(axis=1)

    def band_of(self, scores: npt.ArrayLike) -> npt.NDArray[np.int64]:
        return np.digitize(np.asarray(scores, dtype=np.float64), self.band_edges, right=True)

    def predict(self, frame: Any, n_reasons: int | None = None) -> pd.DataFrame:
        """One row per input row, in input order: score, pd (from the score through the
        scaling), band, band_pd, and the reason codes reason_1..reason_k."""
        points = self.points(frame)
        scores = points.sum(axis=1)
        bands = self.band_of(scores)
        out = pd.DataFrame(
            {
                "score": scores,
                "pd": self.scaling.pd_of(scores),
                "band": bands,
                "band_pd": np.asarray(self.band_pd)[bands],
            }
        )
        k = self.n_reasons if n_reasons is None else n_reasons
        for i, column in enumerate(reason_codes(self.characteristics, points, k).T):
            # object dtype: "no reason" stays None (pandas would make text columns NaN)
            out[f"reason_{i + 1}"] = pd.Series(column, dtype=object)
        return out


def reason_codes(
    characteristics: tuple[Characteristic, ...], points: npt.NDArray[np.float64], k: int
) -> npt.NDArray[np.object_]:
    """Rows × k names of the characteristics that lost most points against their best bin,
    largest loss first (ties: model order); None where fewer than k lost anything."""
    n, m = points.shape
    k = min(k, m)
    best = np.asarray([c.best_points for c in characteristics])
    lost = best[None, :] - points
    order = np.argsort(-lost, axis=1, kind="stable")[:, :k]
    names = np.asarray([c.name for c in characteristics], dtype=object)
    chosen = names[order]
    chosen[np.take_along_axis(lost, order, axis=1) <= 0] = None
    return chosen if k else np.empty((n, 0), dtype=object)
