"""Collectors' work on a demo store, pure: which overdue customers a collector phoned before a
date, when, and what they promised to pay — deterministic from the seed, set-based (polars and
one numpy draw over the customers in id order; no loop per customer).

The contract files carry no collection contacts, so a demo store would have no promise to pay
and the promise rules (kept/broken, case priority, risk's `broken_promises` signal) nothing to
work on. `plan_promises` draws them on the status of the last stored date before `before`:

- **Who**: customers `MIN_DPD`+ days past due on that date with a collector, `SHARE` of them
  (a uniform draw per customer, in id order, from the seed).
- **How many**: one promise, two from 31 DPD, three from 61 — the longer the arrears, the more
  often the collector has called; a call is made only on a day the customer was already
  overdue (the date minus DPD + 1 on), so a short arrears gets fewer.
- **When**: call j (0 the latest) `2 + GAP_DAYS·j` days before that date, at `CALL_HOUR`
  local time (outside any quiet hours); one call per customer per day, calls `GAP_DAYS` apart
  — within every contact rule of the default jurisdictions (daily and weekly call caps,
  cool-down after a conversation of up to `GAP_DAYS` − 1 days).
- **What**: the arrears on that date rounded up to the yuan for the latest call's promise; a
  part (`PART_PCT`) of it for earlier calls and for a drawn `PART_SHARE` of latest ones (a
  customer offering what they can). Each due `TERM_DAYS` after the call, but not before the
  last stored date and not after the day before `until`: every promise is decided (kept or
  broken, from the payments, by `collections.promises`) on a date the demo's second run covers.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import numpy as np
import polars as pl

MIN_DPD = 8  # past the technical grace of the default policy: a case a collector works
SHARE = 0.35
GAP_DAYS = 9
TERM_DAYS = 7
CALL_HOUR = time(10, 0)
PART_PCT = 40
PART_SHARE = 0.3
MAX_CALLS = 3

OVERDUE: dict[str, Any] = {"customer_id": pl.String, "dpd": pl.Int64,
                           "overdue_amount": pl.Int64, "collector": pl.String}  # fmt: skip
PLANNED: dict[str, Any] = {"customer_id": pl.String, "collector": pl.String,
                           "at": pl.Datetime("us", "UTC"), "made_on": pl.Date, "due_on": pl.Date,
                           "amount": pl.Int64}  # fmt: skip


def plan_promises(overdue: pl.DataFrame, last: date, until: date, seed: int,
                  timezone: str) -> pl.DataFrame:  # fmt: skip
    """PLANNED rows — one per call, each with its promise — for the OVERDUE customers on `last`
    (the last stored date before the demo's second run), due by the day before `until` at the
    latest; ordered by customer and call time."""
    latest_due = max(until - timedelta(days=1), last)
    ready = overdue.filter((pl.col("dpd") >= MIN_DPD) & (pl.col("overdue_amount") > 0)
                           & pl.col("collector").is_not_null()).sort("customer_id")  # fmt: skip
    if ready.is_empty():
        return pl.DataFrame(schema=PLANNED)
    draws = np.random.default_rng(seed).random((ready.height, 2))
    chosen = ready.with_columns(
        pl.Series("_pick", draws[:, 0]), pl.Series("_part", draws[:, 1])
    ).filter(pl.col("_pick") < SHARE)
    calls = (
        chosen.with_columns(
            _calls=pl.min_horizontal(pl.lit(MAX_CALLS), 1 + (pl.col("dpd") - 1) // 30),
            _whole=((pl.col("overdue_amount") + 99) // 100) * 100,
        )
        .with_columns(_j=pl.int_ranges(0, pl.col("_calls")))
        .explode("_j")
        .with_columns(made_on=pl.lit(last) - pl.duration(days=2 + GAP_DAYS * pl.col("_j")))
        # a call only on a day the customer was overdue already
        .filter(pl.col("made_on") >= pl.lit(last) - pl.duration(days=pl.col("dpd") - 1))
    )  # fmt: skip
    if calls.is_empty():
        return pl.DataFrame(schema=PLANNED)
    part = (pl.col("_j") > 0) | (pl.col("_part") < PART_SHARE)
    part_amount = ((pl.col("_whole") * PART_PCT // 100 + 99) // 100) * 100
    due = pl.col("made_on") + pl.duration(days=TERM_DAYS)
    at = (pl.col("made_on").cast(pl.Datetime("us"))
          + pl.duration(hours=CALL_HOUR.hour, minutes=CALL_HOUR.minute))  # fmt: skip
    return calls.select(
        "customer_id", "collector",
        at.dt.replace_time_zone(timezone).dt.convert_time_zone("UTC").alias("at"),
        "made_on",
        pl.min_horizontal(pl.max_horizontal(due, pl.lit(last)), pl.lit(latest_due)).alias("due_on"),
        pl.when(part).then(pl.max_horizontal(pl.lit(100), part_amount))
        .otherwise(pl.col("_whole")).cast(pl.Int64).alias("amount"),
    ).sort("customer_id", "at")  # fmt: skip
