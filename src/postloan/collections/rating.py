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

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, delete, func, or_, select

from postloan.collections.casework_tables import alerts, case_ratings
from postloan.collections.rules.rating import (
    EPISODES,
    Transfer,
    bureau_scores,
    open_on,
    transfer_alerts,
    with_fresh,
)
from postloan.collections.rules.rating import FACTOR_INPUTS as FACTOR_INPUTS
from postloan.collections.rules.rating import RATED as RATED
from postloan.collections.rules.rating import changed_ratings as changed_ratings
from postloan.collections.rules.rating import factor_inputs as factor_inputs
from postloan.collections.rules.rating import rate as rate
from postloan.collections.rules.rating import step_points as step_points
from postloan.collections.tables import cases
from postloan.policy import Policy
from postloan.store.schema import account_status, customers, events
from postloan.store.values import as_date, rows_frame


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
    return rows_frame([(r[0], as_date(r[1]), as_date(r[2])) for r in rows], EPISODES)


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
    return bureau_scores(
        rows_frame(
            [(r.customer_id, as_date(r.date), r.detail) for r in rows],
            {"customer_id": pl.String, "date": pl.Date, "detail": pl.String},
        )
    )


def _transfers(rows: list[Any]) -> list[Transfer]:
    return [
        Transfer(r.event_id, r.customer_id, d, r.amount, r.detail)
        for r in rows
        if (d := as_date(r.date)) is not None
    ]


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
    transfers = _transfers(_events(conn, "asset_transfer", who, last_day))
    alerted = set(conn.execute(select(alerts.c.event_id).where(alerts.c.kind == "asset_transfer"))
                  .scalars())  # fmt: skip
    previous = _last_ratings(conn, first)
    for day in days:
        open_now = open_on(episodes, day)
        if open_now.is_empty():
            continue
        inputs = factor_inputs(day, open_now, _status(conn, day), profile, income_events,
                               bureau_events, rating)  # fmt: skip
        rated = rate(inputs, rating)
        fresh = changed_ratings(rated, previous)
        if fresh.height:
            conn.execute(case_ratings.insert(), fresh.with_columns(rated_on=pl.lit(day)).to_dicts())
            previous = with_fresh(previous, fresh)
        raised = transfer_alerts(transfers, day, set(open_now["customer_id"]), alerted,
                                 rating.asset_transfer_lookback_days)  # fmt: skip
        if raised:
            conn.execute(alerts.insert(), raised)
            alerted.update(r["event_id"] for r in raised)
