"""Drill-down of the other areas' figures in the pack (issue 16 item 3 for `Area.kpi_figures`):
the customers, complaints or survey answers behind a churn, complaint or satisfaction cell,
each with what it adds to the cell (`counted`), so the list sums to the figure.

The hook. Each drillable KPI has a reader here, `reader(conn, policy, cell, scope) -> rows`,
found through `READERS` by the KPI id's area. They belong with the areas that own the tables
(an `Area.kpi_drill(conn, policy, as_of, kpi, dimension, value, scope) -> AreaDrill` beside
`Area.kpi_figures`, handed out by `areas.kpi_drill_hooks()`); until the registry has that
field they live here and read the areas' tables by SQL (management imports no other area).
Each mirrors the 口径 of the area's own figures and names that definition's version:
`tests/management/test_area_drill.py` checks every list against the area's figures, so an
area that changes its 口径 (and raises its version) fails the test until the reader follows.

Cells (as_of: the figure's date in `area_figures`; value: the branch, or `all`):
- churn `churn_<rule>_customers|balance`: the customers `churn_identified` holds on that churn
  date with the rule (any rule for `any`), the branch as stored; counted 1 or their balance.
- relationship `complaints_received`: complaints received in the calendar month of as_of, the
  customer's branch; counted 1. `csat`: survey answers in that month (the branch when
  answered), counted 1 when at or above the policy's satisfied score — the numerator is their
  sum, the denominator the answers. `nps`: the same answers, counted +1 for a promoter (9-10),
  −1 for a detractor (0-6): their mean is the NPS (as a fraction).
  Both months run to the latest stored date at most (the pack's default period ends there).
Not drillable yet (refused naming why): complaints decided on time and open past their
deadline (the deadline is relationship's complaint clock, computed and not stored), and
collections' KPI-1 lines and cure by bucket (computed by collections from cases, contacts and
payments) — both need the area's own hook.

Rows carry ids, dates, branch and the figure's inputs — no name, phone, ID number, complaint
text or survey comment; the caller's data scope applies (a customers clause), and the shells
audit every drill-down (`audited`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, Integer, String, column, select, table

from postloan.access import audit
from postloan.errors import InvalidError, NotFoundError
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import customers
from postloan.store.values import stored_date

NONE = "(none)"
# The area definitions' versions these readers follow (the areas' `pack_figures.VERSION`).
VERSIONS = {"churn": 1, "relationship": 1}
RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out", "inactive")

# The areas' tables, named (not imported): what the readers select.
IDENTIFIED = table(
    "churn_identified", column("as_of", Date), column("customer_id", String),
    column("branch_id", String), column("balance", Integer), *(column(r) for r in RULES),
)  # fmt: skip
COMPLAINTS = table(
    "complaints", column("complaint_id", Integer), column("customer_id", String),
    column("received_on", Date), column("decided_on", Date),
)  # fmt: skip
ANSWERS = table(
    "survey_responses", column("response_id", Integer), column("customer_id", String),
    column("branch_id", String), column("answered_on", Date), column("csat", Integer),
    column("nps", Integer),
)  # fmt: skip
CU = customers.c

Cell = tuple[date, str, str, str]  # as_of, kpi, dimension, value
Reader = Callable[[Connection, Policy, Cell, ColumnElement[bool]], dict[str, Any]]


def _branch(stored: Any) -> str:
    return stored or NONE


def _month(as_of: date, upto: date) -> tuple[date, date]:
    first = as_of.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, min(date.fromordinal(following.toordinal() - 1), upto)


def _churn(
    conn: Connection, policy: Policy, cell: Cell, scope: ColumnElement[bool]
) -> dict[str, Any]:
    as_of, kpi, dimension, value = cell
    rule, basis = kpi.removeprefix("churn_").rsplit("_", 1)
    if (rule not in (*RULES, "any")) or basis not in ("customers", "balance"):
        raise NotFoundError(f"no churn figure {kpi!r}", field="kpi")
    i = IDENTIFIED.c
    found = conn.execute(
        select(i.customer_id, i.branch_id, i.balance, *(i[r] for r in RULES))
        .join(customers, CU.customer_id == i.customer_id)
        .where(i.as_of == as_of, scope)
        .order_by(i.customer_id)
    ).all()
    rows = []
    for r in found:
        hits = [k for k in RULES if getattr(r, k)]
        if (rule == "any" and not hits) or (rule != "any" and rule not in hits):
            continue
        if dimension == "branch" and _branch(r.branch_id) != value:
            continue
        rows.append({"customer_id": r.customer_id, "branch": _branch(r.branch_id),
                     "rules": ",".join(hits), "balance": int(r.balance),
                     "counted": 1 if basis == "customers" else int(r.balance)})  # fmt: skip
    return {"unit": "customers", "rows": rows, "denominator": None}


def _complaints(
    conn: Connection, policy: Policy, cell: Cell, scope: ColumnElement[bool]
) -> dict[str, Any]:
    as_of, _, dimension, value = cell
    c = COMPLAINTS.c
    first, last = _month(as_of, latest_stored_date(conn) or as_of)
    query = (
        select(c.complaint_id, c.customer_id, CU.branch_id, c.received_on, c.decided_on)
        .join(customers, CU.customer_id == c.customer_id)
        .where(c.received_on >= first, c.received_on <= last, scope)
        .order_by(c.complaint_id)
    )
    rows = [
        {"complaint_id": r.complaint_id, "customer_id": r.customer_id,
         "branch": _branch(r.branch_id), "received_on": stored_date(r.received_on).isoformat(),
         "decided_on": None if r.decided_on is None else stored_date(r.decided_on).isoformat(),
         "counted": 1}
        for r in conn.execute(query)
    ]  # fmt: skip
    if dimension == "branch":
        rows = [r for r in rows if r["branch"] == value]
    return {"unit": "complaints", "rows": rows, "denominator": None}


def _answers(
    conn: Connection, policy: Policy, cell: Cell, scope: ColumnElement[bool]
) -> dict[str, Any]:
    as_of, kpi, dimension, value = cell
    a = ANSWERS.c
    first, last = _month(as_of, latest_stored_date(conn) or as_of)
    satisfied = policy.relationship.surveys.csat_satisfied_from
    query = (
        select(a.response_id, a.customer_id, a.branch_id, a.answered_on, a.csat, a.nps)
        .join(customers, CU.customer_id == a.customer_id)
        .where(a.answered_on >= first, a.answered_on <= last, scope)
        .order_by(a.response_id)
    )
    rows = []
    for r in conn.execute(query):
        if dimension == "branch" and _branch(r.branch_id) != value:
            continue
        score = int(r.csat if kpi == "csat" else r.nps)
        if kpi == "csat":
            counted = int(score >= satisfied)
        else:  # a promoter adds 1, a detractor takes 1 away: the mean is the NPS
            counted = 1 if score >= 9 else -1 if score <= 6 else 0
        rows.append({"response_id": r.response_id, "customer_id": r.customer_id,
                     "branch": _branch(r.branch_id),
                     "answered_on": stored_date(r.answered_on).isoformat(), "score": score,
                     "counted": counted})  # fmt: skip
    return {"unit": "answers", "rows": rows, "denominator": len(rows)}


# KPI id (or prefix) → (area, reader).
READERS: dict[str, tuple[str, Reader]] = {
    "churn_": ("churn", _churn),
    "complaints_received": ("relationship", _complaints),
    "csat": ("relationship", _answers),
    "nps": ("relationship", _answers),
}
# Figures of other areas that are listed but cannot be drilled yet, and why.
NOT_YET = {
    "complaint_on_time_rate": "its deadlines are relationship's complaint clock, not stored",
    "complaints_breached_open": "its deadlines are relationship's complaint clock, not stored",
    "collections_": "KPI-1 is computed by collections from cases, contacts and payments",
}


def _lookup(kpi: str, table_: dict[str, Any]) -> Any:
    for key, found in table_.items():
        if kpi == key or (key.endswith("_") and kpi.startswith(key)):
            return found
    return None


def drillable(kpi: str) -> bool:
    """A cell of this area KPI opens the rows behind it."""
    return _lookup(kpi, READERS) is not None


def drill(
    conn: Connection, policy: Policy, cell: Cell, scope: ColumnElement[bool]
) -> dict[str, Any]:
    """The rows behind one area figure (`cell`: as_of, kpi, dimension, value), each with what
    it adds (`counted`); `numerator` is their sum (for NPS, ÷ `denominator` is the figure)."""
    as_of, kpi, dimension, value = cell
    if dimension not in ("portfolio", "branch"):
        raise InvalidError(f"area figures break down by branch only, not {dimension!r}",
                           field="dimension")  # fmt: skip
    found = _lookup(kpi, READERS)
    if found is None:
        why = _lookup(kpi, NOT_YET)
        if why is not None:
            raise InvalidError(f"{kpi} cannot be drilled yet: {why}", field="kpi")
        raise NotFoundError(f"no area figure {kpi!r}", field="kpi")
    area, reader = found
    listed = reader(conn, policy, cell, scope)
    return {
        "as_of": as_of.isoformat(),
        "kpi": kpi,
        "area": area,
        "dimension": dimension,
        "value": value,
        "definition_version": VERSIONS[area],
        "unit": listed["unit"],
        "numerator": sum(r["counted"] for r in listed["rows"]),
        "denominator": listed["denominator"],
        "rows": listed["rows"],
    }


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
