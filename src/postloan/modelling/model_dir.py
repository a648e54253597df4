"""The model directory: `model.json`, readable and complete.

Everything needed to score is in the JSON (bins and points per characteristic, the PDO
scaling, the score bands), so loading a model runs no code — there is no pickle — and a
loaded model scores exactly as the fitted one (floats round-trip through JSON exactly).
Alongside: the format version, target and bad value, seed, data window and source, library
versions, fit parameters and training metrics. The format is documented in docs/modelling.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from postloan.modelling.errors import ModellingError
from postloan.modelling.model import Characteristic, ScorecardModel
from postloan.modelling.ratios import Ratio
from postloan.modelling.scaling import PdoScaling

FORMAT = "postloan-scorecard"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"


def _finite(value: float) -> float | None:
    # JSON has no NaN/inf; a metric that could not be computed is null.
    return value if math.isfinite(value) else None


def to_json(model: ScorecardModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "target": model.target,
        "bad_value": model.bad_value,
        "seed": model.seed,
        "data_window": model.data_window,
        "source": model.source,
        "rows": model.n_rows,
        "bads": model.n_bads,
        "features": model.features,
        "inputs": model.inputs,
        "library_versions": model.library_versions,
        "params": model.params,
        "metrics": {k: _finite(v) for k, v in model.metrics.items()},
        "scaling": {
            "base_points": model.scaling.base_points,
            "base_odds": model.scaling.base_odds,
            "pdo": model.scaling.pdo,
        },
        "reasons": model.n_reasons,
        "bands": {
            "edges": list(model.band_edges),
            "pd": list(model.band_pd),
            "counts": list(model.band_counts),
        },
        "characteristics": [
            {
                "name": c.name,
                "kind": c.kind,
                "ratio": None if c.ratio is None else [c.ratio.numerator, c.ratio.denominator],
                "bins": [
                    {
                        "label": label,
                        "points": c.points[i],
                        "woe": c.woe[i] if c.woe else None,
                        "count": c.counts[i] if c.counts else None,
                        "bads": c.bads[i] if c.bads else None,
                        **({"categories": list(c.categories[i])} if c.categories else {}),
                    }
                    for i, label in enumerate(c.labels)
                ],
                "splits": list(c.splits),
                "missing_points": c.missing_points,
                "unknown_points": c.unknown_points,
            }
            for c in model.characteristics
        ],
    }


def from_json(doc: dict[str, Any]) -> ScorecardModel:
    if doc.get("format") != FORMAT or doc.get("version") != FORMAT_VERSION:
        raise ModellingError(
            f"not a {FORMAT} v{FORMAT_VERSION} model "
            f"(format {doc.get('format')!r}, version {doc.get('version')!r})"
        )
    characteristics = tuple(
        Characteristic(
            name=c["name"],
            kind=c["kind"],
            labels=tuple(b["label"] for b in c["bins"]),
            points=tuple(float(b["points"]) for b in c["bins"]),
            missing_points=float(c["missing_points"]),
            unknown_points=float(c["unknown_points"]),
            splits=tuple(float(s) for s in c["splits"]),
            categories=tuple(tuple(b["categories"]) for b in c["bins"] if "categories" in b),
            woe=tuple(float(b["woe"]) for b in c["bins"] if b.get("woe") is not None),
            counts=tuple(int(b["count"]) for b in c["bins"] if b.get("count") is not None),
            bads=tuple(int(b["bads"]) for b in c["bins"] if b.get("bads") is not None),
            ratio=None if c.get("ratio") is None else Ratio(*c["ratio"]),
        )
        for c in doc["characteristics"]
    )
    bands = doc["bands"]
    return ScorecardModel(
        characteristics=characteristics,
        scaling=PdoScaling(**doc["scaling"]),
        target=doc["target"],
        bad_value=doc["bad_value"],
        seed=int(doc["seed"]),
        band_edges=tuple(bands["edges"]),
        band_pd=tuple(bands["pd"]),
        band_counts=tuple(bands["counts"]),
        n_reasons=int(doc["reasons"]),
        metrics={k: (math.nan if v is None else v) for k, v in doc["metrics"].items()},
        params=doc["params"],
        library_versions=doc["library_versions"],
        data_window=doc["data_window"],
        source=doc["source"],
        n_rows=int(doc["rows"]),
        n_bads=int(doc["bads"]),
    )


def save_model(model: ScorecardModel, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    path.write_text(json.dumps(to_json(model), indent=2, ensure_ascii=False) + "\n", "utf-8")
    return path


def load_model(directory: Path) -> ScorecardModel:
    path = directory / MODEL_FILE
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ModellingError(f"no {MODEL_FILE} in {directory}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModellingError(f"{path} cannot be read: {exc}") from None
    try:
        return from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ModellingError):
            raise
        raise ModellingError(f"{path} is not a complete model: {exc!r}") from None
