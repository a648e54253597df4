"""Lateness counters per account and date, computed inside the engine's pass (optional).

Rules that look back over an account's periods — churn's rules (a) and (b) (DATA_CONTRACT
"Semantics of churn identification") — need, per (account, D), counters the engine already
has in hand while it computes account status: each period's late flag per payment history,
the running count of late periods, the latest period due before D. Recomputing them in a later
step means keying the portfolio and settling every instalment against the payments a second
time (measured: more than half of churn's step). So a caller may ask the pass for them
(`LatenessWanted`), and gets per partition, for every account opened on D — closed loans and
cards included, which account status leaves out:

- `consecutive_late`: late periods in a row, counted back from the latest one due before D
  (account status' `consecutive_overdue_periods`, also for closed loans);
- `window_late`: late periods with W ≤ due date < D, W = D − `lookback_months` months (month
  ends roll like due dates);
- `consecutive_not_paid_in_full` (cards; null for loans): statements not paid in full,
  counted back from the latest due before D — paid in full when the payments dated statement
  date … due date reach the statement balance (a balance ≤ 0 is paid in full);
- `open`: a loan not yet paid off on D (payments cover less than its whole schedule), a card
  not closed on D.

"Late" is the engine's own: the period was covered (materiality threshold included) after its
due date, or not yet. Once a period is due its flag depends only on the history answering D,
so the counters are as-of look-ups into per-history running counts. `keep` filters each
partition's rows before they are collected (memory stays bounded by what the caller keeps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine.asof import asof, latest_due_before, run_start

LATENESS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "account_type": pl.String,
    "as_of": pl.Date,
    "consecutive_late": pl.Int32,
    "window_late": pl.Int32,
    "consecutive_not_paid_in_full": pl.Int32,
    "open": pl.Boolean,
}


@dataclass(frozen=True)
class LatenessWanted:
    """What a caller asks of the pass: the look-back of `window_late`, and `keep`, applied to
    each partition's LATENESS rows (a filter; may add columns the caller needs)."""

    lookback_months: int
    keep: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame


@dataclass(frozen=True)
class Lateness:
    """What a pass computed for a request: its `rows` (LATENESS, kept by the request's
    filter) answer for every one of `dates` — a date without rows had nobody kept."""

    dates: tuple[date, ...]
    rows: pl.DataFrame


def window_from(lookback_months: int) -> pl.Expr:
    """W = D − lookback months (month ends roll like due dates)."""
    return pl.col("as_of").dt.offset_by(f"-{lookback_months}mo")


def loans(looked_up: pl.DataFrame) -> pl.DataFrame:
    """Loan rows (`loans.loan_lookups`' output with `window_from`: k_* counters, `w_cum_late`
    and `j_end`, null once paid off) → acct, as_of and the counters."""
    return looked_up.select(
        "acct",
        "as_of",
        pl.col("k_consecutive").fill_null(0).cast(pl.Int32).alias("consecutive_late"),
        (pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0))
        .cast(pl.Int32)
        .alias("window_late"),
        pl.lit(None, dtype=pl.Int32).alias("consecutive_not_paid_in_full"),
        pl.col("j_end").is_not_null().alias("open"),
    )


def _with_not_paid_in_full_runs(st_h: pl.DataFrame, curve: pl.DataFrame) -> pl.DataFrame:
    """`st_h` (sorted by hk, idx) with `run_nfp`: statements not paid in full in a row ending
    with this one. `curve`: the card curve (hk, value_date, paid)."""
    pay = curve.select("hk", pl.col("value_date").alias("_vd"), pl.col("paid").alias("_p"))
    frame = st_h
    for key, name in (
        (pl.col("due_date"), "_paid_end"),
        (pl.col("statement_date") - pl.duration(days=1), "_paid_start"),
    ):
        frame = (
            asof(
                frame.with_columns(key.alias("_key")),
                pay,
                left_on="_key",
                right_on="_vd",
                by="hk",
                strategy="backward",
            )
            .with_columns(pl.col("_p").fill_null(0).alias(name))
            .drop("_key", "_vd", "_p")
        )
    full = (pl.col("statement_balance") <= 0) | (
        (pl.col("_paid_end") - pl.col("_paid_start")) >= pl.col("statement_balance")
    )
    last_full = pl.when(full).then(pl.col("idx")).when(run_start("hk")).then(0).forward_fill()
    return frame.with_columns((pl.col("idx") - last_full).cast(pl.Int32).alias("run_nfp"))


def cards(
    rows: pl.DataFrame, st_h: pl.DataFrame, curve: pl.DataFrame, lookback_months: int
) -> pl.DataFrame:
    """Card rows (hk, acct, as_of, close_date; closed cards included) → acct, as_of and the
    counters. `st_h`: the statements per history with their late counters; `curve`: the card
    curve (hk, value_date, paid, …)."""
    periods = _with_not_paid_in_full_runs(
        st_h.select("hk", "idx", "statement_date", "due_date", "statement_balance",
                    "cum_late", "last_on_time"),
        curve,
    )  # fmt: skip
    rows = latest_due_before(rows, periods, window_from(lookback_months), k_run_nfp="run_nfp")
    closed = pl.col("close_date").is_not_null() & (pl.col("close_date") <= pl.col("as_of"))
    return rows.select(
        "acct",
        "as_of",
        pl.col("k_consecutive").fill_null(0).cast(pl.Int32).alias("consecutive_late"),
        (pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0))
        .cast(pl.Int32)
        .alias("window_late"),
        pl.col("k_run_nfp").fill_null(0).cast(pl.Int32).alias("consecutive_not_paid_in_full"),
        (~closed).alias("open"),
    )


def finish(rows: pl.DataFrame, accounts: pl.DataFrame, wanted: LatenessWanted) -> pl.DataFrame:
    """The partition's rows with their ids (LATENESS), through the caller's `keep`."""
    named = rows.join(
        accounts.select("acct", "account_id", "customer_id", "account_type"), on="acct"
    ).select([pl.col(c).cast(t) for c, t in LATENESS.items()])
    return wanted.keep(named)
