"""Collections' `Area.whatif` hook: the cases and the work a candidate policy would make over
the replayed dates, beside the policy in force (`rules.whatif`; reads only).

Both policies start from the cases stored as open before the first replayed date (with their
stage and the day they entered it) — the cases as they stood when the candidate would have
come into force — and see the same written-off and disposed accounts leave (as the daily
step's `without_disposed`)."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, and_, or_, select

from postloan.area import WhatIfFigure, WhatIfFigures, WhatIfInputs
from postloan.collections.disposals import disposed_accounts
from postloan.collections.rules.whatif import (
    OPEN_BEFORE,
    OVERDUE,
    by_strategy,
    by_team,
    replay,
)
from postloan.collections.tables import case_stages, cases
from postloan.policy import Policy
from postloan.store.schema import customers
from postloan.store.values import rows_frame, stored_date

NOT_REPLAYED = (
    "workload per collector is not replayed: allocation works as of the latest date from the"
    " collectors' current holdings and loads, which are not kept for past dates; the open"
    " cases per (branch, team) pool on the last date are shown instead"
)


def open_before(conn: Connection, first: date) -> pl.DataFrame:
    """OPEN_BEFORE: the stored cases open before `first`, with the stage they were in."""
    c, s = cases.c, case_stages.c
    rows = conn.execute(
        select(c.customer_id, s.stage, c.opened_on, s.entered_on)
        .join(case_stages, s.case_id == c.case_id)
        .where(
            c.opened_on < first,
            or_(c.closed_on.is_(None), c.closed_on >= first),
            s.entered_on < first,
            or_(s.left_on.is_(None), s.left_on >= first),
        )
        .order_by(c.customer_id)
    ).all()
    return rows_frame(
        [(r[0], r[1], stored_date(r[2]), stored_date(r[3])) for r in rows], OPEN_BEFORE
    )


def _overdue(status: pl.DataFrame, gone: pl.DataFrame) -> pl.DataFrame:
    """OVERDUE rows of `status` without the accounts out of the books on their date."""
    rows = status.filter(pl.col("dpd") > 0).select(list(OVERDUE)).cast(OVERDUE)  # type: ignore[arg-type]
    if not gone.height:
        return rows
    out = rows.join(gone.select("account_id", "effective_on"), on="account_id", how="left")
    return out.filter(
        pl.col("effective_on").is_null() | (pl.col("effective_on") > pl.col("as_of"))
    ).drop("effective_on")


def _branches(conn: Connection, customer_ids: list[str]) -> pl.DataFrame:
    schema = {"customer_id": pl.String, "branch_id": pl.String}
    found: list[tuple[str, str]] = []
    for i in range(0, len(customer_ids), 5_000):
        part = customer_ids[i : i + 5_000]
        found += [tuple(r) for r in conn.execute(
            select(customers.c.customer_id, customers.c.branch_id)
            .where(and_(customers.c.customer_id.in_(part)))
        ).all()]  # fmt: skip
    return rows_frame(found, schema)


def whatif(inputs: WhatIfInputs) -> WhatIfFigures:
    conn, dates = inputs.conn, list(inputs.dates)
    before = open_before(conn, dates[0])
    gone = disposed_accounts(conn, dates[-1])

    def side(status: pl.DataFrame, policy: Policy) -> tuple[pl.DataFrame, ...]:
        found = replay(before, _overdue(status, gone), dates, policy)
        return found.daily, found.stages, found.last

    a_daily, a_stages, a_last = side(inputs.in_force, inputs.in_force_policy)
    b_daily, b_stages, b_last = side(inputs.candidate, inputs.candidate_policy)
    ids = sorted(set(a_last["customer_id"].to_list()) | set(b_last["customer_id"].to_list()))
    branches = _branches(conn, ids)
    return WhatIfFigures(
        {
            "cases": WhatIfFigure(
                ("as_of",),
                a_daily,
                b_daily,
                "collection cases open after each date; opened, moved to "
                "another stage and closed on it",
            ),
            "stages": WhatIfFigure(
                ("as_of", "stage"),
                a_stages,
                b_stages,
                "open cases per stage (the queues) after each date",
            ),
            "strategies": WhatIfFigure(
                ("stage", "strategy", "arm"),
                by_strategy(a_last, inputs.in_force_policy),
                by_strategy(b_last, inputs.candidate_policy),
                "open cases on the last date per treatment strategy (champion/challenger)",
            ),
            "teams": WhatIfFigure(
                ("branch_id", "team"),
                by_team(a_last, branches, inputs.in_force_policy.case_allocation.teams),
                by_team(b_last, branches, inputs.candidate_policy.case_allocation.teams),
                "open cases on the last date per (branch, team) pool — the teams' workload",
            ),
        },
        notes=(NOT_REPLAYED,),
    )
