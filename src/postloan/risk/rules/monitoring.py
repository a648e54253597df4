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
  of those rows; the development bad rate of the band is the model's `band_pd`.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from postloan.modelling.metrics import psi
from postloan.modelling.model import ScorecardModel
from postloan.risk.rules.behaviour import month_index

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


JUDGED = {"as_of": pl.Date, "customer_id": pl.String, "bad": pl.Int8}


def outcomes(scored: pl.DataFrame, now: pl.DataFrame, snapshots: pl.DataFrame, bad_min_dpd: int,
             outcome_months: int, last: Any) -> pl.DataFrame:  # fmt: skip
    """(as_of, customer_id, bad) for the scored rows whose outcome is known. `scored`: as_of,
    customer_id; `now`: as_of, customer_id, worst_dpd on the scored dates; `snapshots`: the
    same on the monthly snapshots; `last`: the last stored date."""
    if scored.is_empty() or last is None:
        return pl.DataFrame(schema=JUDGED)
    last_month = month_index(pl.lit(last, pl.Date))
    judged = (
        scored.select("as_of", "customer_id")
        .join(now.select("as_of", "customer_id", pl.col("worst_dpd").alias("_now")),
              on=["as_of", "customer_id"], how="left")
        .filter((month_index(pl.col("as_of")) + outcome_months <= last_month)
                & (pl.col("_now").fill_null(0) < bad_min_dpd))
        .with_columns(month_index(pl.col("as_of")).alias("_o"))
    )  # fmt: skip
    later = (
        judged.join(snapshots.select("customer_id", month_index(pl.col("as_of")).alias("_h"),
                                     "worst_dpd"), on="customer_id")
        .filter((pl.col("_h") > pl.col("_o")) & (pl.col("_h") <= pl.col("_o") + outcome_months))
        .group_by("as_of", "customer_id")
        .agg(pl.col("worst_dpd").max().alias("_after"))
    )  # fmt: skip
    return (
        judged.join(later, on=["as_of", "customer_id"], how="left")
        .select("as_of", "customer_id",
                (pl.col("_after").fill_null(0) >= bad_min_dpd).cast(pl.Int8).alias("bad"))
        .sort("as_of", "customer_id")
    )  # fmt: skip


def band_outcomes(model: ScorecardModel, judged: pl.DataFrame) -> list[dict[str, Any]]:
    """Per score band of the model (all of them, in order): the development customers and bad
    rate, and over the judged rows (`judged`: band, pd, bad) customers, bads, the observed bad
    rate and the expected one (the mean PD); None where no row is judged."""
    per_band = judged.group_by("band").agg(
        pl.len().alias("n"),
        pl.col("bad").cast(pl.Int64).sum().alias("bads"),
        pl.col("pd").mean().alias("expected"),
    )
    found = {int(r["band"]): r for r in per_band.to_dicts()}
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
            "expected_bad_rate": None if r is None else float(r["expected"]),
        })  # fmt: skip
    return out
