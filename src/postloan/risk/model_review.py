"""A model's review pack (EW-2), the report a model committee reads: the registry card, the
score bands, and — for a behaviour model, whose data postloan holds — its monitoring on the
stored history:

- **stability**: per observation month after the training window, the PSI of the score
  against the training months on the model's score bands, and on the latest month the PSI of
  each characteristic on the model's own bins (`postloan.modelling.monitoring`, equal to
  optbinning's on the same bins — tests/modelling);
- **ranking**: AUC and KS per observation month whose outcome window has ended;
- **calibration**: per score band over the months after training with a known outcome, the
  observed bad rate against the model's PD (Jeffreys interval; `postloan.modelling
  .calibration`) — the drift is observed − predicted;
- **alerts** at the policy's thresholds (`risk.models`): PSI ≥ `psi_alert_pct`/100 alert,
  ≥ `psi_warning_pct`/100 warning; a month's AUC `auc_drop_alert_pct` points under the
  validation AUC alert; a band whose PD lies outside its Jeffreys interval warning.

`monitor` is the computation on a frame (pure); `review` reads the store.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection

from postloan.policy import Policy
from postloan.policy.risk import Models
from postloan.risk import registry
from postloan.risk.rules import behaviour as rules


def _alert(level: str, what: str, month: str | None, value: float, threshold: float) -> dict[
    str, Any
]:  # fmt: skip
    return {"level": level, "what": what, "month": month, "value": value,
            "threshold": threshold}  # fmt: skip


def _psi_level(value: float, cfg: Models) -> str | None:
    if value >= cfg.psi_alert_pct / 100:
        return "alert"
    if value >= cfg.psi_warning_pct / 100:
        return "warning"
    return None


def monitor(model: Any, frame: pl.DataFrame, train_until: Any, validation_auc: float | None,
            cfg: Models) -> dict[str, Any]:  # fmt: skip
    """Monitoring of `model` on `frame` (as_of, the model's inputs, `bad`: 0/1, null when the
    outcome is not known yet): rows up to `train_until` are the expected population."""
    from postloan.modelling import auc, calibrate, characteristic_psi, ks, score_psi

    pdf = frame.to_pandas()
    scores = model.score(pdf)
    months = frame["as_of"].to_numpy()
    expected_mask = np.asarray(frame["as_of"] <= train_until)
    expected_scores = scores[expected_mask]
    bad = frame["bad"].to_numpy(allow_copy=True)
    known = ~frame["bad"].is_null().to_numpy()
    alerts: list[dict[str, Any]] = []
    stability, ranking = [], []
    later = sorted({m for m, e in zip(months, expected_mask, strict=True) if not e})
    for month in later:
        mask = months == month
        label = str(month)[:10]
        value = score_psi(expected_scores, scores[mask], model.band_edges)
        stability.append({"month": label, "rows": int(mask.sum()), "score_psi": value})
        level = _psi_level(value, cfg)
        if level:
            alerts.append(_alert(level, "score_psi", label, value, cfg.psi_warning_pct / 100
                                 if level == "warning" else cfg.psi_alert_pct / 100))  # fmt: skip
    for month in sorted(set(months)):
        mask = (months == month) & known
        y = bad[mask].astype(np.int64) if mask.any() else np.empty(0, dtype=np.int64)
        if mask.sum() == 0 or y.min() == y.max():
            continue
        label = str(month)[:10]
        row: dict[str, Any] = {"month": label, "rows": int(mask.sum()), "bads": int(y.sum()),
               "auc": auc(y, scores[mask]), "ks": ks(y, scores[mask]),
               "out_of_training": not bool(expected_mask[mask].all())}  # fmt: skip
        ranking.append(row)
        floor = None if validation_auc is None else validation_auc - cfg.auc_drop_alert_pct / 100
        if row["out_of_training"] and floor is not None and row["auc"] < floor:
            alerts.append(_alert("alert", "auc", label, row["auc"], floor))
    characteristics: list[dict[str, Any]] = []
    if later:
        latest = months == later[-1]
        table = characteristic_psi(model, pdf[expected_mask], pdf[latest])
        for name, value in zip(table["characteristic"], table["psi"], strict=True):
            characteristics.append({"characteristic": name, "psi": float(value)})
            level = _psi_level(float(value), cfg)
            if level:
                alerts.append(_alert(level, f"psi:{name}", str(later[-1])[:10], float(value),
                                     cfg.psi_warning_pct / 100 if level == "warning"
                                     else cfg.psi_alert_pct / 100))  # fmt: skip
    calibration: list[dict[str, Any]] = []
    judged = known & ~expected_mask
    if judged.any():
        bands = model.band_of(scores[judged])
        pds = model.scaling.pd_of(scores[judged])
        for c in calibrate(bands, pds, bad[judged].astype(np.int64)):
            calibration.append({"band": c.band, "rows": c.n, "bads": c.bads,
                                "observed": c.observed, "predicted": c.predicted,
                                "drift": c.observed - c.predicted,
                                "jeffreys_low": c.jeffreys_low, "jeffreys_high": c.jeffreys_high,
                                "binomial_p": c.binomial_p, "passed": c.passed})  # fmt: skip
            if not c.passed:
                alerts.append(_alert("warning", f"calibration:band {c.band}", None,
                                     c.observed, c.predicted))  # fmt: skip
    return {"stability": stability, "characteristics": characteristics, "ranking": ranking,
            "calibration": calibration, "alerts": alerts}  # fmt: skip


def monitoring_frame(conn: Connection, policy: Policy) -> pl.DataFrame:
    """Every monthly snapshot's features with the target where its outcome is known."""
    from postloan.risk import queries
    from postloan.risk.behaviour_queries import feature_frame

    stored = queries.stored_dates(conn)
    snaps = rules.snapshot_dates(stored)
    if not snaps:
        return pl.DataFrame()
    frame, history = feature_frame(conn, snaps, stored)
    known = rules.targets(frame.select("as_of", "customer_id"), history,
                          policy.risk.backtest.bad_min_dpd,
                          policy.risk.models.outcome_months)  # fmt: skip
    # customers already at the bad level are no population to score
    keys = ["as_of", "customer_id"]
    bad_now = history.filter(pl.col("worst_dpd") >= policy.risk.backtest.bad_min_dpd).select(keys)
    return frame.join(bad_now, on=keys, how="anti").join(known, on=keys, how="left")


def review(conn: Connection, policy: Policy, mid: str) -> dict[str, Any]:
    """The review pack of one model (JSON-ready)."""
    from datetime import date

    pack = registry.review(conn, mid)
    found = registry.row(conn, mid)
    pack["monitoring"] = None
    if found.kind != "behaviour" or not found.data_window:
        return pack
    model = registry.stored_model(found)
    frame = monitoring_frame(conn, policy)
    if frame.is_empty():
        return pack
    until = date.fromisoformat(found.data_window.split("..")[1])
    validation = pack["model"]["validation"] or {}
    pack["monitoring"] = monitor(model, frame, until, validation.get("auc"),
                                 policy.risk.models)  # fmt: skip
    return pack
