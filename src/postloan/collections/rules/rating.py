"""Re-rating rules (OD-7), pure: each factor's points from the policy's step tables, the score
and grade, the factor inputs of the cases open on a day, which ratings changed, and the
`asset_transfer` alerts due. The store side is `collections.rating` (module doc there).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from postloan.money import format_amount
from postloan.policy.rating import FACTORS, Rating, Step

# One row per open case on a date: the inputs of the four factors.
FACTOR_INPUTS = {
    "customer_id": pl.String, "case_opened_on": pl.Date, "max_dpd": pl.Int64,
    "overdue_amount": pl.Int64, "income_drop_pct": pl.Int64, "days_since_payment": pl.Int64,
    "bureau_score": pl.Int64,
}  # fmt: skip
RATED = ("score", "grade", "dpd_points", "amount_points", "capacity_points", "credit_points")
MINOR_PER_UNIT = 100  # amounts are minor units (分); the amount steps are whole units


def step_points(values: pl.Series, steps: list[Step], missing: int | None = None) -> pl.Series:
    """Points of the highest step each value reaches; null values get `missing` (default: the
    last step's points)."""
    thresholds = np.array([s.at_least for s in steps], dtype=np.int64)
    points = np.array([s.points for s in steps], dtype=np.int64)
    raw = values.fill_null(0).to_numpy().astype(np.int64)
    index = np.clip(np.searchsorted(thresholds, raw, side="right") - 1, 0, None)
    out = pl.Series(values.name, points[index], dtype=pl.Int64)
    fallback = int(points[-1]) if missing is None else missing
    return pl.select(
        pl.when(values.is_null()).then(pl.lit(fallback, pl.Int64)).otherwise(out)
    ).to_series()


def rate(inputs: pl.DataFrame, rating: Rating) -> pl.DataFrame:
    """customer_id, case_opened_on, score, grade and each factor's points (FACTOR_INPUTS in).

    score = the weights' average of the points, rounded half up to a whole number."""
    income = step_points(inputs["income_drop_pct"].fill_null(0), rating.income_drop_points)
    unpaid = step_points(inputs["days_since_payment"], rating.days_since_payment_points)
    points = {
        "dpd": step_points(inputs["max_dpd"], rating.dpd_points),
        "amount": step_points(inputs["overdue_amount"] // MINOR_PER_UNIT, rating.amount_points),
        "capacity": pl.select(pl.max_horizontal(income, unpaid)).to_series(),
        "credit": step_points(
            inputs["bureau_score"], rating.bureau_score_points, rating.missing_bureau_score_points
        ),
    }
    total_weight = sum(rating.weights[f] for f in FACTORS)
    weighted = pl.select(
        pl.sum_horizontal([points[f] * rating.weights[f] for f in FACTORS])
    ).to_series()
    score = (weighted * 2 + total_weight) // (2 * total_weight)  # half up, in integers
    grade_at = np.array([g.at_least for g in rating.grades], dtype=np.int64)
    names = np.array([g.name for g in rating.grades], dtype=object)
    grade = names[np.searchsorted(grade_at, score.to_numpy(), side="right") - 1]
    return pl.DataFrame(
        {
            "customer_id": inputs["customer_id"],
            "case_opened_on": inputs["case_opened_on"],
            "score": score.cast(pl.Int64),
            "grade": pl.Series(grade.tolist(), dtype=pl.String),
            **{f"{f}_points": points[f].cast(pl.Int64) for f in FACTORS},
        }
    )


def factor_inputs(
    day: date,
    open_cases: pl.DataFrame,
    status: pl.DataFrame,
    profile: pl.DataFrame,
    income_events: pl.DataFrame,
    bureau_events: pl.DataFrame,
    rating: Rating,
) -> pl.DataFrame:
    """FACTOR_INPUTS for the cases open on `day`.

    open_cases: customer_id, case_opened_on; status: that day's overdue rows (customer_id, dpd,
    overdue_amount, last_payment_date); profile: customer_id, monthly_income, bureau_score (on
    file); income_events: customer_id, date, amount; bureau_events: customer_id, date, score —
    events in (date, event_id) order: of two reports on one day the later id counts.
    """
    per_customer = status.group_by("customer_id").agg(
        pl.col("dpd").max().cast(pl.Int64).alias("max_dpd"),
        pl.col("overdue_amount").sum().cast(pl.Int64).alias("overdue_amount"),
        pl.col("last_payment_date").max().alias("last_paid"),
    )
    since = day - timedelta(days=rating.income_lookback_days)
    income = (
        income_events.filter((pl.col("date") <= day) & (pl.col("date") >= since))
        .sort("customer_id", "date", maintain_order=True)
        .group_by("customer_id")
        .agg(pl.col("amount").last().alias("reported_income"))
    )
    bureau = (
        bureau_events.filter(pl.col("date") <= day)
        .sort("customer_id", "date", maintain_order=True)
        .group_by("customer_id")
        .agg(pl.col("score").last().alias("reported_score"))
    )
    on_file = pl.col("monthly_income")
    drop = (
        pl.when((on_file > 0) & (pl.col("reported_income") < on_file))
        .then((on_file - pl.col("reported_income")) * 100 // on_file)
        .otherwise(0)
    )
    return (
        open_cases.join(per_customer, on="customer_id", how="inner")
        .join(profile, on="customer_id", how="left")
        .join(income, on="customer_id", how="left")
        .join(bureau, on="customer_id", how="left")
        .select(
            "customer_id",
            "case_opened_on",
            "max_dpd",
            "overdue_amount",
            drop.cast(pl.Int64).alias("income_drop_pct"),
            (pl.lit(day) - pl.col("last_paid")).dt.total_days().cast(pl.Int64)
            .alias("days_since_payment"),
            pl.coalesce("reported_score", "bureau_score").cast(pl.Int64).alias("bureau_score"),
        )
        .sort("customer_id", "case_opened_on")
    )  # fmt: skip


def changed_ratings(rated: pl.DataFrame, last: pl.DataFrame) -> pl.DataFrame:
    """The rows of `rated` whose score or grade differs from the case's last stored rating."""
    joined = rated.join(last, on=["customer_id", "case_opened_on"], how="left", suffix="_last")
    differs = (pl.col("score") != pl.col("score_last")) | (pl.col("grade") != pl.col("grade_last"))
    return joined.filter(pl.col("score_last").is_null() | differs).select(rated.columns)


EPISODES = {"customer_id": pl.String, "case_opened_on": pl.Date, "closed_on": pl.Date}
RATING_KEY = ["customer_id", "case_opened_on"]


def open_on(episodes: pl.DataFrame, day: date) -> pl.DataFrame:
    """customer_id, case_opened_on of the case episodes (EPISODES) open on `day`: opened on or
    before it and not closed by it."""
    return episodes.filter(
        (pl.col("case_opened_on") <= day)
        & (pl.col("closed_on").is_null() | (pl.col("closed_on") > day))
    ).select("customer_id", "case_opened_on")


def with_fresh(previous: pl.DataFrame, fresh: pl.DataFrame) -> pl.DataFrame:
    """Each case's latest rating once the `fresh` ones are stored (previous: customer_id,
    case_opened_on, score, grade)."""
    return pl.concat(
        [previous.join(fresh, on=RATING_KEY, how="anti"), fresh.select(previous.columns)]
    )


def bureau_scores(events: pl.DataFrame) -> pl.DataFrame:
    """customer_id, date, score of `bureau_update` events (customer_id, date, detail) whose
    detail reads `score=NNN`; the others are left out."""
    score = pl.col("detail").str.extract(r"score\s*=\s*(\d+)", 1).cast(pl.Int64, strict=False)
    return events.select("customer_id", "date", score.alias("score")).drop_nulls("score")


@dataclass(frozen=True)
class Transfer:
    """An `asset_transfer` event."""

    event_id: str
    customer_id: str
    date: date
    amount: int | None
    detail: str | None


def transfer_alerts(
    transfers: Iterable[Transfer],
    day: date,
    in_collections: set[str],
    alerted: set[str],
    lookback_days: int,
) -> list[dict[str, Any]]:
    """The alert rows due on `day`: one per transfer not yet alerted (`alerted`: event ids) of
    a customer in collections that day, dated within the lookback up to the day. One alert per
    event, however often it qualifies."""
    since = day - timedelta(days=lookback_days)
    rows = []
    seen = set(alerted)
    for event in transfers:  # only asset transfers of customers ever in collections: few
        if event.event_id in seen or event.customer_id not in in_collections:
            continue
        if since <= event.date <= day:
            rows.append(
                {"kind": "asset_transfer", "customer_id": event.customer_id,
                 "event_id": event.event_id, "event_date": event.date, "raised_on": day,
                 "detail": transfer_detail(event)}
            )  # fmt: skip
            seen.add(event.event_id)
    return rows


def transfer_detail(event: Transfer) -> str:
    amount = "" if event.amount is None else f" amount {format_amount(int(event.amount))}"
    return f"{event.detail or 'asset transfer'}{amount}"
