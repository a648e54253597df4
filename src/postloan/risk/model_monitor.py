"""A registered model's card and its monitoring over the stored dates it scored (EW-2) — what the
model page `/risk/models/{id}` and `GET /api/risk/models/{id}/monitoring` show.

- **Card** (`card`): the registry's row (kind, purpose, data window, the measured metrics and
  validation, who registered, validated, approved and retired it and when) and the model's own
  table — every characteristic with its bins, points and development counts, the score bands.
- **Monitoring** (`monitoring`): read from what the daily run's `risk.behaviour` step stored
  with this model — `risk_behaviour_scores` (the band of each scored customer, its PD) and
  `risk_behaviour_bins` (each characteristic's bin counts per date) — so nothing is re-scored
  and no feature is recomputed: grouped queries only — the band counts per date, the bin
  counts, and the judged rows of the months whose outcome is observable counted per (month,
  band, score, bad) by the database (`monitor_queries`) — whence the bad rates per band and,
  per scored month, the PSI, AUC, KS and calibration table (`rules.monitoring`). A model that
  never scored (a draft, a churn or generic model) has an empty monitoring.

The full review pack (`model_review.review`) also covers months the model did not score and
the training-window PSI; it rebuilds the whole history's features (the CLI and the API, not a
page).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, select

from postloan.policy import Policy
from postloan.risk import monitor_queries, queries, registry
from postloan.risk.behaviour_tables import risk_behaviour_bins, risk_behaviour_scores
from postloan.risk.rules import behaviour as behaviour_rules
from postloan.risk.rules import monitoring as rules
from postloan.store.values import as_date, rows_frame

BANDS = {"as_of": pl.Date, "band": pl.Int64, "customers": pl.Int64}
BINS = {"as_of": pl.Date, "characteristic": pl.String, "bin": pl.Int64, "customers": pl.Int64}


def card(conn: Connection, mid: str) -> dict[str, Any]:
    """The registry's row and the model's table (characteristics with bins and points)."""
    found = registry.row(conn, mid)
    model = registry.stored_model(found)
    stored = json.loads(found.model_json)
    development = rules.development_bins(model)
    characteristics = []
    for c in model.characteristics:
        counts = development[c.name]
        bins = [{"label": label, "points": c.points[i], "woe": c.woe[i] if c.woe else None,
                 "development_customers": counts[i],
                 "development_bads": c.bads[i] if c.bads else None}
                for i, label in enumerate(c.labels)]  # fmt: skip
        bins.append(
            {
                "label": "missing",
                "points": c.missing_points,
                "woe": None,
                "development_customers": counts[c.n_bins],
                "development_bads": None,
            }
        )
        characteristics.append({"name": c.name, "kind": c.kind,
                                "ratio": None if c.ratio is None
                                else [c.ratio.numerator, c.ratio.denominator],
                                "bins": bins, "unknown_points": c.unknown_points})  # fmt: skip
    return {
        **registry.describe(found),
        "development_rows": model.n_rows, "development_bads": model.n_bads,
        "scaling": stored.get("scaling"), "training_metrics": stored.get("metrics", {}),
        "characteristics": characteristics,
        "bands": registry.review(conn, mid)["bands"],
    }  # fmt: skip


def _bands(conn: Connection, mid: str) -> pl.DataFrame:
    s = risk_behaviour_scores
    rows = conn.execute(
        select(s.c.as_of, s.c.band, func.count())
        .where(s.c.model_id == mid).group_by(s.c.as_of, s.c.band)
    ).all()  # fmt: skip
    return rows_frame([(as_date(r[0]), int(r[1]), int(r[2])) for r in rows], BANDS)


def _bins(conn: Connection, mid: str) -> pl.DataFrame:
    b = risk_behaviour_bins
    rows = conn.execute(
        select(b.c.as_of, b.c.characteristic, b.c.bin, b.c.customers).where(b.c.model_id == mid)
    ).all()
    return rows_frame([(as_date(r[0]), r[1], int(r[2]), int(r[3])) for r in rows], BINS)


def _judged(conn: Connection, policy: Policy, mid: str, scored_dates: list[Any]
            ) -> tuple[pl.DataFrame, dict[Any, bool], str | None]:  # fmt: skip
    """The judged rows counted per (month, band, score, bad) by the database
    (`monitor_queries`), per scored month whether its outcome is observable, and the latest
    judged date."""
    cfg = policy.risk
    stored = queries.stored_dates(conn)
    if not stored or not scored_dates:
        return pl.DataFrame(schema=monitor_queries.GROUPED), {}, None
    last, months = stored[-1], cfg.models.outcome_months
    seen = {d.replace(day=1): monitor_queries.observable(d, last, months) for d in scored_dates}
    grouped = monitor_queries.judged_outcomes(
        conn,
        mid,
        scored_dates,
        behaviour_rules.snapshot_dates(stored),
        last,
        months,
        cfg.backtest.bad_min_dpd,
    )
    known = [d for d in scored_dates if monitor_queries.observable(d, last, months)]
    return grouped, seen, known[-1].isoformat() if known else None


def monitoring(conn: Connection, policy: Policy, mid: str) -> dict[str, Any]:
    """The model's stability on every stored date it scored and its bad rates per band where
    the outcome is known (JSON-ready)."""
    found = registry.row(conn, mid)
    model = registry.stored_model(found)
    cfg = policy.risk.models
    warning, alert = cfg.psi_warning_pct / 100, cfg.psi_alert_pct / 100
    score = rules.score_stability(model, _bands(conn, mid), warning, alert)
    chars = {r["as_of"]: r["characteristics"]
             for r in rules.characteristic_stability(model, _bins(conn, mid), warning,
                                                     alert)}  # fmt: skip
    dates = [{**r, "as_of": r["as_of"].isoformat(), "characteristics": chars.get(r["as_of"], [])}
             for r in score]  # fmt: skip
    grouped, seen, judged_until = _judged(conn, policy, mid, [r["as_of"] for r in score])
    return {
        "model_id": mid,
        "thresholds": {"warning": warning, "alert": alert},
        "outcome_months": cfg.outcome_months,
        "bad_min_dpd": policy.risk.backtest.bad_min_dpd,
        "dates": dates,
        "judged_until": judged_until,
        "judged_customers": int(grouped["customers"].sum()),
        "bands": rules.band_outcomes(model, grouped),
        "months": rules.months(model, score, grouped, seen, warning, alert),
    }
