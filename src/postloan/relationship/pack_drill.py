"""The rows behind relationship's figures in the management pack (`Area.kpi_drill`, issue 16
item 3), under `pack_figures`' 口径 and version, each with what it adds to the cell
(`counted`), so the list sums to the cell's numerator:

- `complaints_received`: complaints received in the cell's month, counted 1;
- `complaint_on_time_rate`: complaints decided in the month, counted 1 when decided by their
  deadline — the deadline is the area's complaint clock (`rules.clock.deadline`, through
  `pack_figures.complaint_frame`, the frame the figure itself is summed from); the rows are
  the denominator;
- `complaints_breached_open`: complaints received by the cell's date, undecided then, whose
  deadline had passed, counted 1;
- `csat`: survey answers in the month (the branch when answered), counted 1 at or above the
  policy's satisfied score — the rows are the denominator; `nps`: the same answers, counted +1
  for a promoter (9-10), −1 for a detractor (0-6): their mean is the NPS (as a fraction).

A complaint's branch is its customer's. The month runs from its first day to its last, or
the latest stored date when earlier (the pack's default period ends there). In the caller's
scope (a customers clause); ids, dates, branch, deadline and scores only — no name, complaint
text or survey comment. Called by the management area through the registry, which audits."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, select

from postloan.area import AreaDrill, KpiCell
from postloan.errors import InvalidError
from postloan.policy import Policy
from postloan.relationship.pack_figures import DEFINITIONS, VERSION, complaint_frame, marked
from postloan.relationship.tables import survey_responses
from postloan.store.dates import latest_stored_date
from postloan.store.schema import customers
from postloan.store.values import stored_date

NONE = "(none)"
# complaint KPI → the `marked` column that puts a complaint in its list, the one it counts
_COMPLAINTS = {
    "complaints_received": ("received", "received"),
    "complaint_on_time_rate": ("decided", "on_time"),
    "complaints_breached_open": ("breached", "breached"),
}


def _month(as_of: date, upto: date) -> tuple[date, date]:
    first = as_of.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, min(date.fromordinal(following.toordinal() - 1), upto)


def _complaints(
    conn: Connection, policy: Policy, cell: KpiCell, scope: ColumnElement[bool]
) -> AreaDrill:
    first, last = _month(cell.as_of, latest_stored_date(conn) or cell.as_of)
    listed, counted = _COMPLAINTS[cell.kpi]
    frame = marked(complaint_frame(conn, policy, first, last, scope), first.strftime("%Y-%m"),
                   cell.as_of)  # fmt: skip
    if cell.dimension == "branch":
        frame = frame.filter(pl.col("branch") == cell.value)
    frame = frame.filter(pl.col(listed)).sort("complaint_id")
    columns = ("complaint_id", "customer_id", "branch", "received_on", "decided_on", "deadline")
    rows = frame.select(
        *columns[:3],
        *(pl.col(c).dt.strftime("%Y-%m-%d") for c in columns[3:]),
        pl.col(counted).cast(pl.Int64).alias("counted"),
    ).to_dicts()
    return AreaDrill(
        kpi=cell.kpi,
        definition_version=VERSION,
        unit="complaints",
        columns=(*columns, "counted"),
        rows=rows,
        denominator=len(rows) if cell.kpi == "complaint_on_time_rate" else None,
    )


def _answers(
    conn: Connection, policy: Policy, cell: KpiCell, scope: ColumnElement[bool]
) -> AreaDrill:
    a = survey_responses.c
    first, last = _month(cell.as_of, latest_stored_date(conn) or cell.as_of)
    satisfied = policy.relationship.surveys.csat_satisfied_from
    query = (
        select(a.response_id, a.customer_id, a.branch_id, a.answered_on, a.csat, a.nps)
        .join(customers, customers.c.customer_id == a.customer_id)
        .where(a.answered_on >= first, a.answered_on <= last, scope)
        .order_by(a.response_id)
    )
    rows: list[dict[str, Any]] = []
    for r in conn.execute(query):
        branch = r.branch_id or NONE
        if cell.dimension == "branch" and branch != cell.value:
            continue
        score = int(r.csat if cell.kpi == "csat" else r.nps)
        if cell.kpi == "csat":
            counted = int(score >= satisfied)
        else:  # a promoter adds 1, a detractor takes 1 away: the mean is the NPS
            counted = 1 if score >= 9 else -1 if score <= 6 else 0
        rows.append({"response_id": r.response_id, "customer_id": r.customer_id,
                     "branch": branch, "answered_on": stored_date(r.answered_on).isoformat(),
                     "score": score, "counted": counted})  # fmt: skip
    return AreaDrill(
        kpi=cell.kpi,
        definition_version=VERSION,
        unit="answers",
        columns=("response_id", "customer_id", "branch", "answered_on", "score", "counted"),
        rows=rows,
        denominator=len(rows),
    )


def kpi_drill(
    conn: Connection, policy: Policy, cell: KpiCell, scope: ColumnElement[bool]
) -> AreaDrill | None:
    """The complaints or answers behind one relationship cell (module doc); None for a KPI
    not relationship's."""
    if cell.kpi not in DEFINITIONS:
        return None
    if cell.dimension not in ("portfolio", "branch"):
        raise InvalidError(
            f"relationship figures break down by branch only, not {cell.dimension!r}",
            field="dimension",
        )
    if cell.kpi in _COMPLAINTS:
        return _complaints(conn, policy, cell, scope)
    return _answers(conn, policy, cell, scope)
