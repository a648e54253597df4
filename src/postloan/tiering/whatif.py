"""Tiering's `Area.whatif` hook: the tiers the candidate policy would give on the replayed
dates beside the policy in force (reads only).

The replay is the LY-4 what-if's (`rules.whatif.replay`: the step's own rules from the stored
figures, the hysteresis from the state stored before the first date), with what a policy
changes in the figures — worst DPD, times late, worst class — taken from each policy's engine
status (`rules.whatif.with_status`). The open-case floor is the stored one (collections' cases
under the policy in force): an area reads no other area's replay."""

from __future__ import annotations

import polars as pl
from sqlalchemy import true

from postloan.area import WhatIfFigure, WhatIfFigures, WhatIfInputs
from postloan.tiering import read
from postloan.tiering.rules.whatif import replay, tier_counts, with_status

OPEN_CASE_NOTE = (
    "tiers: the open-case floor uses the stored collection cases (under the policy in force)"
    " on both sides; a candidate that opens other cases does not move it"
)


def whatif(inputs: WhatIfInputs) -> WhatIfFigures:
    conn, dates = inputs.conn, list(inputs.dates)
    figures = read.figures_between(conn, dates[0], dates[-1], true())
    tiered = set(read.tier_dates_between(conn, dates[0], dates[-1]))
    figures = figures.filter(pl.col("as_of").is_in(dates))
    before = read.state_before(conn, dates[0], true())
    notes = [OPEN_CASE_NOTE]
    missing = [d for d in dates if d not in tiered]
    if missing:
        notes.append(f"tiers: {len(missing)} replayed date(s) have no stored tiering figures"
                     f" (first {missing[0].isoformat()}) and are left out")  # fmt: skip

    def side(status: pl.DataFrame, policy: object) -> pl.DataFrame:
        replayed = replay(with_status(figures, status), before, policy)  # type: ignore[arg-type]
        balances = status.group_by("as_of", "customer_id").agg(
            pl.col("outstanding_principal").sum().cast(pl.Int64).alias("balance")
        )
        return tier_counts(replayed, balances)

    return WhatIfFigures(
        {
            "tiers": WhatIfFigure(
                ("as_of", "tier"),
                side(inputs.in_force, inputs.in_force_policy),
                side(inputs.candidate, inputs.candidate_policy),
                "customers per tier (LY-2, after hysteresis) and their outstanding principal",
            )
        },
        notes=tuple(notes),
    )
