"""Drill-down of the other areas' figures in the pack (issue 16 item 3 for `Area.kpi_figures`):
the customers, accounts, complaints, answers, promises, contacts or costs behind one cell of
an area's figures, each with what it adds to the cell (`counted`), so the list sums to the
figure.

The rows are the owning area's to compute: each area that gives figures declares
`Area.kpi_drill(conn, policy, cell, scope) -> AreaDrill | None` beside `Area.kpi_figures`,
and the registry hands them out (`areas.kpi_drill_hooks()`); the hook of the area owning the
KPI id answers (the others answer None), under the same 口径 and definition version as its
figures — management imports no other area (an import-linter contract). Today: churn
(`churn.pack_drill`), relationship (`relationship.pack_drill`: complaints received, decided on
time and open past their deadline by the area's complaint clock, CSAT, NPS) and collections
(`collections.pack_drill`: KPI-1 lines and cure by bucket, whole-book callers only).
`tests/management/test_area_drill.py` checks every cell's list against the area's figures.

This module adds what is management's: the cell's parse (a figure's date, a KPI id, a
dimension the areas give), the answer's shape (`numerator` = the sum of `counted`), the
audit entry (`audited`), and whether a KPI id can be opened at all (`drillable`). The caller's
data scope (a customers clause) is handed to the hook; rows carry no personal field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection

from postloan.access import audit
from postloan.area import AreaDrill, KpiCell
from postloan.errors import InvalidError, NotFoundError
from postloan.policy import Policy

Cell = tuple[date, str, str, str]  # as_of, kpi, dimension, value
# The breakdowns the areas' figures come in (each area refuses those it does not give).
DIMENSIONS = ("portfolio", "branch", "team", "collector", "bucket")


def _hooks() -> dict[str, Callable[..., AreaDrill | None]]:
    from postloan import areas  # the registry imports this area: resolved when called

    return areas.kpi_drill_hooks()


def drillable(area: str) -> bool:
    """The figures of `area` open into the rows behind them (it declares `Area.kpi_drill`)."""
    return area in _hooks()


def drill(
    conn: Connection, policy: Policy, cell: Cell, scope: ColumnElement[bool]
) -> dict[str, Any]:
    """The rows behind one area figure (`cell`: as_of, kpi, dimension, value), each with what
    it adds (`counted`); `numerator` is their sum (for NPS, ÷ `denominator` is the figure)."""
    as_of, kpi, dimension, value = cell
    if dimension not in DIMENSIONS:
        raise InvalidError(f"area figures break down by {', '.join(DIMENSIONS[1:])}, not "
                           f"{dimension!r}", field="dimension")  # fmt: skip
    asked = KpiCell(as_of, kpi, dimension, value)
    for area, hook in _hooks().items():
        found = hook(conn, policy, asked, scope)
        if found is not None:
            return {
                "as_of": as_of.isoformat(),
                "kpi": kpi,
                "area": area,
                "dimension": dimension,
                "value": value,
                "definition_version": found.definition_version,
                "unit": found.unit,
                "numerator": sum(r["counted"] for r in found.rows),
                "denominator": found.denominator,
                "columns": list(found.columns),
                "amounts": list(found.amounts),
                "rows": found.rows,
            }
    raise NotFoundError(f"no area figure {kpi!r} (or its area opens no rows)", field="kpi")


def audited(
    conn: Connection,
    policy: Policy,
    cell: Cell,
    scope: ColumnElement[bool],
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """`drill`, written to the audit log (who opened which rows behind which figure)."""
    found = drill(conn, policy, cell, scope)
    as_of, kpi, dimension, value = cell
    audit.record(
        conn,
        actor=actor,
        action="management.drill",
        target_type="kpi_cell",
        target_id=f"{as_of}/{kpi}/{dimension}={value}",
        detail={"area": found["area"], "rows": len(found["rows"])},
        now=at,
    )
    return found
