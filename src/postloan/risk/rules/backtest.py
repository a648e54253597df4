"""Back-test of the early-warning signals (EW-6 of issue 13) on stored history.

Inputs: `alerts` (signal_id, customer_id, alert_on, officer_id): task openings, one per run of
consecutive hits; `daily` (customer_id, as_of, worst_dpd): the worst DPD per stored date.

Definitions (h a horizon in months; "+ h" rolls to the month end like due dates):
- a *bad onset* of a customer is a stored date with worst DPD ≥ `bad_min_dpd` whose previous
  stored date was below it (a customer already bad on their first stored date has no onset:
  it happened before history);
- an alert is *eligible* for h when the customer is not bad on its date and the history runs
  to its date + h (later alerts cannot be judged yet); it is *right* when an onset falls in
  (alert_on, alert_on + h]. precision = right / eligible;
- an onset is *observable* for h when onset − h is on or after the first stored date; it is
  *caught* when an alert of the signal for the customer falls in [onset − h, onset).
  recall = caught / observable; the lead time of a caught onset is onset − its earliest such
  alert, in days; median over caught onsets;
- alerts per officer per month = alerts / (officers × months of history, counted inclusive);
- overlap of two signals = Jaccard index of the customers each alerted.

Frames in, frames out; `tests/risk/test_backtest.py` checks them against hand-computed
figures and a plain loop implementation.
"""

from __future__ import annotations

from datetime import date

import polars as pl

ALERTS = {"signal_id": pl.String, "customer_id": pl.String, "alert_on": pl.Date,
          "officer_id": pl.String}  # fmt: skip
DAILY = {"customer_id": pl.String, "as_of": pl.Date, "worst_dpd": pl.Int64}
RESULTS = {"signal_id": pl.String, "horizon_months": pl.Int64, "alerts": pl.Int64,
           "eligible": pl.Int64, "right": pl.Int64, "precision": pl.Float64,
           "onsets": pl.Int64, "caught": pl.Int64, "recall": pl.Float64,
           "median_lead_days": pl.Float64, "alerts_per_officer_month": pl.Float64}  # fmt: skip
OVERLAP = {"signal_a": pl.String, "signal_b": pl.String, "jaccard": pl.Float64}


def onsets(daily: pl.DataFrame, bad_min_dpd: int) -> pl.DataFrame:
    """(customer_id, onset_on): dates the customer became bad."""
    flagged = (
        daily.sort("customer_id", "as_of")
        .with_columns(bad=pl.col("worst_dpd") >= bad_min_dpd)
        .with_columns(was=pl.col("bad").shift(1).over("customer_id"))
    )
    return flagged.filter(pl.col("bad") & (pl.col("was") == False)).select(  # noqa: E712
        "customer_id", onset_on=pl.col("as_of")
    )


def months_spanned(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def backtest(
    alerts: pl.DataFrame,
    daily: pl.DataFrame,
    signal_ids: list[str],
    horizons: list[int],
    bad_min_dpd: int,
    officers: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(results per signal and horizon — RESULTS, overlap per pair of signals — OVERLAP)."""
    if daily.is_empty():
        return pl.DataFrame(schema=RESULTS), pl.DataFrame(schema=OVERLAP)
    first, last = daily["as_of"].min(), daily["as_of"].max()
    assert isinstance(first, date) and isinstance(last, date)
    months = months_spanned(first, last)
    bad = onsets(daily, bad_min_dpd)
    status = daily.select("customer_id", alert_on=pl.col("as_of"), dpd=pl.col("worst_dpd"))
    rows: list[dict[str, object]] = []
    for sid in signal_ids:
        mine = alerts.filter(pl.col("signal_id") == sid).join(
            status, on=["customer_id", "alert_on"], how="left"
        )
        per_officer = len(mine) / (max(officers, 1) * months)
        for h in horizons:
            ends = mine.with_columns(until=pl.col("alert_on").dt.offset_by(f"{h}mo"))
            eligible = ends.filter(
                (pl.col("dpd").fill_null(0) < bad_min_dpd) & (pl.col("until") <= last)
            )
            right = (
                eligible.join(bad, on="customer_id")
                .filter(
                    (pl.col("onset_on") > pl.col("alert_on"))
                    & (pl.col("onset_on") <= pl.col("until"))
                )
                .select("customer_id", "alert_on")
                .unique()
            )
            observable = bad.with_columns(since=pl.col("onset_on").dt.offset_by(f"-{h}mo")).filter(
                pl.col("since") >= first
            )
            before = observable.join(
                mine.select("customer_id", "alert_on"), on="customer_id"
            ).filter(
                (pl.col("alert_on") >= pl.col("since")) & (pl.col("alert_on") < pl.col("onset_on"))
            )
            caught = before.group_by("customer_id", "onset_on").agg(
                lead=(pl.col("onset_on") - pl.col("alert_on")).dt.total_days().max()
            )
            n_eligible, n_right = len(eligible), len(right)
            n_onsets, n_caught = len(observable), len(caught)
            rows.append({
                "signal_id": sid, "horizon_months": h, "alerts": len(mine),
                "eligible": n_eligible, "right": n_right,
                "precision": n_right / n_eligible if n_eligible else None,
                "onsets": n_onsets, "caught": n_caught,
                "recall": n_caught / n_onsets if n_onsets else None,
                "median_lead_days": float(caught["lead"].median()) if n_caught else None,  # type: ignore[arg-type]
                "alerts_per_officer_month": per_officer,
            })  # fmt: skip
    results = pl.DataFrame(rows, schema=RESULTS)
    return results, overlap(alerts, signal_ids)


def overlap(alerts: pl.DataFrame, signal_ids: list[str]) -> pl.DataFrame:
    sets = {sid: set(alerts.filter(pl.col("signal_id") == sid)["customer_id"].to_list())
            for sid in signal_ids}  # fmt: skip
    rows = []
    for i, a in enumerate(signal_ids):
        for b in signal_ids[i + 1 :]:
            union = sets[a] | sets[b]
            jaccard = len(sets[a] & sets[b]) / len(union) if union else None
            rows.append({"signal_a": a, "signal_b": b, "jaccard": jaccard})
    return pl.DataFrame(rows, schema=OVERLAP)
