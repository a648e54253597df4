"""Instalment loans as of D, for whole portfolios at once.

Payments fill one queue — instalment 1's interest, its principal, instalment 2's interest, … —
in value-date order (docs/semantics.md). The queue does not depend on when money arrives, so
everything follows from `paid`, the cumulative amount a history has paid:

- instalment i is covered when `paid >= end_i` (its end in the queue); its completion date is the
  first day the history's `paid` reached `end_i` — a forward as-of join;
- the oldest uncovered instalment is the first with `end_i > paid` — another as-of join;
- amounts overdue follow from cumulative sums at the last instalment due before D.

No per-account Python: a handful of sorted joins over the portfolio's frames.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from postloan.engine.asof import (
    asof,
    clamp,
    late_counters,
    latest_due_before,
    paid_as_of,
    run_cum_sum,
    run_index,
    settle_on,
    sort_unless_sorted,
)
from postloan.engine.history import Histories, expand_to_histories


def prepare_instalments(instalments: pl.DataFrame, order: str) -> pl.DataFrame:
    """Account-level schedule with queue positions. In: acct + INSTALMENTS columns."""
    amount = pl.col("principal_due") + pl.col("interest_due")
    frame = sort_unless_sorted(instalments, ["acct", "due_date", "period"]).with_columns(
        run_index("acct").alias("idx"),
        amount.alias("amount"),
        run_cum_sum(amount, "acct").alias("end"),
        run_cum_sum(pl.col("interest_due"), "acct").alias("cum_interest"),
        run_cum_sum(pl.col("principal_due"), "acct").alias("cum_principal"),
    )
    start = pl.col("end") - pl.col("amount")
    if order == "principal_first":
        interest_start, principal_start = start + pl.col("principal_due"), start
    else:
        interest_start, principal_start = start, start + pl.col("interest_due")
    return frame.with_columns(
        interest_start.alias("interest_start"), principal_start.alias("principal_start")
    )


def settle_dates(
    inst_h: pl.DataFrame, curve: pl.DataFrame, threshold: int, name: str
) -> pl.DataFrame:
    """Add `name`: the day the history's payments covered the instalment.

    With a materiality threshold t, "covered" means at most t is still unpaid on this
    instalment and everything before it (`paid >= end − t`).
    """
    return settle_on(
        inst_h, curve, end="end", owed="amount", reached="paid", threshold=threshold, name=name
    )


def history_instalments(
    inst: pl.DataFrame, histories: Histories, curve: pl.DataFrame, threshold: int
) -> pl.DataFrame:
    """Per history: instalments with their settle date, late flag and running counters."""
    inst_h = expand_to_histories(inst, histories)
    inst_h = settle_dates(inst_h, curve, threshold, "settled_on")
    settled = pl.col("settled_on")
    return late_counters(inst_h, settled.is_null() | (settled > pl.col("due_date")))


def loan_rows(
    rows: pl.DataFrame,
    inst_h: pl.DataFrame,
    curve: pl.DataFrame,
    threshold: int,
) -> pl.DataFrame:
    """Status columns for loan rows (hk, acct, as_of, principal); drops closed loans."""
    return loan_status(loan_lookups(rows, inst_h, curve, threshold), threshold)


def loan_lookups(
    rows: pl.DataFrame,
    inst_h: pl.DataFrame,
    curve: pl.DataFrame,
    threshold: int,
    window_from: pl.Expr | None = None,
) -> pl.DataFrame:
    """Every loan row (closed ones included: `j_end` null) with its as-of look-ups: paid on D,
    the counters at the latest instalment due before D (`k_*`; with `window_from`, also
    `w_cum_late`, see `asof.latest_due_before`), the oldest instalment not covered (`j_*`)
    and, with a materiality threshold, the oldest not materially covered."""
    rows = paid_as_of(rows, curve.select("hk", "value_date", "paid"))
    rows = latest_due_before(
        rows, inst_h, window_from, k_cum_interest="cum_interest", k_cum_principal="cum_principal"
    )

    # j: the oldest instalment not covered (exactly, and after materiality).
    open_inst = inst_h.filter(pl.col("amount") > 0)
    rows = rows.with_columns((pl.col("paid") + 1).alias("_next"))
    first_open = open_inst.select(
        "hk",
        pl.col("end").alias("j_end"),
        pl.col("due_date").alias("j_due"),
        pl.col("interest_due").alias("j_interest"),
        pl.col("principal_due").alias("j_principal"),
        pl.col("interest_start").alias("j_interest_start"),
        pl.col("principal_start").alias("j_principal_start"),
        pl.col("cum_interest").alias("j_cum_interest"),
        pl.col("cum_principal").alias("j_cum_principal"),
    )
    rows = asof(rows, first_open, left_on="_next", right_on="j_end", by="hk", strategy="forward")
    if threshold:
        material = open_inst.select(
            "hk",
            (pl.col("end") - threshold).alias("m_need"),
            pl.col("due_date").alias("m_due"),
        )
        rows = asof(rows, material, left_on="_next", right_on="m_need", by="hk", strategy="forward")
    return rows


def loan_status(rows: pl.DataFrame, threshold: int) -> pl.DataFrame:
    """Status columns from `loan_lookups`' rows; drops closed loans."""
    dpd_from = pl.col("m_due") if threshold else pl.col("j_due")
    paid = pl.col("paid")
    interest_paid_j = clamp(paid - pl.col("j_interest_start"), 0, pl.col("j_interest"))
    principal_paid_j = clamp(paid - pl.col("j_principal_start"), 0, pl.col("j_principal"))
    interest_covered = pl.col("j_cum_interest") - pl.col("j_interest") + interest_paid_j
    principal_covered = pl.col("j_cum_principal") - pl.col("j_principal") + principal_paid_j
    j_overdue = pl.col("j_due") < pl.col("as_of")
    zero = pl.lit(0, dtype=pl.Int64)
    overdue_interest = (
        pl.when(j_overdue).then(pl.col("k_cum_interest") - interest_covered).otherwise(zero)
    )
    overdue_principal = (
        pl.when(j_overdue).then(pl.col("k_cum_principal") - principal_covered).otherwise(zero)
    )
    dpd = (
        pl.when(dpd_from < pl.col("as_of"))
        .then((pl.col("as_of") - dpd_from).dt.total_days())
        .otherwise(0)
    )
    return rows.filter(pl.col("j_end").is_not_null()).select(
        "acct",
        "as_of",
        (pl.col("principal") - principal_covered).alias("outstanding_principal"),
        overdue_principal.alias("overdue_principal"),
        overdue_interest.alias("overdue_interest"),
        (overdue_principal + overdue_interest).alias("overdue_amount"),
        dpd.fill_null(0).cast(pl.Int32).alias("dpd"),
        pl.col("k_consecutive").fill_null(0).cast(pl.Int32).alias("consecutive_overdue_periods"),
        pl.col("k_cum_late").fill_null(0).cast(pl.Int32).alias("cumulative_overdue_periods"),
        "last_payment_date",
    )


def instalment_table(
    inst_h: pl.DataFrame, curve: pl.DataFrame, paid: pl.DataFrame, as_of: date, threshold: int
) -> pl.DataFrame:
    """Per-instalment state as of D (single-date histories: one history per account).

    `paid` holds (hk, paid) — each history's cumulative payments as of D.
    """
    frame = inst_h.join(paid, on="hk", how="left").with_columns(pl.col("paid").fill_null(0))
    if threshold:
        frame = settle_dates(frame, curve, 0, "completion_date")
    else:
        frame = frame.with_columns(pl.col("settled_on").alias("completion_date"))
    d = pl.lit(as_of)
    completion = pl.when(pl.col("completion_date") <= d).then(pl.col("completion_date"))
    settled = pl.col("settled_on")
    days_late = (
        pl.when(settled.is_not_null() & (settled <= d))
        .then((settled - pl.col("due_date")).dt.total_days())
        .when(pl.col("due_date") < d)
        .then((d - pl.col("due_date")).dt.total_days())
        .otherwise(0)
    )
    return frame.select(
        "account_id",
        "period",
        "due_date",
        "principal_due",
        "interest_due",
        clamp(pl.col("paid") - pl.col("interest_start"), 0, pl.col("interest_due")).alias(
            "covered_interest"
        ),
        clamp(pl.col("paid") - pl.col("principal_start"), 0, pl.col("principal_due")).alias(
            "covered_principal"
        ),
        completion.alias("completion_date"),
        pl.max_horizontal(days_late, 0).cast(pl.Int32).alias("days_late"),
        (pl.col("late") & (pl.col("due_date") < d)).alias("paid_late"),
    )
