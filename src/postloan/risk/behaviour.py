"""The behaviour scorecard (RK-2) on postloan's own history: its training data, its fit with
an out-of-time validation, and the daily run's scoring with the approved model.

- **Training data** (`training_data`): every month's snapshot (`rules.behaviour
  .snapshot_dates`) is an observation date; each customer with status on it is a row with the
  characteristics (`rules.behaviour.features`) and the target "worst DPD reaches
  `risk.backtest.bad_min_dpd` within `risk.models.outcome_months`" — rows whose outcome
  window the history does not cover yet are left out.
- **Fit** (`fit_behaviour`): the latest `risk.models.out_of_time_months` observation months
  are held out; the scorecard is fitted on the months before (`postloan.modelling`, seeded) and
  its AUC, KS and Gini on the held-out months are recorded in the model as `oot_auc`, `oot_ks`,
  `oot_gini` (with `oot_rows`, `oot_bads`) for whoever fitted it to read. The registry does not
  take them from the file: it measures them itself on the store (`measure_on_history`).
- **Scoring** (`run_behaviour`, the daily step `risk.behaviour`): only the approved behaviour
  model of the registry scores; each score row names its model id. No approved model: no
  scores (rows from the run's first date are removed, as for every derived table). Each score
  carries its EAD, LGD (from the recovery history on the monthly snapshots), expected loss and
  the classification matrix's class, never better than the five-category floor
  (`rules.expected_loss`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection

from postloan.area import StepContext
from postloan.errors import ConflictError
from postloan.modelling.model import ScorecardModel
from postloan.policy import Policy
from postloan.risk import behaviour_queries as bq
from postloan.risk import queries, registry
from postloan.risk.rules import behaviour as rules
from postloan.risk.rules import expected_loss

TARGET = "bad"
KIND = "behaviour"
N_REASONS = 3
MAX_CHURN_MONTHS = 24


def training_data(conn: Connection, policy: Policy) -> pl.DataFrame:
    """(as_of, customer_id, the FEATURES, bad) for every observation with a known outcome."""
    stored = queries.stored_dates(conn)
    snaps = rules.snapshot_dates(stored)
    if not snaps:
        return pl.DataFrame()
    frame, history = bq.feature_frame(conn, snaps, stored)
    known = rules.targets(frame.select("as_of", "customer_id"), history,
                          policy.risk.backtest.bad_min_dpd,
                          policy.risk.models.outcome_months)  # fmt: skip
    return frame.join(known, on=["as_of", "customer_id"]).sort("as_of", "customer_id")


def _window(frame: pl.DataFrame) -> str:
    days = frame["as_of"]
    return f"{days.min()!s}..{days.max()!s}"


def churn_training_data(conn: Connection, months: int) -> pl.DataFrame:
    """Churn propensity (issue 13 item 3): the behaviour characteristics of every snapshot's
    customers not identified as churned, with `bad` = identified by the churn area (any rule
    of the contract) on a snapshot within `months` months."""
    stored = queries.stored_dates(conn)
    snaps = rules.snapshot_dates(stored)
    if not snaps:
        return pl.DataFrame()
    frame, _ = bq.feature_frame(conn, snaps, stored)
    known = rules.churn_targets(frame.select("as_of", "customer_id"),
                                bq.churn_identified(conn, snaps), stored[-1], months)  # fmt: skip
    return frame.join(known, on=["as_of", "customer_id"]).sort("as_of", "customer_id")


def fit_churn(data: pl.DataFrame, policy: Policy, months: int, seed: int = 42) -> ScorecardModel:
    """The churn propensity scorecard for a `months`-month horizon, out-of-time validated."""
    return fit_behaviour(data, policy, seed,
                         {"target": f"identified as churned within {months} months",
                          "churn_months": months})  # fmt: skip


def fit_behaviour(
    data: pl.DataFrame, policy: Policy, seed: int = 42, about: dict[str, Any] | None = None
) -> ScorecardModel:
    """Fit on the observation months before the out-of-time ones; record the out-of-time
    metrics in the model. Raises `postloan.modelling.ModellingError` when the data cannot be
    modelled (no rows, one class only)."""
    from postloan.modelling import FitParams, fit_scorecard

    held = rules.out_of_time(data, policy.risk.models.out_of_time_months)
    train, oot = data.filter(~held), data.filter(held)
    columns = [*rules.FEATURES, TARGET]
    model = fit_scorecard(
        train.select(columns).to_pandas(), TARGET, params=FitParams(seed=seed),
        data_window=_window(train) if train.height else None,
        source={"data": "postloan account status history", "rows": train.height,
                "out_of_time": _window(oot) if oot.height else None,
                **(about or {"outcome_months": policy.risk.models.outcome_months,
                             "bad_min_dpd": policy.risk.backtest.bad_min_dpd})},
    )  # fmt: skip
    metrics = dict(model.metrics)
    if oot.height and 0 < int(oot[TARGET].sum()) < oot.height:
        measured = registry.measure(model, oot.select(columns).to_pandas())
        metrics.update({f"oot_{k}": float(measured[k])
                        for k in ("auc", "ks", "gini", "rows", "bads")})  # fmt: skip
    return replace(model, metrics=metrics)


def _window_of(model: ScorecardModel) -> tuple[date, date] | None:
    text = model.data_window or ""
    first, sep, last = text.partition("..")
    try:
        return (date.fromisoformat(first), date.fromisoformat(last)) if sep else None
    except ValueError:
        return None


def check_measurable(policy: Policy, model: ScorecardModel, kind: str) -> tuple[date, date]:
    """What can be checked without reading the history (cheap: a request may do it): the
    model records its training window, a churn model its horizon, a behaviour model the
    target the policy measures. Returns the training window; `ConflictError` otherwise."""
    window = _window_of(model)
    if window is None:
        raise ConflictError("the model records no training window (data_window 'from..to'): "
                            "validate it on held-out data (--data)")  # fmt: skip
    about = model.source or {}
    if kind == "churn":
        months = about.get("churn_months")
        if not isinstance(months, int) or not 1 <= months <= MAX_CHURN_MONTHS:
            raise ConflictError("the churn model does not record its horizon (churn_months): "
                                "validate it on held-out data (--data)")  # fmt: skip
        return window
    cfg = policy.risk
    for key, value in (("outcome_months", cfg.models.outcome_months),
                       ("bad_min_dpd", cfg.backtest.bad_min_dpd)):  # fmt: skip
        if about.get(key, value) != value:
            raise ConflictError(f"the model was fitted with {key} {about.get(key)}, the "
                                f"policy says {value}: not the target measured here")  # fmt: skip
    return window


def _history_data(conn: Connection, policy: Policy, model: ScorecardModel,
                  kind: str) -> pl.DataFrame:  # fmt: skip
    if kind == "churn":
        return churn_training_data(conn, int((model.source or {})["churn_months"]))
    return training_data(conn, policy)


def measure_on_history(
    conn: Connection, policy: Policy, model: ScorecardModel, kind: str
) -> dict[str, Any]:
    """A behaviour or churn model's out-of-time metrics measured on the store's own history —
    never the figures its file states. The observations are rebuilt as the fit built them;
    first the model's training window must reproduce the rows, bads and band counts the
    model records (else it was not fitted on this history as it says, and is refused); then
    the observation months after that window with a known outcome are scored: rows, bads,
    AUC, KS, Gini, the score's PSI against training, and the training window's AUC and KS.
    Portfolio-wide: the CLI and the validation job run it (`risk.validation_jobs`), never a
    request."""
    first, last = check_measurable(policy, model, kind)
    data = _history_data(conn, policy, model, kind)
    if data.is_empty():
        raise ConflictError("the store has no history with a known outcome to validate on")
    train = data.filter(pl.col("as_of").is_between(first, last))
    oot = data.filter(pl.col("as_of") > last)
    if train.height:
        bands = np.bincount(model.band_of(model.score(train.to_pandas())),
                            minlength=len(model.band_counts))  # fmt: skip
        same = (train.height == model.n_rows and int(train[TARGET].sum()) == model.n_bads
                and tuple(int(n) for n in bands) == tuple(model.band_counts))  # fmt: skip
    else:
        same = False
    if not same:
        raise ConflictError(f"the model's training window {model.data_window} does not "
                            "reproduce the rows, bads and band counts it records: it was not "
                            "fitted on this store's history as it says")  # fmt: skip
    if oot.is_empty() or int(oot[TARGET].sum()) in (0, oot.height):
        raise ConflictError("no out-of-time months with both outcomes after the model's "
                            f"training window {model.data_window} yet")  # fmt: skip
    measured = registry.measure(model, oot.to_pandas())
    trained = registry.measure(model, train.to_pandas())
    return {
        **measured, "source": "store_history", "kind": kind,
        "window": f"{oot['as_of'].min()!s}..{oot['as_of'].max()!s}",
        "training_auc": trained["auc"], "training_ks": trained["ks"],
    }  # fmt: skip


def scores_of(frame: pl.DataFrame, model_id: str, model: ScorecardModel) -> pl.DataFrame:
    """Score rows (as_of, customer_id, model_id, score, pd, band, reason_1..3) of a feature
    frame: the model's predictions, vectorised."""
    if frame.is_empty():
        return pl.DataFrame()
    predicted = model.predict(frame.select(rules.FEATURES).to_pandas(), n_reasons=N_REASONS)
    reasons: dict[str, Any] = {}
    for i in range(1, N_REASONS + 1):
        column = predicted.get(f"reason_{i}")
        values = [None] * frame.height if column is None else column.tolist()
        reasons[f"reason_{i}"] = pl.Series(values, dtype=pl.String)
    return frame.select("as_of", "customer_id").with_columns(
        model_id=pl.lit(model_id),
        score=pl.Series(np.asarray(predicted["score"], dtype=np.float64)),
        pd=pl.Series(np.asarray(predicted["pd"], dtype=np.float64)),
        band=pl.Series(np.asarray(predicted["band"], dtype=np.int64)),
        **reasons,
    )


def bin_counts_of(frame: pl.DataFrame, model_id: str, model: ScorecardModel) -> pl.DataFrame:
    """(as_of, model_id, characteristic, bin, customers): how many rows of a feature frame fall
    in each bin of each characteristic (`Characteristic.bin_index`), per date — what the
    monitoring page compares with the development sample. One bincount per characteristic
    (a column of the model), grouped by date in polars: no loop over customers."""
    schema = {"as_of": pl.Date, "model_id": pl.String, "characteristic": pl.String,
              "bin": pl.Int64, "customers": pl.Int64}  # fmt: skip
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    indices = model.bin_indices(frame.select(rules.FEATURES).to_pandas())
    binned = frame.select("as_of").with_columns(
        **{f"_b{i}": pl.Series(indices[c.name]) for i, c in enumerate(model.characteristics)}
    )
    names = {f"_b{i}": c.name for i, c in enumerate(model.characteristics)}
    return (
        binned.unpivot(index="as_of", variable_name="characteristic", value_name="bin")
        .group_by("as_of", "characteristic", "bin")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
        .with_columns(pl.col("characteristic").replace_strict(names),
                      model_id=pl.lit(model_id), bin=pl.col("bin").cast(pl.Int64))
        .select(list(schema))
        .sort("as_of", "characteristic", "bin")
    )  # fmt: skip


def run_behaviour(ctx: StepContext) -> None:
    conn = ctx.conn
    approved = registry.approved_model(conn, KIND)
    if not ctx.dates or approved is None:
        bq.replace_scores(conn, ctx.first, pl.DataFrame())
        return
    model_id, model = approved
    stored = queries.stored_dates(conn)
    frame, _ = bq.feature_frame(conn, ctx.dates, stored, queries.frames_for(ctx))
    scored = scores_of(frame, model_id, model)
    bins = bin_counts_of(frame, model_id, model)
    cfg = ctx.policy.risk.models
    snaps = rules.snapshot_dates([d for d in stored if d <= ctx.dates[-1]])
    defaults, recoveries = bq.default_history(conn, snaps, ctx.policy.risk.backtest.bad_min_dpd)
    lgd = expected_loss.lgd_by_type(defaults, recoveries, cfg)
    priced = expected_loss.expected_loss(scored, bq.exposures(conn, ctx.dates), lgd, cfg)
    bq.replace_scores(conn, ctx.first, priced.with_columns(run_id=pl.lit(ctx.run_id)),
                      bins.with_columns(run_id=pl.lit(ctx.run_id)))  # fmt: skip
