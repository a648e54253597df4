"""A registered model's monitoring over the dates it scored (EW-2), pure: the stored scores' and
bins' counts in, the figures out (`risk.model_monitor` reads them from the store).

- **Score stability** per scored date: the PSI of the customers' score bands on that date
  against the development sample's band counts recorded in the model (`bands.counts`; the bands
  are (a, b] on the model's edges, so this equals `modelling.monitoring.score_psi` on the
  training scores).
- **Characteristic stability** per scored date and characteristic: the PSI of the customers'
  bins against the development sample's bin counts recorded in the model — the regular bins'
  `count`, the "missing" bin holding the development rows no regular bin holds, the "unknown
  category" bin none (unseen in training by definition).
- **Traffic light** at the policy's thresholds: `alert` at PSI ≥ `psi_alert_pct`/100,
  `warning` at ≥ `psi_warning_pct`/100, `ok` below.
- **Bad rate per band** where the outcome is known: a scored customer not already bad
  (worst DPD < `bad_min_dpd`) on a date D whose month plus `outcome_months` is not after the
  last stored month; bad when the worst DPD reaches `bad_min_dpd` on a monthly snapshot of the
  `outcome_months` months after D's month (the behaviour target's definition,
  `rules.behaviour.targets`). Observed = bads / customers; expected = the mean of the model's PD
  of those rows; the development bad rate of the band is the model's `band_pd`. The judged
  rows come counted per (month, band, score, bad) from `risk.monitor_queries`.
- **Per scored month**: the PSI of the month's band counts, and where its outcome window has
  elapsed the AUC and KS of the score against the outcome (from the counts, weighted: exact)
  and the calibration table per band (observed vs predicted, Jeffreys interval).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from postloan.modelling.metrics import psi
from postloan.modelling.model import ScorecardModel

OK, WARNING, ALERT = "ok", "warning", "alert"


def level(value: float, warning: float, alert: float) -> str:
    """The traffic light of a PSI at the thresholds (fractions, not percent)."""
    if value >= alert:
        return ALERT
    return WARNING if value >= warning else OK


def development_bins(model: ScorecardModel) -> dict[str, list[int]]:
    """Per characteristic the development sample's count in each bin index: the regular bins,
    then "missing" (the rows no regular bin counted), then "unknown category" (0)."""
    out: dict[str, list[int]] = {}
    for c in model.characteristics:
        regular = list(c.counts) if len(c.counts) == c.n_bins else [0] * c.n_bins
        out[c.name] = [*regular, max(model.n_rows - sum(regular), 0), 0]
    return out


def score_stability(model: ScorecardModel, bands: pl.DataFrame, warning: float,
                    alert: float) -> list[dict[str, Any]]:  # fmt: skip
    """One row per scored date (oldest first): customers, PSI of the band counts against the
    development sample, its light. `bands`: as_of, band, customers."""
    size = len(model.band_counts)
    out = []
    for (day,), part in bands.sort("as_of").group_by("as_of", maintain_order=True):
        counts = [0] * size
        for b, n in zip(part["band"].to_list(), part["customers"].to_list(), strict=True):
            counts[int(b)] += int(n)
        value = psi(list(model.band_counts), counts)
        out.append({"as_of": day, "customers": sum(counts), "band_customers": counts,
                    "score_psi": value, "level": level(value, warning, alert)})  # fmt: skip
    return out


def characteristic_stability(model: ScorecardModel, bins: pl.DataFrame, warning: float,
                             alert: float) -> list[dict[str, Any]]:  # fmt: skip
    """One row per scored date (oldest first): per characteristic of the model its PSI and
    light. `bins`: as_of, characteristic, bin, customers (the step's counts)."""
    development = development_bins(model)
    out = []
    for (day,), part in bins.sort("as_of").group_by("as_of", maintain_order=True):
        figures = []
        for name, expected in development.items():
            mine = part.filter(pl.col("characteristic") == name)
            actual = [0] * len(expected)
            for b, n in zip(mine["bin"].to_list(), mine["customers"].to_list(), strict=True):
                actual[int(b)] += int(n)
            if sum(actual) == 0:
                continue  # a characteristic the stored counts do not hold
            value = psi(expected, actual)
            figures.append({"characteristic": name, "psi": value,
                            "level": level(value, warning, alert)})  # fmt: skip
        out.append({"as_of": day, "characteristics": figures})
    return out


def _pooled(grouped: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Per `by`: customers, bads and the sum of the PDs of the judged rows (`grouped`:
    `monitor_queries.GROUPED`)."""
    return grouped.group_by(by).agg(
        pl.col("customers").sum().alias("n"),
        (pl.col("customers") * pl.col("bad").cast(pl.Int64)).sum().alias("bads"),
        pl.col("pd_sum").sum().alias("pd_sum"),
    )


def band_outcomes(model: ScorecardModel, grouped: pl.DataFrame) -> list[dict[str, Any]]:
    """Per score band of the model (all of them, in order): the development customers and bad
    rate, and over the judged rows of every observable month (`grouped`) customers, bads, the
    observed bad rate and the expected one (the mean PD); None where no row is judged."""
    found = {int(r["band"]): r for r in _pooled(grouped, ["band"]).to_dicts()}
    edges = (None, *model.band_edges, None)
    out = []
    for i, count in enumerate(model.band_counts):
        r = found.get(i)
        out.append({
            "band": i, "score_above": edges[i], "score_to": edges[i + 1],
            "development_customers": int(count), "development_bad_rate": model.band_pd[i],
            "customers": 0 if r is None else int(r["n"]),
            "bads": 0 if r is None else int(r["bads"]),
            "observed_bad_rate": None if r is None else int(r["bads"]) / int(r["n"]),
            "expected_bad_rate": None if r is None else float(r["pd_sum"]) / int(r["n"]),
        })  # fmt: skip
    return out


def ranking(scores: pl.DataFrame) -> tuple[float, float] | None:
    """AUC and KS of the scores against the outcome, from counts (`scores`: score, bad,
    customers): scikit-learn's ROC functions — the ones under `modelling.metrics.auc` — with
    the counts as sample weights, so each customer counts once without expanding the rows.
    Higher scores are better customers (AUC on the score's negation, as `modelling.metrics`);
    KS = the largest gap between the bads' and goods' cumulative distributions = max |TPR −
    FPR| over the thresholds (direction-free, as `modelling.metrics.ks`). None when the rows
    hold only goods or only bads (no ranking to measure)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y = scores["bad"].to_numpy()
    if scores.is_empty() or y.min() == y.max():
        return None
    risk, weight = -scores["score"].to_numpy(), scores["customers"].to_numpy()
    fpr, tpr, _ = roc_curve(y, risk, sample_weight=weight, drop_intermediate=False)
    return float(roc_auc_score(y, risk, sample_weight=weight)), float(abs(tpr - fpr).max())


def calibration(model: ScorecardModel, grouped: pl.DataFrame) -> list[dict[str, Any]]:
    """Per score band of the model (all of them, in order) over the judged rows `grouped`:
    customers, bads, the observed bad rate against the predicted one (the mean PD), the
    Jeffreys interval of the observed rate (`modelling.calibration.jeffreys_interval`) and
    whether the predicted PD lies in it (the test `modelling.calibration` passes a band by)."""
    from postloan.modelling.calibration import jeffreys_interval

    found = {int(r["band"]): r for r in _pooled(grouped, ["band"]).to_dicts()}
    out: list[dict[str, Any]] = []
    for i in range(len(model.band_counts)):
        r = found.get(i)
        if r is None or not int(r["n"]):
            out.append({"band": i, "customers": 0, "bads": 0, "observed_bad_rate": None,
                        "predicted_bad_rate": None, "jeffreys_low": None,
                        "jeffreys_high": None, "passed": None})  # fmt: skip
            continue
        n, bads = int(r["n"]), int(r["bads"])
        predicted = float(r["pd_sum"]) / n
        low, high = jeffreys_interval(bads, n)
        out.append({"band": i, "customers": n, "bads": bads, "observed_bad_rate": bads / n,
                    "predicted_bad_rate": predicted, "jeffreys_low": low,
                    "jeffreys_high": high, "passed": low <= predicted <= high})  # fmt: skip
    return out


def months(model: ScorecardModel, dates: list[dict[str, Any]], grouped: pl.DataFrame,
           observable: dict[Any, bool], warning: float, alert: float
           ) -> list[dict[str, Any]]:  # fmt: skip
    """One row per scored month (oldest first). `dates`: `score_stability`'s rows; `grouped`:
    the judged rows per (month, band, score, bad); `observable`: per month (its first day)
    whether its outcome window has elapsed. The month's population is every row scored in it
    (each scored date's customers): the PSI of its band counts against the development
    sample; where observable, the judged customers, bads, AUC, KS and the calibration per
    band — else those are None ("not yet observable", never 0)."""
    by_month: dict[Any, list[int]] = {}
    scored_days: dict[Any, int] = {}
    for d in dates:
        key = d["as_of"].replace(day=1)
        counts = by_month.setdefault(key, [0] * len(model.band_counts))
        for b, n in enumerate(d["band_customers"]):
            counts[b] += n
        scored_days[key] = scored_days.get(key, 0) + 1
    out = []
    for key in sorted(by_month):
        counts = by_month[key]
        value = psi(list(model.band_counts), counts)
        row: dict[str, Any] = {
            "month": key.strftime("%Y-%m"), "scored_dates": scored_days[key],
            "customers": sum(counts), "score_psi": value,
            "level": level(value, warning, alert), "observable": observable.get(key, False),
            "judged": None, "bads": None, "auc": None, "ks": None, "calibration": None,
        }  # fmt: skip
        if row["observable"]:
            mine = grouped.filter(pl.col("month") == key)
            pooled = _pooled(mine, ["score", "bad"]).rename({"n": "customers"})
            measured = ranking(pooled)
            row.update(judged=int(mine["customers"].sum()),
                       bads=int((mine["customers"] * mine["bad"].cast(pl.Int64)).sum()),
                       auc=None if measured is None else measured[0],
                       ks=None if measured is None else measured[1],
                       calibration=calibration(model, mine))  # fmt: skip
        out.append(row)
    return out
