"""Risk's `Area.whatif` hook: the RK-1 grades and the early-warning signals (EW-1) the
candidate policy would give on the replayed dates beside the policy in force (reads only).

Per policy: the score's status inputs (worst DPD, times late, overdue amount per customer and
date, as `queries.score_inputs` aggregates them in SQL) from that policy's engine status, the
customer file, income reports and churn grades as stored, scored with the policy's `[risk.score]`
(`rules.score.score`), then its signal catalogue (`rules.signals.signal_hits`) over those
scores. Window comparisons before the first date compare with the scores stored before it, and
event counts read the stored events and broken promises — on both sides."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from postloan.area import WhatIfFigure, WhatIfFigures, WhatIfInputs
from postloan.policy import Policy
from postloan.risk import queries
from postloan.risk.rules.score import score
from postloan.risk.rules.signals import DAILY, signal_hits

NOTE = (
    "signals: comparisons reaching before the first date use the scores stored then, and"
    " broken promises are collections' stored ones (under the policy in force), on both sides"
)


def per_customer(status: pl.DataFrame) -> pl.DataFrame:
    """as_of, customer_id, worst_dpd, times_late, overdue_amount, outstanding
    (`queries.score_inputs`)."""
    return status.group_by("as_of", "customer_id").agg(
        pl.col("dpd").max().cast(pl.Int64).alias("worst_dpd"),
        pl.col("cumulative_overdue_periods").max().cast(pl.Int64).alias("times_late"),
        pl.col("overdue_amount").sum().cast(pl.Int64).alias("overdue_amount"),
        pl.col("outstanding_principal").sum().cast(pl.Int64).alias("outstanding"),
    )


def whatif(inputs: WhatIfInputs) -> WhatIfFigures:
    conn, dates = inputs.conn, list(inputs.dates)
    every = [*inputs.in_force_policy.risk.signals, *inputs.candidate_policy.risk.signals]
    window = max((s.window_days or 0 for s in every), default=0)
    lookback = max((s.lookback_days or 0 for s in every), default=0)
    first = dates[0]
    prior = queries.daily_history(conn, first - timedelta(days=2 * window)).filter(
        pl.col("as_of") < first
    )
    dated = queries.dated_facts(conn, first - timedelta(days=lookback), dates[-1])
    file = queries.customer_file(conn).drop("bureau_score")  # as `score_inputs` joins it

    def side(status: pl.DataFrame, policy: Policy) -> tuple[pl.DataFrame, pl.DataFrame]:
        frame = per_customer(status).join(file, on="customer_id", how="inner")
        scored = score(queries.with_reports(conn, frame, dates), policy.risk.score)
        daily = pl.concat([prior, scored.select(list(DAILY)).cast(DAILY)])  # type: ignore[arg-type]
        hits = signal_hits(daily, dated, policy.risk.signals, dates)
        fired = hits.group_by("as_of", "signal_id").agg(pl.len().cast(pl.Int64).alias("hits"))
        grades = scored.group_by("as_of", "grade").agg(pl.len().cast(pl.Int64).alias("customers"))
        return fired.sort("as_of", "signal_id"), grades.sort("as_of", "grade")

    a_hits, a_grades = side(inputs.in_force, inputs.in_force_policy)
    b_hits, b_grades = side(inputs.candidate, inputs.candidate_policy)
    return WhatIfFigures(
        {
            "signals": WhatIfFigure(
                ("as_of", "signal_id"),
                a_hits,
                b_hits,
                "early-warning signal hits (customers) per date",
            ),
            "grades": WhatIfFigure(
                ("as_of", "grade"),
                a_grades,
                b_grades,
                "customers per risk grade (RK-1 score) per date",
            ),
        },
        notes=(NOTE,),
    )
