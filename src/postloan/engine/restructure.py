"""The five-category class of restructured loans (DOMAIN.md "Restructured assets"), vectorised.

An approved repayment agreement makes its loan a restructured asset from the agreement's
effective date. The rules, with N = `restructuring.observation_min_periods`, M =
`observation_min_months`, g = `missed_payment_min_dpd`:

- The observation period starts at a first agreed repayment date S (an agreed due date) and
  ends on E(S) = the later of S + M months and the due date of the N-th agreed instalment
  counted from S (the last agreed one when fewer are left).
- A *missed payment* is a day the loan is at least g days past due. A miss on day L restarts
  the period at the first agreed due date after L (none left: the period stays open until the
  loan is repaid). A miss counts while the period runs, up to E + g (a payment due on E shows
  as missed g days later); after the period has ended, the loan is back under the normal
  rules and later misses are ordinary overdue.
- The loan is `restructured` from the effective date to E + g − 1 of the last counted miss's
  period (or of the first period when none); while it is, its class is at least
  `class_in_observation`, at least its class at restructuring (the class stored the day
  before), and at least `class_after_missed_payment` after a counted miss or when the
  agreement restructured a loan still under observation (a second restructuring).
- A loan restructured again follows its newest agreement from that one's effective date.

Because the period's end only moves later with each miss (E of the first due after L grows
with L), the misses that count are the leading run of misses each within E + g of the one
before — a running comparison, no per-account loop. The status of day D depends only on days
up to D, so re-running a date changes nothing, and earlier days come from the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from postloan.engine.frames import Portfolio
from postloan.engine.schedule_versions import status_history
from postloan.policy import Policy
from postloan.policy.restructuring import CLASS_ORDER

# Approved agreements (one row each), their agreed due dates, and earlier days' DPD.
RESTRUCTURINGS = {
    "agreement_id": pl.Int64,
    "account_id": pl.String,
    "effective_date": pl.Date,
    "class_at_restructuring": pl.String,
    "repeat": pl.Boolean,
}
AGREED_DUES = {"agreement_id": pl.Int64, "due_date": pl.Date}
DPD_HISTORY = {"account_id": pl.String, "as_of": pl.Date, "dpd": pl.Int32}

OPEN_END = date(9999, 12, 31)  # a period that has no agreed due date left to end on
_RANK = {name: i for i, name in enumerate(CLASS_ORDER)}


def _rank(expr: pl.Expr) -> pl.Expr:
    return expr.replace_strict(_RANK, return_dtype=pl.Int8)


def period_ends(dues: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """agreement_id, due_date, end: the end of an observation period starting on each agreed
    due date."""
    r = policy.restructuring
    ordered = dues.sort("agreement_id", "due_date")
    nth = (
        pl.col("due_date")
        .shift(-(r.observation_min_periods - 1))
        .over("agreement_id")
        .fill_null(pl.col("due_date").last().over("agreement_id"))
    )
    months = pl.col("due_date").dt.offset_by(f"{r.observation_min_months}mo")
    return ordered.with_columns(pl.max_horizontal(months, nth).alias("end"))


def _in_force(rows: pl.DataFrame, agreements: pl.DataFrame, on: str) -> pl.DataFrame:
    """Attach the agreement in force on each row's `on` date (latest effective <= it)."""
    right = agreements.sort("effective_date")
    return rows.sort(on).join_asof(
        right,
        left_on=on,
        right_on="effective_date",
        by="account_id",
        strategy="backward",
        check_sortedness=False,  # both sides sorted on the dates just above
    )


def counted_misses(
    misses: pl.DataFrame, ends: pl.DataFrame, first_end: pl.DataFrame, gap: int
) -> pl.DataFrame:
    """agreement_id, missed_on, end: the misses that count, each with the end of the period it
    restarts (OPEN_END when no agreed due date is left)."""
    starts = ends.select("agreement_id", pl.col("due_date").alias("_start"), "end").sort("_start")
    found = (
        misses.with_columns((pl.col("missed_on") + pl.duration(days=1)).alias("_after"))
        .sort("_after")
        .join_asof(starts, left_on="_after", right_on="_start", by="agreement_id",
                   strategy="forward", check_sortedness=False)
        .with_columns(pl.col("end").fill_null(OPEN_END))
        .join(first_end, on="agreement_id")
        .sort("agreement_id", "missed_on")
    )  # fmt: skip
    before = pl.col("end").shift(1).over("agreement_id").fill_null(pl.col("first_end"))
    broken = pl.col("missed_on") > before + pl.duration(days=gap)
    return found.filter(broken.cast(pl.Int32).cum_sum().over("agreement_id") == 0).select(
        "agreement_id", "missed_on", "end"
    )


def classify(
    status: pl.DataFrame,
    agreements: pl.DataFrame,
    dues: pl.DataFrame,
    history: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """`status` (account-status rows) with restructured loans' classes raised, and a
    `restructured` column; rows in no particular order. `history`: the loans' DPD on other
    days (`restructuring_history`); days also in `status` are taken from `status`."""
    if agreements.height == 0 or status.height == 0:
        return status.with_columns(pl.lit(False).alias("restructured"))
    r = policy.restructuring
    gap = r.missed_payment_min_dpd
    agreements = agreements.select(list(RESTRUCTURINGS)).cast(RESTRUCTURINGS)  # type: ignore[arg-type]
    ends = period_ends(dues.select(list(AGREED_DUES)).cast(AGREED_DUES), policy)  # type: ignore[arg-type]
    first_end = ends.group_by("agreement_id").agg(
        pl.col("end").sort_by("due_date").first().alias("first_end")
    )

    touched = pl.col("account_id").is_in(agreements["account_id"].implode())
    mine, others = status.filter(touched), status.filter(~touched)
    mine_days = mine.select(list(DPD_HISTORY)).cast(DPD_HISTORY)  # type: ignore[arg-type]
    earlier = history.select(list(DPD_HISTORY)).cast(DPD_HISTORY)  # type: ignore[arg-type]
    earlier = earlier.join(mine_days, on=["account_id", "as_of"], how="anti")
    days = pl.concat([earlier, mine_days])
    misses = _in_force(
        days.filter(pl.col("dpd") >= gap).select("account_id", pl.col("as_of").alias("missed_on")),
        agreements.select("account_id", "effective_date", "agreement_id"),
        "missed_on",
    ).filter(pl.col("agreement_id").is_not_null())
    counted = counted_misses(misses.select("agreement_id", "missed_on"), ends, first_end, gap)

    rows = _in_force(mine, agreements, "as_of")
    under = rows.filter(pl.col("agreement_id").is_not_null())
    under = (
        under.join(first_end, on="agreement_id", how="left")
        .sort("as_of")
        .join_asof(counted.sort("missed_on"), left_on="as_of", right_on="missed_on",
                   by="agreement_id", strategy="backward", check_sortedness=False)
    )  # fmt: skip
    end = pl.coalesce(pl.col("end"), pl.col("first_end"), pl.lit(OPEN_END))
    restructured = pl.col("as_of") <= end + pl.duration(days=gap - 1)
    worse = _RANK[r.class_after_missed_payment]
    floor = pl.max_horizontal(
        pl.lit(_RANK[r.class_in_observation], dtype=pl.Int8),
        _rank(pl.col("class_at_restructuring").fill_null("normal")),
        pl.when(pl.col("missed_on").is_not_null() | pl.col("repeat").fill_null(False))
        .then(pl.lit(worse, dtype=pl.Int8))
        .otherwise(pl.lit(0, dtype=pl.Int8)),
    )
    raised = pl.max_horizontal(_rank(pl.col("risk_class")), floor).replace_strict(
        dict(enumerate(CLASS_ORDER)), return_dtype=pl.String
    )
    under = under.with_columns(
        pl.when(restructured).then(raised).otherwise(pl.col("risk_class")).alias("risk_class"),
        restructured.alias("restructured"),
    )
    plain = rows.filter(pl.col("agreement_id").is_null()).with_columns(
        pl.lit(False).alias("restructured")
    )
    columns = [*status.columns, "restructured"]
    return pl.concat(
        [
            under.select(columns),
            plain.select(columns),
            others.with_columns(pl.lit(False).alias("restructured")).select(columns),
        ]
    )  # in no particular order (sorting millions of string keys is the costliest step)


def restructuring_history(
    portfolio: Portfolio,
    changes: pl.DataFrame,
    agreements: pl.DataFrame,
    dates: Sequence[date],
    policy: Policy,
) -> pl.DataFrame:
    """DPD_HISTORY rows of restructured loans with a missed payment (dpd >= g), on every
    calendar day from the agreement in force on the first of `dates` (or the loan's first
    agreement) to the last of `dates`: what `classify` needs as `history`.

    Recomputed by the engine for just these loans rather than read from stored status, so the
    classes depend on the data and the date only — not on which dates happen to be stored."""
    if agreements.height == 0 or not dates:
        return pl.DataFrame(schema=DPD_HISTORY)
    first, last = min(dates), max(dates)
    starts = (
        agreements.group_by("account_id")
        .agg(
            pl.col("effective_date").filter(pl.col("effective_date") <= first).max().alias("a"),
            pl.col("effective_date").min().alias("b"),
        )
        .select(pl.coalesce("a", "b").alias("start"), "account_id")
        .filter(pl.col("start") < last)
    )
    if starts.height == 0:
        return pl.DataFrame(schema=DPD_HISTORY)
    start = starts["start"].min()
    assert isinstance(start, date)
    keep = pl.col("account_id").is_in(starts["account_id"].implode())
    sub = Portfolio(
        loans=portfolio.loans.filter(keep),
        instalments=portfolio.instalments.filter(keep),
        payments=portfolio.payments.filter(keep),
    )
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
    status = status_history(sub, changes.filter(keep), days, policy)
    gap = policy.restructuring.missed_payment_min_dpd
    return (
        status.filter(pl.col("dpd") >= gap)
        .join(starts, on="account_id")
        .filter(pl.col("as_of") >= pl.col("start"))
        .select(list(DPD_HISTORY))
        .cast(DPD_HISTORY)  # type: ignore[arg-type]
    )
