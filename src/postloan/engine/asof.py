"""Small helpers shared by the loan and card computations."""

from __future__ import annotations

import numpy as np
import polars as pl

# Composite search keys: group code in the high bits, the searched value in the low bits.
_VALUE_BITS = 44  # amounts up to 1.7e13 minor units; dates shifted to be positive
_DATE_SHIFT = 1 << 20
_MAX_VALUE = (1 << _VALUE_BITS) - 1


def _values(series: pl.Series) -> np.ndarray:
    if series.dtype == pl.Date:
        days = series.cast(pl.Int32).to_numpy().astype(np.int64)
        return days + _DATE_SHIFT
    return np.clip(series.cast(pl.Int64).to_numpy(), 0, _MAX_VALUE)


def asof(
    left: pl.DataFrame,
    right: pl.DataFrame,
    *,
    left_on: str,
    right_on: str,
    by: str,
    strategy: str,
) -> pl.DataFrame:
    """As-of join within groups `by`; `right` must be sorted by (by, right_on).

    `forward`: the first right row whose key is >= the left key (the first on ties);
    `backward`: the last right row whose key is <= the left key (the last on ties).
    Right-hand values are non-negative amounts or dates (negative left amounts search as 0).
    Implemented as one binary search over composite (group, value) keys, which is much faster
    than a hash-grouped as-of join and needs no sort of the left side.
    """
    extra = [c for c in right.columns if c not in (by, right_on) and c not in left.columns]
    if right.height == 0 or left.height == 0:
        nulls = [pl.lit(None, dtype=right.schema[c]).alias(c) for c in [right_on, *extra]]
        return (
            left.with_columns(nulls)
            if right_on not in left.columns
            else left.with_columns(nulls[1:])
        )
    groups = right.get_column(by).to_numpy()
    starts = np.empty(groups.size, dtype=bool)
    starts[0] = True
    np.not_equal(groups[1:], groups[:-1], out=starts[1:])
    uniq = groups[starts]
    if uniq.size >= 1 << (63 - _VALUE_BITS):
        raise ValueError("too many histories in one partition for composite search keys")
    right_code = np.cumsum(starts, dtype=np.int64) - 1
    right_key = (right_code << _VALUE_BITS) | _values(right.get_column(right_on))

    left_groups = left.get_column(by).to_numpy()
    pos = np.searchsorted(uniq, left_groups)
    pos_safe = np.minimum(pos, uniq.size - 1)
    found = uniq[pos_safe] == left_groups
    left_key = (pos_safe.astype(np.int64) << _VALUE_BITS) | _values(left.get_column(left_on))
    if strategy == "forward":
        idx = np.searchsorted(right_key, left_key, side="left")
    else:
        idx = np.searchsorted(right_key, left_key, side="right") - 1
    idx_safe = np.clip(idx, 0, right_key.size - 1)
    ok = found & (idx >= 0) & (idx < right_key.size) & (right_code[idx_safe] == pos_safe)
    take = pl.Series("_idx", np.where(ok, idx_safe, 0), dtype=pl.Int64)
    picked = right.select([c for c in [right_on, *extra] if c not in left.columns]).gather(take)
    valid = pl.Series("_ok", ok)
    picked = picked.with_columns(pl.when(valid).then(pl.all()))
    return pl.concat([left, picked], how="horizontal")


def clamp(expr: pl.Expr, low: pl.Expr | int, high: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(pl.min_horizontal(expr, high), low)


# Segmented scans. Every frame here is sorted by its group key, so a group is a run of equal
# keys: scanning the whole column and correcting at run starts avoids a hash-grouped window
# (`.over()`), which is several times slower on tens of millions of rows.


def run_start(key: str) -> pl.Expr:
    """True on the first row of each run of equal `key`."""
    return (pl.col(key) != pl.col(key).shift(1)).fill_null(True)


def run_cum_sum(expr: pl.Expr, key: str) -> pl.Expr:
    total = expr.cum_sum()
    return total - pl.when(run_start(key)).then(total - expr).forward_fill()


def run_index(key: str) -> pl.Expr:
    """1-based position inside the run."""
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    return (row - pl.when(run_start(key)).then(row).forward_fill() + 1).cast(pl.Int32)


def run_cum_min(expr: pl.Expr, key: str, span: int = 1 << 42) -> pl.Expr:
    """Running minimum inside each run; values must lie within ±span/2.

    Each run is shifted down by `span` more than the one before, so a global running minimum
    never carries a smaller value over from an earlier run.
    """
    shift = run_start(key).cast(pl.Int64).cum_sum() * span
    return (expr - shift).cum_min() + shift


def late_counters(frame: pl.DataFrame, late: pl.Expr) -> pl.DataFrame:
    """Per history, running counts for the period counters (frame sorted by hk, idx).

    `cum_late` = late periods up to and including this one; `last_on_time` = index of the
    latest on-time period up to this one (0 when none) — so for the latest period k due before
    D, consecutive = k − last_on_time and cumulative = cum_late.
    """
    return frame.with_columns(late.alias("late")).with_columns(
        run_cum_sum(pl.col("late").cast(pl.Int32), "hk").alias("cum_late"),
        pl.when(~pl.col("late"))
        .then(pl.col("idx"))
        .when(run_start("hk"))
        .then(0)
        .forward_fill()
        .alias("last_on_time"),
    )


def last_per_key(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Keep the last row of each run of equal (hk, key) in a frame sorted by (hk, key, ...)."""
    nxt_hk = pl.col("hk").shift(-1)
    nxt_key = pl.col(key).shift(-1)
    return frame.filter(nxt_hk.is_null() | (nxt_hk != pl.col("hk")) | (nxt_key != pl.col(key)))


def sort_unless_sorted(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sort by `keys` unless already in that order (a linear check is far cheaper than a sort).

    Schedules and statements usually arrive ordered by account and date, so this saves a full
    multi-column sort of tens of millions of rows per run.
    """
    if frame.height < 2:
        return frame
    prev = [pl.col(k).shift(1) for k in keys]
    out_of_order = pl.lit(False)
    tie = pl.lit(True)
    for k, p in zip(keys, prev, strict=True):
        out_of_order = out_of_order | (tie & (pl.col(k) < p))
        tie = tie & (pl.col(k) == p)
    if not frame.select(out_of_order.fill_null(False).any()).item():
        return frame
    return frame.sort(keys)


def paid_as_of(rows: pl.DataFrame, curve: pl.DataFrame) -> pl.DataFrame:
    """Each (hk, as_of) row gets its history's curve values on D (`paid`, and for cards
    `covered`; 0 before any payment) and `last_payment_date`."""
    amounts = [c for c in curve.columns if c not in ("hk", "acct", "value_date")]
    return asof(
        rows,
        curve.select("hk", "value_date", *amounts),
        left_on="as_of",
        right_on="value_date",
        by="hk",
        strategy="backward",
    ).with_columns(
        *[pl.col(c).fill_null(0) for c in amounts],
        pl.col("value_date").alias("last_payment_date"),
    )


def latest_due_before(
    rows: pl.DataFrame,
    periods: pl.DataFrame,
    window_from: pl.Expr | None = None,
    **carry: str,
) -> pl.DataFrame:
    """Each row gets, from the last period (instalment/statement) due before its D, the
    period counters and the `carry` columns (new name = column): the running totals at k.
    With `window_from` (an expression of the row, W), also `w_cum_late`: the late periods due
    before W, from the same table (for counts of late periods with W <= due date < D)."""
    due_before = last_per_key(periods, "due_date").select(
        "hk",
        pl.col("due_date").alias("k_due"),
        *[pl.col(column).alias(name) for name, column in carry.items()],
        pl.col("cum_late").alias("k_cum_late"),
        (pl.col("idx") - pl.col("last_on_time")).alias("k_consecutive"),
    )
    keyed = rows.with_columns((pl.col("as_of") - pl.duration(days=1)).alias("_before"))
    found = asof(
        keyed, due_before, left_on="_before", right_on="k_due", by="hk", strategy="backward"
    ).drop("_before")
    if window_from is None:
        return found
    window = due_before.select("hk", pl.col("k_due").alias("w_due"),
                               pl.col("k_cum_late").alias("w_cum_late"))  # fmt: skip
    keyed = found.with_columns((window_from - pl.duration(days=1)).alias("_w_before"))
    return asof(
        keyed, window, left_on="_w_before", right_on="w_due", by="hk", strategy="backward"
    ).drop("_w_before", "w_due")


def settle_on(
    periods: pl.DataFrame,
    curve: pl.DataFrame,
    *,
    end: str,
    owed: str,
    reached: str,
    threshold: int,
    name: str,
) -> pl.DataFrame:
    """Add `name`: the first day the history's running total `reached` (paid for loans,
    minimums covered for cards) came within `threshold` of the period's queue end `end`.

    The running total never falls, so this is a forward search; where it stays flat over
    several days the search returns the first of them, the day it was met. Periods with
    nothing `owed`, or met without any payment, are met on their due date.
    """
    keyed = periods.with_columns((pl.col(end) - threshold).alias("_need"))
    right = curve.select("hk", pl.col(reached).alias("_reached"), pl.col("value_date").alias(name))
    joined = asof(keyed, right, left_on="_need", right_on="_reached", by="hk", strategy="forward")
    trivially = (pl.col(owed) == 0) | (pl.col("_need") <= 0)
    return joined.with_columns(
        pl.when(trivially).then(pl.col("due_date")).otherwise(pl.col(name)).alias(name)
    ).drop("_need", "_reached")
