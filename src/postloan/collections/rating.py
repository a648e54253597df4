"""Re-rating (OD-7): each open case's risk score and grade, daily, from DPD, overdue amount,
capacity and credit; `asset_transfer` alerts to the risk team.

The factors and their step tables are the policy's `[rating]` (see `policy.rating`):

- dpd: the customer's worst DPD on the day; amount: their total overdue amount (whole units);
- capacity: the larger of the points for the drop of the latest `income_change` (within the
  lookback) against the income on file, and for the days since the last payment on an overdue
  account (never paid: the last step);
- credit: the latest `bureau_update` score (its detail reads `score=NNN`), else the score on
  the customer's file, else the policy's points for a missing score.

`rate` is pure and vectorised (frames in, frames out). `rerate_cases`, a daily-run step, rates
the cases open on each replayed date and stores a `case_ratings` row whenever a case's score or
grade changes (so the table is the rating history). It also raises one alert per
`asset_transfer` event dated within the lookback before a day the customer is in collections.
Replays: ratings and the unacknowledged alerts of the replayed dates are rebuilt; an
acknowledged alert stays (work done stays).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, and_, delete, func, or_, select

from postloan.collections.casework_tables import alerts, case_ratings
from postloan.collections.tables import cases
from postloan.money import format_amount
from postloan.policy import Policy
from postloan.policy.rating import FACTORS, Rating, Step
from postloan.store.schema import account_status, customers, events
from postloan.store.values import as_date, rows_frame

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


def _overlapping(first: date, last: date) -> Any:
    """The cases open on some date from `first` to `last` (a where clause over `cases`)."""
    return and_(
        cases.c.opened_on <= last, or_(cases.c.closed_on.is_(None), cases.c.closed_on > first)
    )


def _episodes(conn: Connection, first: date, last: date) -> pl.DataFrame:
    rows = conn.execute(
        select(cases.c.customer_id, cases.c.opened_on, cases.c.closed_on).where(
            _overlapping(first, last)
        )
    ).all()
    return rows_frame(
        [(r[0], as_date(r[1]), as_date(r[2])) for r in rows],
        {"customer_id": pl.String, "case_opened_on": pl.Date, "closed_on": pl.Date},
    )


def _events(conn: Connection, kind: str, who: Any, last: date) -> list[Any]:
    """Events of one type dated up to `last` of the customers selected by `who`."""
    return list(
        conn.execute(
            select(events.c.event_id, events.c.customer_id, events.c.date, events.c.amount,
                   events.c.detail)
            .where(events.c.type == kind, events.c.date <= last, events.c.customer_id.in_(who))
            .order_by(events.c.date, events.c.event_id)
        ).all()
    )  # fmt: skip


def _bureau_frame(rows: list[Any]) -> pl.DataFrame:
    frame = rows_frame(
        [(r.customer_id, as_date(r.date), r.detail) for r in rows],
        {"customer_id": pl.String, "date": pl.Date, "detail": pl.String},
    )
    score = pl.col("detail").str.extract(r"score\s*=\s*(\d+)", 1).cast(pl.Int64, strict=False)
    return frame.select("customer_id", "date", score.alias("score")).drop_nulls("score")


def _status(conn: Connection, day: date) -> pl.DataFrame:
    rows = conn.execute(
        select(account_status.c.customer_id, account_status.c.dpd,
               account_status.c.overdue_amount, account_status.c.last_payment_date)
        .where(account_status.c.as_of == day, account_status.c.dpd > 0)
    ).all()  # fmt: skip
    return rows_frame(
        [(r[0], r[1], r[2], as_date(r[3])) for r in rows],
        {"customer_id": pl.String, "dpd": pl.Int64, "overdue_amount": pl.Int64,
         "last_payment_date": pl.Date},
    )  # fmt: skip


def _last_ratings(conn: Connection, before: date) -> pl.DataFrame:
    latest = (
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on,
               func.max(case_ratings.c.rated_on).label("rated_on"))
        .where(case_ratings.c.rated_on < before)
        .group_by(case_ratings.c.customer_id, case_ratings.c.case_opened_on)
        .subquery()
    )  # fmt: skip
    rows = conn.execute(
        select(case_ratings.c.customer_id, case_ratings.c.case_opened_on, case_ratings.c.score,
               case_ratings.c.grade)
        .join(latest, and_(latest.c.customer_id == case_ratings.c.customer_id,
                           latest.c.case_opened_on == case_ratings.c.case_opened_on,
                           latest.c.rated_on == case_ratings.c.rated_on))
    ).all()  # fmt: skip
    return rows_frame(
        [(r[0], as_date(r[1]), r[2], r[3]) for r in rows],
        {"customer_id": pl.String, "case_opened_on": pl.Date, "score": pl.Int64,
         "grade": pl.String},
    )  # fmt: skip


def changed_ratings(rated: pl.DataFrame, last: pl.DataFrame) -> pl.DataFrame:
    """The rows of `rated` whose score or grade differs from the case's last stored rating."""
    joined = rated.join(last, on=["customer_id", "case_opened_on"], how="left", suffix="_last")
    differs = (pl.col("score") != pl.col("score_last")) | (pl.col("grade") != pl.col("grade_last"))
    return joined.filter(pl.col("score_last").is_null() | differs).select(rated.columns)


def forget_ratings_from(conn: Connection, first: date) -> None:
    """Drop the ratings from `first` on, and the alerts they raised that nobody has
    acknowledged (an acknowledged alert is work done: it stays)."""
    conn.execute(delete(case_ratings).where(case_ratings.c.rated_on >= first))
    conn.execute(
        delete(alerts).where(alerts.c.raised_on >= first, alerts.c.acknowledged_at.is_(None))
    )


def rerate_cases(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step after the cases (`collections.service.AFTER_CASES`): module doc."""
    if not days:
        return
    rating = policy.rating
    first, last_day = days[0], days[-1]
    forget_ratings_from(conn, first)
    episodes = _episodes(conn, first, last_day)
    who = select(cases.c.customer_id).where(_overlapping(first, last_day)).distinct()
    profile = rows_frame(
        conn.execute(
            select(customers.c.customer_id, customers.c.monthly_income, customers.c.bureau_score)
            .where(customers.c.customer_id.in_(who))
        ).all(),
        {"customer_id": pl.String, "monthly_income": pl.Int64, "bureau_score": pl.Int64},
    )  # fmt: skip
    income_events = rows_frame(
        [(r.customer_id, as_date(r.date), r.amount) for r in _events(conn, "income_change", who,
                                                                      last_day)
         if r.amount is not None],
        {"customer_id": pl.String, "date": pl.Date, "amount": pl.Int64},
    )  # fmt: skip
    bureau_events = _bureau_frame(_events(conn, "bureau_update", who, last_day))
    transfers = _events(conn, "asset_transfer", who, last_day)
    alerted = set(conn.execute(select(alerts.c.event_id).where(alerts.c.kind == "asset_transfer"))
                  .scalars())  # fmt: skip
    previous = _last_ratings(conn, first)
    for day in days:
        open_now = episodes.filter(
            (pl.col("case_opened_on") <= day)
            & (pl.col("closed_on").is_null() | (pl.col("closed_on") > day))
        ).select("customer_id", "case_opened_on")
        if open_now.is_empty():
            continue
        inputs = factor_inputs(day, open_now, _status(conn, day), profile, income_events,
                               bureau_events, rating)  # fmt: skip
        rated = rate(inputs, rating)
        fresh = changed_ratings(rated, previous)
        if fresh.height:
            conn.execute(case_ratings.insert(), fresh.with_columns(rated_on=pl.lit(day)).to_dicts())
            previous = pl.concat(
                [previous.join(fresh, on=["customer_id", "case_opened_on"], how="anti"),
                 fresh.select(previous.columns)]
            )  # fmt: skip
        _raise_alerts(conn, day, set(open_now["customer_id"]), transfers, alerted, rating)


def _raise_alerts(
    conn: Connection,
    day: date,
    in_collections: set[str],
    transfers: list[Any],
    alerted: set[str],
    rating: Rating,
) -> None:
    since = day - timedelta(days=rating.asset_transfer_lookback_days)
    rows = []
    for event in transfers:  # only asset transfers of customers ever in collections: few
        when = as_date(event.date)
        assert when is not None
        if event.event_id in alerted or event.customer_id not in in_collections:
            continue
        if since <= when <= day:
            rows.append(
                {"kind": "asset_transfer", "customer_id": event.customer_id,
                 "event_id": event.event_id, "event_date": when, "raised_on": day,
                 "detail": _transfer_detail(event)}
            )  # fmt: skip
            alerted.add(event.event_id)
    if rows:
        conn.execute(alerts.insert(), rows)


def _transfer_detail(event: Any) -> str:
    amount = "" if event.amount is None else f" amount {format_amount(int(event.amount))}"
    return f"{event.detail or 'asset transfer'}{amount}"
