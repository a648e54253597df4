"""Credit cards as of D, for whole portfolios at once.

A payment dated t goes to the unpaid minimums of statements issued by t, oldest first; what
exceeds them is not carried to later minimums. So the amount of minimums covered after each
payment day p is a capped running sum, `covered_p = min(issued_p, covered_{p−1} + a_p)`, which
unrolls to `covered_p = paid_p + min(0, min_{j≤p}(issued_j − paid_j))` — a cumulative minimum,
vectorisable per history. (`issued_j` = minimums of statements dated ≤ day j, `paid_j` = the
cumulative payments.) `covered` never decreases, so statement s's minimum is met on the first day
`covered >= cum_minimum_s`, found with a forward as-of join, exactly as for loans.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.engine.asof import (
    asof,
    clamp,
    last_per_key,
    late_counters,
    latest_due_before,
    paid_as_of,
    run_cum_min,
    run_cum_sum,
    run_index,
    settle_on,
    sort_unless_sorted,
)
from postloan.engine.history import Histories, expand_to_histories


def prepare_statements(statements: pl.DataFrame) -> pl.DataFrame:
    """Account-level statements in issue order with cumulative minimums."""
    order = ["acct", "statement_date", "due_date"]
    return sort_unless_sorted(statements, order).with_columns(
        run_index("acct").alias("idx"),
        run_cum_sum(pl.col("minimum_due"), "acct").alias("cum_minimum"),
    )


def covered_curve(curve: pl.DataFrame, st_h: pl.DataFrame) -> pl.DataFrame:
    """Add `covered` (minimums covered) to a history's daily payment curve."""
    issued = st_h.select("hk", "statement_date", pl.col("cum_minimum").alias("issued"))
    with_issued = asof(
        curve, issued, left_on="value_date", right_on="statement_date", by="hk", strategy="backward"
    ).with_columns(pl.col("issued").fill_null(0))
    gap = run_cum_min(pl.col("issued") - pl.col("paid"), "hk")
    return with_issued.with_columns(
        (pl.col("paid") + pl.min_horizontal(gap, 0)).alias("covered")
    ).select("hk", "value_date", "paid", "covered")


def settle_dates(
    st_h: pl.DataFrame, curve: pl.DataFrame, threshold: int, name: str
) -> pl.DataFrame:
    """Add `name`: the day the statement's minimum (and all earlier ones) were met."""
    return settle_on(
        st_h,
        curve,
        end="cum_minimum",
        owed="minimum_due",
        reached="covered",
        threshold=threshold,
        name=name,
    )


def history_statements(
    statements: pl.DataFrame, histories: Histories, curve: pl.DataFrame, threshold: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per history: statements with settle dates and counters, and the covered curve."""
    st_h = expand_to_histories(statements, histories)
    card_curve = covered_curve(curve, st_h)
    st_h = settle_dates(st_h, card_curve, threshold, "settled_on")
    settled = pl.col("settled_on")
    st_h = late_counters(st_h, settled.is_null() | (settled > pl.col("due_date")))
    return st_h, card_curve


def card_rows(
    rows: pl.DataFrame, st_h: pl.DataFrame, curve: pl.DataFrame, threshold: int
) -> pl.DataFrame:
    """Status columns for card rows (hk, acct, as_of); the caller drops closed cards."""
    rows = paid_as_of(rows, curve)
    rows = latest_due_before(rows, st_h, k_cum_minimum="cum_minimum")
    unmet = st_h.filter(pl.col("minimum_due") > 0).select(
        "hk", (pl.col("cum_minimum") - threshold).alias("j_need"), pl.col("due_date").alias("j_due")
    )
    rows = asof(
        rows.with_columns((pl.col("covered") + 1).alias("_next")),
        unmet,
        left_on="_next",
        right_on="j_need",
        by="hk",
        strategy="forward",
    )
    latest = last_per_key(st_h, "statement_date").select(
        "hk", "statement_date", pl.col("statement_balance").alias("latest_balance")
    )
    rows = asof(
        rows,
        latest,
        left_on="as_of",
        right_on="statement_date",
        by="hk",
        strategy="backward",
    )
    rows = asof(
        rows.with_columns(pl.col("statement_date").fill_null(date(1970, 1, 1))),
        curve.select("hk", pl.col("value_date").alias("_vd"), pl.col("paid").alias("paid_then")),
        left_on="statement_date",
        right_on="_vd",
        by="hk",
        strategy="backward",
    )
    since_statement = pl.col("paid") - pl.col("paid_then").fill_null(0)
    outstanding = pl.max_horizontal(pl.col("latest_balance").fill_null(0) - since_statement, 0)
    overdue = pl.max_horizontal(pl.col("k_cum_minimum").fill_null(0) - pl.col("covered"), 0)
    dpd = (
        pl.when(pl.col("j_due") < pl.col("as_of"))
        .then((pl.col("as_of") - pl.col("j_due")).dt.total_days())
        .otherwise(0)
    )
    return rows.select(
        "acct",
        "as_of",
        outstanding.cast(pl.Int64).alias("outstanding_principal"),
        overdue.cast(pl.Int64).alias("overdue_principal"),
        pl.lit(0, dtype=pl.Int64).alias("overdue_interest"),
        overdue.cast(pl.Int64).alias("overdue_amount"),
        dpd.fill_null(0).cast(pl.Int32).alias("dpd"),
        pl.col("k_consecutive").fill_null(0).cast(pl.Int32).alias("consecutive_overdue_periods"),
        pl.col("k_cum_late").fill_null(0).cast(pl.Int32).alias("cumulative_overdue_periods"),
        "last_payment_date",
    )


def statement_table(
    st_h: pl.DataFrame, curve: pl.DataFrame, as_of: date, threshold: int
) -> pl.DataFrame:
    """Per-statement state as of D (single-date histories: one history per account)."""
    d = pl.lit(as_of)
    now = asof(
        st_h.with_columns(d.alias("_d")),
        curve.select("hk", pl.col("value_date").alias("_vd"), "paid", "covered"),
        left_on="_d",
        right_on="_vd",
        by="hk",
        strategy="backward",
    ).with_columns(pl.col("paid").fill_null(0), pl.col("covered").fill_null(0))
    frame = now.drop("_vd", "_d")
    if threshold:
        frame = settle_dates(frame, curve, 0, "completion_date")
    else:
        frame = frame.with_columns(pl.col("settled_on").alias("completion_date"))

    # Paid in full: payments dated statement_date..due_date (as far as D) reach the balance.
    window_end = pl.min_horizontal(pl.col("due_date"), d)
    window_start = pl.col("statement_date") - pl.duration(days=1)
    pay = curve.select("hk", pl.col("value_date").alias("_vd"), pl.col("paid").alias("_p"))
    for key, name in ((window_end, "_paid_end"), (window_start, "_paid_start")):
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

    settled = pl.col("settled_on")
    days_late = (
        pl.when(settled.is_not_null() & (settled <= d))
        .then((settled - pl.col("due_date")).dt.total_days())
        .when(pl.col("due_date") < d)
        .then((d - pl.col("due_date")).dt.total_days())
        .otherwise(0)
    )
    before = pl.col("cum_minimum") - pl.col("minimum_due")
    return frame.select(
        "account_id",
        "statement_date",
        "due_date",
        "statement_balance",
        "minimum_due",
        clamp(pl.col("covered") - before, 0, pl.col("minimum_due")).alias("minimum_covered"),
        pl.when(pl.col("completion_date") <= d)
        .then(pl.col("completion_date"))
        .alias("completion_date"),
        pl.max_horizontal(days_late, 0).cast(pl.Int32).alias("days_late"),
        (pl.col("late") & (pl.col("due_date") < d)).alias("paid_late"),
        ((pl.col("_paid_end") - pl.col("_paid_start")) >= pl.col("statement_balance")).alias(
            "paid_in_full"
        ),
    )
