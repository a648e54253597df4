"""Generic modelling machinery: WoE binning, logistic scorecards, metrics, calibration, PSI.

Pure: pandas/polars/numpy in and out — no SQL, no HTTP, no clock. The risk area's behaviour
score and churn propensity build on it, and `postloan model …` exposes it for any table.
See docs/modelling.md.
"""

from postloan.modelling.calibration import BandCalibration, calibrate
from postloan.modelling.errors import ModellingError
from postloan.modelling.fit import FitParams, fit_scorecard
from postloan.modelling.metrics import auc, gini, ks, psi
from postloan.modelling.model import Characteristic, ScorecardModel
from postloan.modelling.model_dir import load_model, save_model
from postloan.modelling.monitoring import characteristic_psi, score_psi
from postloan.modelling.scaling import PdoScaling

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
