"""Survey results fed back to the departments (CR-2; seed 003: results go back to the
departments for improvement). Pure: frames in, frames and plain values out.

- Each questionnaire dimension (a question key) is owned by one department (policy data,
  `[relationship.surveys.departments]`); keys not listed are "unowned" (department None).
- Per department, dimension and period (calendar month `YYYY-MM` or quarter `YYYY-Qn`): the
  dimension's CSAT — the share of its scores at or above `satisfied_from` — with Wilson's
  interval (`rules.surveys.csat`), and its change in points against the period before
  (None when either has no answers).
- A low score (at or below `low_score`) on an owned dimension opens one follow-up per
  (response, department), naming the low dimensions and the lowest score.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from postloan.relationship.rules.surveys import csat

# one row per (response, dimension) scored
SCORES = {
    "response_id": pl.Int64,
    "customer_id": pl.String,
    "answered_on": pl.Date,
    "dimension": pl.String,
    "score": pl.Int64,
}
PERIODS = ("month", "quarter")


def period_of(day: date, period: str) -> str:
    return (
        f"{day.year}-{day.month:02d}"
        if period == "month"
        else f"{day.year}-Q{(day.month + 2) // 3}"
    )


def period_start(day: date, period: str) -> date:
    month = day.month if period == "month" else 3 * ((day.month - 1) // 3) + 1
    return date(day.year, month, 1)


def previous_start(day: date, period: str) -> date:
    """The first day of the period before the one holding `day`."""
    first = period_start(day, period)
    back = 1 if period == "month" else 3
    month = first.month - back
    return date(first.year - (month < 1), (month - 1) % 12 + 1, 1)


def periods_between(start: date, end: date, period: str) -> list[str]:
    """The periods from the one holding `start` to the one holding `end`, in order."""
    out: list[str] = []
    day = period_start(start, period)
    step = 1 if period == "month" else 3
    while day <= end:
        out.append(period_of(day, period))
        month = day.month + step
        day = date(day.year + (month > 12), (month - 1) % 12 + 1, 1)
    return out


def with_period(scores: pl.DataFrame, period: str) -> pl.DataFrame:
    day = pl.col("answered_on")
    label = (
        day.dt.strftime("%Y-%m")
        if period == "month"
        else pl.format("{}-Q{}", day.dt.year(), day.dt.quarter())
    )
    return scores.with_columns(label.alias("period"))


def owners_frame(owners: Mapping[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"dimension": list(owners), "department": list(owners.values())},
        schema={"dimension": pl.String, "department": pl.String},
    )


def department_figures(
    scores: pl.DataFrame,
    owners: Mapping[str, str],
    periods: list[str],
    period: str,
    satisfied_from: int,
    confidence: float,
) -> list[dict[str, Any]]:
    """Per department (sorted; unowned last) and dimension: the CSAT of each of `periods`
    with its interval and change against the period before (the period before the first is
    read from `scores` too, when there)."""
    framed = with_period(scores, period).join(owners_frame(owners), on="dimension", how="left")
    grouped = (
        framed.group_by("department", "dimension", "period")
        .agg(pl.col("score"))
        .sort("department", "dimension", "period", nulls_last=True)
    )
    by: dict[tuple[str | None, str], dict[str, list[int]]] = {}
    for dept, dim, per, values in grouped.iter_rows():
        by.setdefault((dept, dim), {})[per] = values
    for dim, dept in owners.items():  # an owned dimension without answers is still shown
        by.setdefault((dept, dim), {})
    wanted = set(periods)
    out: dict[str | None, list[dict[str, Any]]] = {}
    for (dept, dim), per_period in sorted(
        by.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or "", kv[0][1])
    ):
        rows: list[dict[str, Any]] = []
        before: float | None = None
        prev_label = _label_before(periods[0], period) if periods else None
        if prev_label is not None and prev_label in per_period:
            before = csat(per_period[prev_label], satisfied_from, confidence).value
        for label in periods:
            fig = csat(per_period.get(label, []), satisfied_from, confidence)
            change = None if fig.value is None or before is None else fig.value - before
            rows.append(
                {"period": label, "n": fig.n, "value": fig.value, "low": fig.low,
                 "high": fig.high, "change": change}
            )  # fmt: skip
            before = fig.value
        if any(p in wanted for p in per_period) or dept is not None:
            out.setdefault(dept, []).append({"dimension": dim, "periods": rows})
    return [{"department": d, "dimensions": dims} for d, dims in out.items()]


def _label_before(label: str, period: str) -> str:
    year = int(label[:4])
    if period == "month":
        day = previous_start(date(year, int(label[5:7]), 1), period)
    else:
        day = previous_start(date(year, 3 * int(label[6]) - 2, 1), period)
    return period_of(day, period)


def low_scores(scores: pl.DataFrame, owners: Mapping[str, str], low_score: int) -> pl.DataFrame:
    """The follow-ups the scores call for: one row per (response, owning department) with a
    dimension at or below `low_score` — `response_id, department, customer_id, answered_on,
    dimensions` (the low ones, sorted, comma-joined) and `lowest`."""
    low = scores.filter(pl.col("score") <= low_score).join(
        owners_frame(owners), on="dimension", how="inner"
    )
    return (
        low.group_by("response_id", "department")
        .agg(
            pl.col("customer_id").first(),
            pl.col("answered_on").first(),
            pl.col("dimension").sort().str.join(",").alias("dimensions"),
            pl.col("score").min().alias("lowest"),
        )
        .sort("response_id", "department")
    )
