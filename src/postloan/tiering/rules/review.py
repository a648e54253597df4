"""LY-4 review on the stored history (first part): the tier transition matrix between two
dates, and per tier and month the NPL rate and the next month's NPL and churn rates.

- Transitions: every customer tiered on either date, by (tier on the first, tier on the
  second); `none` where a customer is not tiered on a date (a new or a closed relationship).
- Per month: the month's last tiered date D_m; the cohort of a tier is its customers on D_m.
  `npl_rate` = NPL balance (substandard or worse) ÷ balance of the cohort on D_m (the tier's
  portfolio quality then; null when the balance is 0). Looking forward to the next month with a
  tiered date, D_m+1: `next_npl_rate` = share of the cohort with an NPL balance on D_m+1 and
  `next_churn_rate` = share of the cohort identified as churned on D_m+1 (null when churn was
  not identified on D_m+1, or for the last month). A customer not tiered on D_m+1 counts in
  the denominator and not in the numerator.
"""

from __future__ import annotations

import polars as pl

from postloan.policy.tiering import TIERS

NONE = "none"
ORDER = (*TIERS, NONE)
TRANSITIONS = {"from_tier": pl.String, "to_tier": pl.String, "customers": pl.Int64}
MONTHLY = {
    "month": pl.String, "as_of": pl.Date, "tier": pl.String, "customers": pl.Int64,
    "balance": pl.Int64, "npl_balance": pl.Int64, "npl_rate": pl.Float64,
    "next_as_of": pl.Date, "next_npl_rate": pl.Float64, "next_churn_rate": pl.Float64,
}  # fmt: skip


def transitions(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """TRANSITIONS: every (from, to) pair of ORDER with its customer count (zeros included)."""
    joined = before.select("customer_id", pl.col("tier").alias("from_tier")).join(
        after.select("customer_id", pl.col("tier").alias("to_tier")),
        on="customer_id", how="full", coalesce=True,
    ).with_columns(pl.col("from_tier", "to_tier").fill_null(NONE))  # fmt: skip
    counts = joined.group_by("from_tier", "to_tier").agg(pl.len().cast(pl.Int64).alias("n"))
    grid = pl.DataFrame(
        [(a, b) for a in ORDER for b in ORDER if not (a == NONE and b == NONE)],
        schema={"from_tier": pl.String, "to_tier": pl.String}, orient="row",
    )  # fmt: skip
    return (
        grid.join(counts, on=["from_tier", "to_tier"], how="left")
        .select("from_tier", "to_tier", pl.col("n").fill_null(0).alias("customers"))
        .cast(TRANSITIONS)  # type: ignore[arg-type]
    )


def monthly(history: pl.DataFrame, churned: pl.DataFrame, churn_days: list) -> pl.DataFrame:
    """MONTHLY rows per month and tier. `history`: as_of, customer_id, tier, balance,
    npl_balance (every tiered date of the period and the month after); `churned`: as_of,
    customer_id identified; `churn_days`: the dates churn identification ran."""
    if history.height == 0:
        return pl.DataFrame(schema=MONTHLY)
    month = pl.col("as_of").dt.strftime("%Y-%m")
    ends = (
        history.select("as_of").unique().with_columns(month.alias("month"))
        .group_by("month").agg(pl.col("as_of").max()).sort("month")
        .with_columns(pl.col("as_of").shift(-1).alias("next_as_of"))
    )  # fmt: skip
    cohort = history.join(ends, on="as_of", how="inner")
    later = history.select(
        pl.col("as_of").alias("next_as_of"), "customer_id",
        (pl.col("npl_balance") > 0).alias("next_npl"),
    )  # fmt: skip
    gone = (
        churned.select(pl.col("as_of").alias("next_as_of"), "customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("next_churned"))
    )
    ran = pl.DataFrame({"next_as_of": churn_days}, schema={"next_as_of": pl.Date}).with_columns(
        pl.lit(True).alias("churn_ran")
    )
    cohort = (
        cohort.join(later, on=["next_as_of", "customer_id"], how="left")
        .join(gone, on=["next_as_of", "customer_id"], how="left")
        .join(ran, on="next_as_of", how="left")
    )
    found = cohort.group_by("month", "as_of", "tier").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("balance").sum(),
        pl.col("npl_balance").sum(),
        pl.col("next_as_of").first(),
        pl.col("next_npl").fill_null(False).mean().alias("next_npl_rate"),
        pl.col("next_churned").fill_null(False).mean().alias("next_churn_rate"),
        pl.col("churn_ran").first(),
    )  # fmt: skip
    return (
        found.with_columns(
            pl.when(pl.col("balance") > 0)
            .then(pl.col("npl_balance") / pl.col("balance")).alias("npl_rate"),
            pl.when(pl.col("next_as_of").is_not_null()).then(pl.col("next_npl_rate")),
            pl.when(pl.col("churn_ran").fill_null(False)).then(pl.col("next_churn_rate")),
            pl.col("tier").replace_strict(list(TIERS), list(range(4)),
                                          return_dtype=pl.Int64).alias("rank"),
        )
        .sort("month", "rank")
        .select(list(MONTHLY))
        .cast(MONTHLY)  # type: ignore[arg-type]
    )  # fmt: skip


# LY-4 review, second part: roll rates (迁徙率) and loss rates (损失率) per tier and month.
ROLLS = {
    "month": pl.String, "as_of": pl.Date, "tier": pl.String, "bucket": pl.String,
    "customers": pl.Int64, "balance": pl.Int64, "next_as_of": pl.Date,
    "rolled_balance": pl.Int64, "roll_rate": pl.Float64,
}  # fmt: skip
LOSSES = {
    "month": pl.String, "as_of": pl.Date, "tier": pl.String, "customers": pl.Int64,
    "balance": pl.Int64, "removed_balance": pl.Int64, "next_as_of": pl.Date,
    "loss_balance": pl.Int64, "written_off_balance": pl.Int64, "loss_rate": pl.Float64,
}  # fmt: skip
# The customers with an account written off or disposed (collections' approved disposals):
# the first such account's effective date.
DISPOSED = {"customer_id": pl.String, "disposed_on": pl.Date}


def _month_ends(history: pl.DataFrame) -> pl.DataFrame:
    """month, as_of (its last tiered date), next_as_of (the next month's; null for the last)."""
    return (
        history.select("as_of").unique()
        .with_columns(pl.col("as_of").dt.strftime("%Y-%m").alias("month"))
        .group_by("month").agg(pl.col("as_of").max()).sort("month")
        .with_columns(pl.col("as_of").shift(-1).alias("next_as_of"))
    )  # fmt: skip


def bucket_of(buckets: list[tuple[str, int]]) -> pl.Expr:
    """The index of the DPD bucket of `max_dpd` (`buckets`: (name, min_dpd) ascending from 0)."""
    expr: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for i, (_, low) in enumerate(buckets):
        expr = pl.when(pl.col("max_dpd") >= low).then(pl.lit(i, dtype=pl.Int64)).otherwise(expr)
    return expr


def _rank() -> pl.Expr:
    return pl.col("tier").replace_strict(list(TIERS), list(range(len(TIERS))),
                                         return_dtype=pl.Int64)  # fmt: skip


def rolls(history: pl.DataFrame, buckets: list[tuple[str, int]]) -> pl.DataFrame:
    """ROLLS per month, tier and DPD bucket (all but the last: nothing is worse). The cohort of
    (tier, bucket) is the tier's customers on the month's last tiered date D_m whose worst DPD
    puts them in the bucket; `rolled_balance` = their balance on D_m when their bucket on the
    next month's last tiered date is worse; `roll_rate` = rolled ÷ balance (null when the
    balance is 0 or there is no next month). A customer not tiered then has not rolled (paid
    off or closed). `history`: as_of, customer_id, tier, balance, max_dpd."""
    if history.height == 0 or len(buckets) < 2:
        return pl.DataFrame(schema=ROLLS)
    ends = _month_ends(history)
    placed = history.with_columns(bucket_of(buckets).alias("b"))
    later = placed.select(pl.col("as_of").alias("next_as_of"), "customer_id",
                          pl.col("b").alias("next_b"))  # fmt: skip
    cohort = (
        placed.join(ends, on="as_of", how="inner")
        .filter(pl.col("b") < len(buckets) - 1)
        .join(later, on=["next_as_of", "customer_id"], how="left")
        .with_columns((pl.col("next_b").fill_null(-1) > pl.col("b")).alias("rolled"))
    )
    names = [name for name, _ in buckets]
    found = cohort.group_by("month", "as_of", "tier", "b").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("balance").sum(),
        pl.col("next_as_of").first(),
        pl.col("balance").filter(pl.col("rolled")).sum().alias("rolled_balance"),
    )  # fmt: skip
    return (
        found.with_columns(
            pl.when(pl.col("next_as_of").is_not_null() & (pl.col("balance") > 0))
            .then(pl.col("rolled_balance") / pl.col("balance")).alias("roll_rate"),
            pl.col("b").replace_strict(list(range(len(names))), names, return_dtype=pl.String)
            .alias("bucket"),
            _rank().alias("rank"),
        )
        .sort("month", "rank", "b")
        .select(list(ROLLS))
        .cast(ROLLS)  # type: ignore[arg-type]
    )  # fmt: skip


def losses(history: pl.DataFrame, disposed: pl.DataFrame | None = None) -> pl.DataFrame:
    """LOSSES per month and tier.

    A customer is *lost* on a date when its worst account is in the loss class (损失) then, or
    when one of its accounts has been written off or disposed (`disposed`, DISPOSED: effective
    on or before the date) — a write-off is the lender's recognition of the loss, whatever the
    class says. Of the tier's cohort on D_m (its customers on the month's last tiered date),
    the customers lost on the next month's last tiered date D_m+1 and not on D_m are the
    month's new losses; a disposal effective in (D_m, D_m+1] counts whether or not the customer
    is tiered on D_m+1.

    Written-off and disposed accounts are out of the pool from their effective date (as in the
    core's summary, `reports.summary`): `history`'s optional `removed_balance` (their
    outstanding principal on the date, part of `balance`) is taken out of the cohort's balance
    and reported apart. `balance` = the cohort's balance in the pool on D_m; `loss_balance` =
    the pool balance on D_m of the new losses; `written_off_balance` = the part of it lost by a
    disposal in the month; `loss_rate` = loss ÷ balance (null when 0 or for the last month).
    `history`: as_of, customer_id, tier, balance, worst_class[, removed_balance]."""
    if history.height == 0:
        return pl.DataFrame(schema=LOSSES)
    if "removed_balance" not in history.columns:
        history = history.with_columns(pl.lit(0, dtype=pl.Int64).alias("removed_balance"))
    history = history.with_columns(
        pl.col("removed_balance").fill_null(0),
        (pl.col("balance") - pl.col("removed_balance").fill_null(0)).alias("pool"),
    )
    gone = (pl.DataFrame(schema=DISPOSED) if disposed is None
            else disposed.select(list(DISPOSED)).cast(DISPOSED))  # type: ignore[arg-type]  # fmt: skip
    gone = gone.group_by("customer_id").agg(pl.col("disposed_on").min())
    ends = _month_ends(history)
    later = history.select(pl.col("as_of").alias("next_as_of"), "customer_id",
                           (pl.col("worst_class") == "loss").alias("next_loss"))  # fmt: skip
    on = pl.col("disposed_on")
    cohort = (
        history.join(ends, on="as_of", how="inner")
        .join(later, on=["next_as_of", "customer_id"], how="left")
        .join(gone, on="customer_id", how="left")
        .with_columns(
            (on.is_not_null() & (on <= pl.col("as_of"))).alias("was_written_off"),
            (on.is_not_null() & (on > pl.col("as_of")) & pl.col("next_as_of").is_not_null()
             & (on <= pl.col("next_as_of"))).alias("written_off"),
        )
        .with_columns(
            ((pl.col("worst_class") == "loss") | pl.col("was_written_off")).alias("was_lost"),
        )
        .with_columns(
            ((pl.col("next_loss").fill_null(False) | pl.col("written_off"))
             & ~pl.col("was_lost")).alias("lost"),
        )
    )  # fmt: skip
    found = cohort.group_by("month", "as_of", "tier").agg(
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("pool").sum().alias("balance"),
        pl.col("removed_balance").sum(),
        pl.col("next_as_of").first(),
        pl.col("pool").filter(pl.col("lost")).sum().alias("loss_balance"),
        pl.col("pool").filter(pl.col("lost") & pl.col("written_off")).sum()
        .alias("written_off_balance"),
    )  # fmt: skip
    return (
        found.with_columns(
            pl.when(pl.col("next_as_of").is_not_null() & (pl.col("balance") > 0))
            .then(pl.col("loss_balance") / pl.col("balance")).alias("loss_rate"),
            _rank().alias("rank"),
        )
        .sort("month", "rank")
        .select(list(LOSSES))
        .cast(LOSSES)  # type: ignore[arg-type]
    )  # fmt: skip
