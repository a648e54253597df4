"""Early-warning signal hits (EW-1) over whole frames: which customer hits which signal of the
policy's catalogue on which date.

Inputs:
- `daily` (DAILY): one row per (as_of, customer_id) scored on the date — the score, worst DPD,
  overdue amount, total outstanding balance (rising liabilities), income drop and its report
  date, whether the industry is listed; it holds every stored date the window comparisons
  need (earlier ones too);
- `dated` (DATED): dated customer facts — events by type and collections' broken promises
  (kind "promise_broken", dated by the day they were judged broken).

A window comparison (`overdue_growth`, `balance_growth`, `score_rise`) compares D with the
latest stored date on or before D − window_days, provided it is no older than D − 2 ×
window_days (a comparison with a date years back says nothing about the last month). Only
customers scored on D can hit on D. The result depends only on the frames, so re-running a
date, or dates in any order, gives the same hits.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.policy.risk import Signal

DAILY = {
    "as_of": pl.Date, "customer_id": pl.String, "score": pl.Int64, "worst_dpd": pl.Int64,
    "overdue_amount": pl.Int64, "outstanding": pl.Int64, "income_drop_pct": pl.Int64,
    "income_reported_on": pl.Date, "industry_listed": pl.Boolean,
}  # fmt: skip
DATED = {"customer_id": pl.String, "date": pl.Date, "kind": pl.String}
HITS = {"as_of": pl.Date, "customer_id": pl.String, "signal_id": pl.String, "value": pl.Int64}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=HITS)


def _prior(daily: pl.DataFrame, on: list[date], column: str, window: int) -> pl.DataFrame:
    """(as_of, customer_id, now, before): `column` on each date in `on` and on the comparison
    date (null when there is none)."""
    now = daily.filter(pl.col("as_of").is_in(on)).select(
        "as_of", "customer_id", pl.col(column).alias("now")
    )
    history = daily.select(
        "customer_id", pl.col("as_of").alias("then"), pl.col(column).alias("before")
    ).sort("customer_id", "then")
    looked = now.with_columns(target=pl.col("as_of") - pl.duration(days=window)).sort(
        "customer_id", "target"
    )
    joined = looked.join_asof(
        history,
        left_on="target",
        right_on="then",
        by="customer_id",
        strategy="backward",
        check_sortedness=False,  # sorted by (customer, date) above
    )
    too_old = pl.col("then") < pl.col("as_of") - pl.duration(days=2 * window)
    return joined.with_columns(
        pl.when(too_old).then(None).otherwise(pl.col("before")).alias("before")
    )


def _counted(daily_on: pl.DataFrame, dated: pl.DataFrame, kind: str, lookback: int) -> pl.DataFrame:
    """(as_of, customer_id, value): facts of `kind` dated in (D − lookback, D] per scored row."""
    facts = dated.filter(pl.col("kind") == kind).select("customer_id", "date")
    if facts.is_empty():
        return pl.DataFrame(schema={"as_of": pl.Date, "customer_id": pl.String, "value": pl.Int64})
    pairs = daily_on.select("as_of", "customer_id").join(facts, on="customer_id")
    inside = pairs.filter(
        (pl.col("date") <= pl.col("as_of"))
        & (pl.col("date") > pl.col("as_of") - pl.duration(days=lookback))
    )
    return inside.group_by("as_of", "customer_id").agg(pl.len().cast(pl.Int64).alias("value"))


def signal_hits(
    daily: pl.DataFrame, dated: pl.DataFrame, signals: list[Signal], on: list[date]
) -> pl.DataFrame:
    """The hits (HITS) of every signal on the dates `on`, sorted."""
    today = daily.filter(pl.col("as_of").is_in(on))
    found: list[pl.DataFrame] = []
    for s in signals:
        hit: pl.DataFrame
        if s.computation == "dpd_between":
            assert s.upper is not None
            hit = today.filter(pl.col("worst_dpd").is_between(s.threshold, s.upper)).select(
                "as_of", "customer_id", value=pl.col("worst_dpd")
            )
        elif s.computation in ("overdue_growth", "balance_growth", "score_rise"):
            assert s.window_days is not None
            column = {"overdue_growth": "overdue_amount", "balance_growth": "outstanding",
                      "score_rise": "score"}[s.computation]  # fmt: skip
            pairs = _prior(daily, on, column, s.window_days).filter(
                pl.col("before").is_not_null() & pl.col("now").is_not_null()
            )
            if s.computation in ("overdue_growth", "balance_growth"):
                # Growth of what is unpaid (from an amount already overdue: a first arrears is
                # `dpd_between`'s) or of all that is owed (rising liabilities: new drawings),
                # from an amount > 0, up by at least the threshold percent.
                hit = pairs.filter(
                    (pl.col("before") > 0)
                    & (pl.col("now") * 100 >= pl.col("before") * (100 + s.threshold))
                ).select("as_of", "customer_id", value=(pl.col("now") - pl.col("before")) * 100
                         // pl.col("before"))  # fmt: skip
            else:
                hit = pairs.filter(pl.col("now") - pl.col("before") >= s.threshold).select(
                    "as_of", "customer_id", value=pl.col("now") - pl.col("before")
                )
        elif s.computation == "income_drop":
            assert s.lookback_days is not None
            recent = (
                pl.col("as_of") - pl.col("income_reported_on")
            ).dt.total_days() < s.lookback_days
            hit = today.filter(
                pl.col("income_reported_on").is_not_null() & recent
                & (pl.col("income_drop_pct") >= s.threshold)
            ).select("as_of", "customer_id", value=pl.col("income_drop_pct"))  # fmt: skip
        elif s.computation == "industry_listed":
            hit = today.filter(pl.col("industry_listed")).select(
                "as_of", "customer_id", value=pl.lit(1, pl.Int64)
            )
        else:  # event_count, broken_promises
            assert s.lookback_days is not None
            kind = "promise_broken" if s.computation == "broken_promises" else str(s.event_type)
            counted = _counted(today, dated, kind, s.lookback_days)
            hit = counted.filter(pl.col("value") >= s.threshold)
        found.append(hit.with_columns(signal_id=pl.lit(s.id)).select(list(HITS)).cast(HITS))  # type: ignore[arg-type]
    if not found:
        return _empty()
    return pl.concat(found).sort("as_of", "signal_id", "customer_id")
