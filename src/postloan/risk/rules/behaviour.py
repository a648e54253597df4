"""The behaviour scorecard's characteristics (RK-2) and its target, over whole frames.

History is read as **monthly snapshots**: for each calendar month the latest stored date in it
(`snapshot_dates`) — so a store run daily and one run at month ends give the same features —
and the observation date itself stands for its own month. One row per (as_of, customer_id)
observed, with (N = 3, 6, 12 months: the observation's month and the N − 1 before it):

- `worst_dpd_Nm`: the highest DPD of any of the customer's accounts on the window's snapshots;
- `times_late_Nm`: how many of the window's months found the customer late (DPD > 0);
- `payment_ratio_6m`: paid over the 6 months ÷ (paid + the growth of the overdue amount since
  the snapshot before the window) — what fell due is what was paid plus what was added to the
  arrears; capped at 1 (prepayments), null when nothing was paid and nothing fell into arrears;
- `months_on_book`: whole months since the customer's first loan disbursement or card opening;
- `card_utilisation_pct`: the latest statements' balances ÷ the cards' limits (percent; null
  without a card statement);
- `min_only_payments_6m`: statements of the 6 months, already due, paid at least the minimum
  but less than the balance by their due date (revolving on minimum payments);
- `bureau_score_change`: the latest bureau score in the 12 months (a `bureau_update` event)
  minus the reading before it (the event before, else the customer file's score);
- `income_change_pct`: the latest reported income in the 12 months (an `income_change` event)
  against the file's monthly income, in percent (−30: a 30 % drop).

Target (`targets`): the customer's worst DPD reaches `bad_min_dpd` on a snapshot of the
`outcome_months` months after the observation month — known only when the stored history
reaches the end of that window; customers already at the bad level are not observed.
"""

from __future__ import annotations

from datetime import date

import polars as pl

WINDOWS = (3, 6, 12)
RATIO_MONTHS = 6
EVENT_MONTHS = 12

STATUS = {"as_of": pl.Date, "customer_id": pl.String, "worst_dpd": pl.Int64,
          "overdue_amount": pl.Int64}  # fmt: skip
PAID = {"customer_id": pl.String, "month": pl.Int64, "paid": pl.Int64}  # month: year*12+m-1
OPENED = {"customer_id": pl.String, "opened_on": pl.Date}
STATEMENTS = {"customer_id": pl.String, "card_id": pl.String, "statement_date": pl.Date,
              "due_date": pl.Date, "balance": pl.Int64, "minimum_due": pl.Int64,
              "credit_limit": pl.Int64, "paid_by_due": pl.Int64}  # fmt: skip
READINGS = {"customer_id": pl.String, "date": pl.Date, "value": pl.Int64}
FILE = {"customer_id": pl.String, "monthly_income": pl.Int64, "bureau_score": pl.Int64}

FEATURES = (
    *(f"worst_dpd_{n}m" for n in WINDOWS),
    *(f"times_late_{n}m" for n in WINDOWS),
    "payment_ratio_6m", "months_on_book", "card_utilisation_pct", "min_only_payments_6m",
    "bureau_score_change", "income_change_pct",
)  # fmt: skip


def month_index(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.Int64) * 12 + day.dt.month().cast(pl.Int64) - 1


def snapshot_dates(stored: list[date]) -> list[date]:
    """The latest stored date of each calendar month, in order."""
    latest: dict[tuple[int, int], date] = {}
    for day in sorted(stored):
        latest[(day.year, day.month)] = day
    return list(latest.values())


def _history(obs: pl.DataFrame, status: pl.DataFrame, back: int) -> pl.DataFrame:
    """Each observation joined with the customer's snapshots of its month and the `back` − 1
    months before it: columns as_of, customer_id, lag (0 = the observation's month), and the
    snapshot's worst_dpd and overdue_amount."""
    hist = status.select(
        "customer_id", month_index(pl.col("as_of")).alias("h_month"),
        pl.col("as_of").alias("h_date"), "worst_dpd", "overdue_amount",
    )  # fmt: skip
    return (
        obs.with_columns(month_index(pl.col("as_of")).alias("o_month"))
        .join(hist, on="customer_id")
        .filter(pl.col("h_date") <= pl.col("as_of"))
        .with_columns((pl.col("o_month") - pl.col("h_month")).alias("lag"))
        .filter(pl.col("lag") < back)
    )


def _dpd_features(obs: pl.DataFrame, status: pl.DataFrame) -> pl.DataFrame:
    # Sorted by snapshot date: where an observation's month holds two rows (two observations
    # in one month), the one on or nearest before it is "now".
    hist = _history(obs, status, max(WINDOWS) + 1).sort("h_date")
    return hist.group_by("as_of", "customer_id").agg(
        *(pl.col("worst_dpd").filter(pl.col("lag") < n).max().alias(f"worst_dpd_{n}m")
          for n in WINDOWS),
        *(pl.col("lag").filter((pl.col("lag") < n) & (pl.col("worst_dpd") > 0)).n_unique()
          .cast(pl.Int64).alias(f"times_late_{n}m") for n in WINDOWS),
        pl.col("overdue_amount").filter(pl.col("lag") == 0).last().alias("_overdue_now"),
        pl.col("overdue_amount").filter(pl.col("lag") == RATIO_MONTHS).last()
        .alias("_overdue_before"),
    )  # fmt: skip


def _paid(obs: pl.DataFrame, paid: pl.DataFrame) -> pl.DataFrame:
    return (
        obs.with_columns(month_index(pl.col("as_of")).alias("o_month"))
        .join(paid, on="customer_id")
        .filter((pl.col("month") <= pl.col("o_month"))
                & (pl.col("month") > pl.col("o_month") - RATIO_MONTHS))
        .group_by("as_of", "customer_id")
        .agg(pl.col("paid").sum().alias("_paid"))
    )  # fmt: skip


def _cards(obs: pl.DataFrame, statements: pl.DataFrame) -> pl.DataFrame:
    joined = (
        obs.with_columns(month_index(pl.col("as_of")).alias("o_month"))
        .join(statements, on="customer_id")
        .filter(pl.col("statement_date") <= pl.col("as_of"))
    )
    latest = (
        joined.sort("statement_date")
        .group_by("as_of", "customer_id", "card_id")
        .agg(pl.col("balance").last(), pl.col("credit_limit").last())
        .group_by("as_of", "customer_id")
        .agg(
            pl.when(pl.col("credit_limit").sum() > 0)
            .then(pl.col("balance").sum() * 100 // pl.col("credit_limit").sum())
            .alias("card_utilisation_pct")
        )
    )
    minimum_only = (
        joined.filter(
            (month_index(pl.col("statement_date")) > pl.col("o_month") - RATIO_MONTHS)
            & (pl.col("due_date") <= pl.col("as_of"))
        )
        .group_by("as_of", "customer_id")
        .agg(
            ((pl.col("minimum_due") > 0) & (pl.col("paid_by_due") >= pl.col("minimum_due"))
             & (pl.col("paid_by_due") < pl.col("balance"))).sum().cast(pl.Int64)
            .alias("min_only_payments_6m")
        )
    )  # fmt: skip
    return latest.join(minimum_only, on=["as_of", "customer_id"], how="full", coalesce=True)


def _latest_reading(obs: pl.DataFrame, readings: pl.DataFrame, name: str) -> pl.DataFrame:
    """The latest reading on or before each observation (in its 12 months) and the one
    before it (any time): `{name}` and `{name}_before`."""
    joined = (
        obs.join(readings, on="customer_id")
        .filter(pl.col("date") <= pl.col("as_of"))
        .sort("date")
        .group_by("as_of", "customer_id")
        .agg(pl.col("date").last().alias("_on"), pl.col("value").last().alias(name),
             pl.col("value").slice(-2, 1).first().alias(f"{name}_before"),
             pl.len().alias("_n"))
    )  # fmt: skip
    recent = pl.col("_on") > pl.col("as_of").dt.offset_by(f"-{EVENT_MONTHS}mo")
    return (
        joined.filter(recent)
        .with_columns(
            pl.when(pl.col("_n") > 1).then(pl.col(f"{name}_before")).alias(f"{name}_before")
        )
        .drop("_on", "_n")
    )


def features(
    obs: pl.DataFrame, status: pl.DataFrame, paid: pl.DataFrame, opened: pl.DataFrame,
    statements: pl.DataFrame, bureau: pl.DataFrame, income: pl.DataFrame, file: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """FEATURES for each observation (as_of, customer_id); inputs typed as the module's
    schemas, `status` holding the monthly snapshots up to the observations."""
    keys = ["as_of", "customer_id"]
    out = (
        obs.select(keys)
        .join(_dpd_features(obs, status), on=keys, how="left")
        .join(_paid(obs, paid), on=keys, how="left")
        .join(opened, on="customer_id", how="left")
        .join(_cards(obs, statements), on=keys, how="left")
        .join(_latest_reading(obs, bureau, "_bureau"), on=keys, how="left")
        .join(_latest_reading(obs, income, "_income"), on=keys, how="left")
        .join(file, on="customer_id", how="left")
    )
    arrears = pl.max_horizontal(
        pl.col("_overdue_now").fill_null(0) - pl.col("_overdue_before").fill_null(0), pl.lit(0)
    )
    paid_sum = pl.col("_paid").fill_null(0)
    due = paid_sum + arrears
    return out.with_columns(
        pl.when(due > 0).then(pl.min_horizontal(paid_sum / due, pl.lit(1.0)))
        .alias("payment_ratio_6m"),
        (month_index(pl.col("as_of")) - month_index(pl.col("opened_on"))
         - (pl.col("as_of").dt.day() < pl.col("opened_on").dt.day()).cast(pl.Int64))
        .alias("months_on_book"),
        (pl.col("_bureau") - pl.coalesce(pl.col("_bureau_before"), pl.col("bureau_score")))
        .alias("bureau_score_change"),
        pl.when(pl.col("monthly_income") > 0)
        .then(pl.col("_income") * 100 // pl.col("monthly_income") - 100)
        .alias("income_change_pct"),
    ).select(*keys, *FEATURES)  # fmt: skip


def targets(
    obs: pl.DataFrame, status: pl.DataFrame, bad_min_dpd: int, outcome_months: int
) -> pl.DataFrame:
    """(as_of, customer_id, bad) for the observations whose outcome window the snapshots
    cover and who were not bad already."""
    last = status["as_of"].max()
    if last is None:
        return pl.DataFrame(schema={"as_of": pl.Date, "customer_id": pl.String, "bad": pl.Int8})
    last_month = month_index(pl.lit(last, pl.Date))
    hist = status.select("customer_id", month_index(pl.col("as_of")).alias("h_month"), "worst_dpd")
    later = (
        obs.with_columns(month_index(pl.col("as_of")).alias("o_month"))
        .join(hist, on="customer_id")
        .filter((pl.col("h_month") > pl.col("o_month"))
                & (pl.col("h_month") <= pl.col("o_month") + outcome_months))
        .group_by("as_of", "customer_id")
        .agg(pl.col("worst_dpd").max().alias("_worst_after"))
    )  # fmt: skip
    now = status.select("as_of", "customer_id", pl.col("worst_dpd").alias("_worst_now"))
    return (
        obs.select("as_of", "customer_id")
        .join(now, on=["as_of", "customer_id"], how="left")
        .join(later, on=["as_of", "customer_id"], how="left")
        .filter(
            (month_index(pl.col("as_of")) + outcome_months <= last_month)
            & (pl.col("_worst_now").fill_null(0) < bad_min_dpd)
        )
        .select("as_of", "customer_id",
                (pl.col("_worst_after").fill_null(0) >= bad_min_dpd).cast(pl.Int8).alias("bad"))
    )  # fmt: skip


def out_of_time(frame: pl.DataFrame, months: int) -> pl.Series:
    """True for the rows of the latest `months` observation months (the out-of-time sample)."""
    month = frame.select(month_index(pl.col("as_of"))).to_series()
    latest = frame.select(month_index(pl.col("as_of")).max()).item()
    return month > (latest if latest is not None else 0) - months


def churn_targets(
    obs: pl.DataFrame, identified: pl.DataFrame, last: date, months: int
) -> pl.DataFrame:
    """Churn propensity's target (issue 13 item 3): (as_of, customer_id, bad) — 1 when the
    customer, not identified as churned on the observation date, is identified on a snapshot
    of the `months` months after it. `identified` holds (as_of, customer_id) of the churn
    area's identification on the snapshots; observations whose window passes `last` (the
    latest stored date) are left out."""
    keys = ["as_of", "customer_id"]
    later = (
        obs.with_columns(month_index(pl.col("as_of")).alias("o_month"))
        .join(identified.select("customer_id", month_index(pl.col("as_of")).alias("i_month")),
              on="customer_id")
        .filter((pl.col("i_month") > pl.col("o_month"))
                & (pl.col("i_month") <= pl.col("o_month") + months))
        .select(keys).unique()
        .with_columns(pl.lit(1, pl.Int8).alias("bad"))
    )  # fmt: skip
    last_month = last.year * 12 + last.month - 1
    return (
        obs.select(keys)
        .join(identified.select(keys), on=keys, how="anti")
        .filter(month_index(pl.col("as_of")) + months <= last_month)
        .join(later, on=keys, how="left")
        .with_columns(pl.col("bad").fill_null(0))
    )
