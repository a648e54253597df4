"""The model monitoring's outcome query (EW-2), set-based: the stored scores of the months
whose outcome window has elapsed, joined with the stored account status by the database and
aggregated there — never a row per customer into Python (the page stays in the time of one
grouped query at any portfolio size).

A scored row (date D, customer) is **judged** when D's month + `outcome_months` is not after
the last stored month and the customer is not already bad on D (no account at `bad_min_dpd`+);
it is **bad** when some account of the customer reaches `bad_min_dpd` on a monthly snapshot
(the latest stored date of a month) of the `outcome_months` months after D's month — the
behaviour target's definition (`rules.behaviour.targets`). The horizon of each scored date is
a small literal table (one row per scored date: its month and its snapshots' date range), so
the SQL is the same on SQLite and PostgreSQL (no date arithmetic in SQL).

The answer is grouped by (month, band, score, bad): counts and the sum of the PDs. A scorecard
has few distinct scores (sums of bin points), so the rows are months × distinct scores, enough
for the exact AUC and KS of each month (`rules.monitoring.month_ranking`) and the calibration
per band (`rules.monitoring.calibration`).
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, Date, case, func, literal, select, union_all

from postloan.risk.behaviour_tables import risk_behaviour_scores
from postloan.store.schema import account_status
from postloan.store.values import as_date, rows_frame

GROUPED = {"month": pl.Date, "band": pl.Int64, "score": pl.Float64, "bad": pl.Int8,
           "customers": pl.Int64, "pd_sum": pl.Float64}  # fmt: skip


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def observable(day: date, last_stored: date, outcome_months: int) -> bool:
    """Whether a date's outcome window has elapsed in the stored history."""
    return month_index(day) + outcome_months <= month_index(last_stored)


def judged_outcomes(
    conn: Connection, mid: str, scored_dates: list[date], snapshots: list[date],
    last_stored: date, outcome_months: int, bad_min_dpd: int,
) -> pl.DataFrame:  # fmt: skip
    """GROUPED: the judged rows of the model's observable scored dates, per (month, band,
    score, bad): how many and the sum of their PDs."""
    known = [d for d in scored_dates if observable(d, last_stored, outcome_months)]
    if not known or not snapshots:
        return pl.DataFrame(schema=GROUPED)
    # one literal row per judged date: its month, and its horizon as a date range of snapshots
    horizon = union_all(*(
        select(literal(d, Date).label("as_of"),
               literal(month_start(month_index(d)), Date).label("month"),
               literal(month_start(month_index(d) + 1), Date).label("h_from"),
               literal(month_start(month_index(d) + outcome_months + 1), Date).label("h_to"))
        for d in known
    )).subquery("horizon")  # fmt: skip
    # the bad account-status rows of the dates that matter — few, whatever the portfolio — so
    # every join below meets a small table, not the status history (hash joins on
    # PostgreSQL, automatic indexes on SQLite)
    a, s, h = account_status, risk_behaviour_scores, horizon.c
    bad_rows = (
        select(a.c.customer_id, a.c.as_of)
        .where(a.c.as_of.in_(sorted({*snapshots, *known})), a.c.dpd >= bad_min_dpd)
        .distinct()
        .cte("bad_rows")
    )  # fmt: skip
    snapshot_bad = select(bad_rows).where(bad_rows.c.as_of.in_(snapshots)).subquery("later")
    # (scored date, customer) bad on a snapshot of the date's horizon
    bad_after = (
        select(h.as_of, snapshot_bad.c.customer_id)
        .join_from(horizon, snapshot_bad, (snapshot_bad.c.as_of >= h.h_from)
                   & (snapshot_bad.c.as_of < h.h_to))
        .distinct()
        .subquery("bad_after")
    )  # fmt: skip
    bad_now = bad_rows.alias("bad_now")
    judged = (
        select(h.month, s.c.band, s.c.score, s.c.pd,
               case((bad_after.c.customer_id.is_(None), 0), else_=1).label("bad"))
        .join_from(s, horizon, h.as_of == s.c.as_of)
        .outerjoin(bad_now, (bad_now.c.as_of == s.c.as_of)
                   & (bad_now.c.customer_id == s.c.customer_id))
        .outerjoin(bad_after, (bad_after.c.as_of == s.c.as_of)
                   & (bad_after.c.customer_id == s.c.customer_id))
        .where(s.c.model_id == mid, s.c.as_of <= known[-1], bad_now.c.customer_id.is_(None))
        .subquery("judged")
    )  # fmt: skip
    j = judged.c
    rows = conn.execute(
        select(j.month, j.band, j.score, j.bad, func.count(), func.sum(j.pd))
        .group_by(j.month, j.band, j.score, j.bad)
    ).all()  # fmt: skip
    return rows_frame(
        [(as_date(r[0]), int(r[1]), float(r[2]), int(r[3]), int(r[4]), float(r[5]))
         for r in rows], GROUPED)  # fmt: skip
