"""Generic modelling machinery: WoE binning, logistic scorecards, metrics, calibration, PSI.

Pure: pandas/polars/numpy in and out — no SQL, no HTTP, no clock. The risk area's behaviour
score and churn propensity build on it, and `postloan model …` exposes it for any table.
See docs/modelling.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from postloan.modelling.calibration import BandCalibration, calibrate
    from postloan.modelling.errors import ModellingError
    from postloan.modelling.fit import FitParams, fit_scorecard
    from postloan.modelling.metrics import auc, gini, ks, psi
    from postloan.modelling.model import Characteristic, ScorecardModel
    from postloan.modelling.model_dir import load_model, save_model
    from postloan.modelling.monitoring import characteristic_psi, score_psi
    from postloan.modelling.scaling import PdoScaling

# Each name is imported from its module on first use (PEP 562): scoring with a stored model
# (`model`, `model_dir`: numpy and pandas) must not pay for optbinning, ortools, scikit-learn
# and scipy, which only fitting and validating need — importing them took 10-14 s of a daily
# run's `risk.behaviour` step on a loaded machine.
_WHERE = {
    "BandCalibration": "calibration", "calibrate": "calibration", "ModellingError": "errors",
    "FitParams": "fit", "fit_scorecard": "fit", "auc": "metrics", "gini": "metrics",
    "ks": "metrics", "psi": "metrics", "Characteristic": "model", "ScorecardModel": "model",
    "load_model": "model_dir", "save_model": "model_dir", "characteristic_psi": "monitoring",
    "score_psi": "monitoring", "PdoScaling": "scaling",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BandCalibration",
    "Characteristic",
    "FitParams",
    "ModellingError",
    "PdoScaling",
    "ScorecardModel",
    "auc",
    "calibrate",
    "characteristic_psi",
    "fit_scorecard",
    "gini",
    "ks",
    "load_model",
    "psi",
    "save_model",
    "score_psi",
]
