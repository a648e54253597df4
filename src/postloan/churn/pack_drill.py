"""The rows behind churn's figures in the management pack (`Area.kpi_drill`, issue 16 item 3):
for a `churn_<rule>_customers|balance` cell, the customers `churn_identified` holds on the
cell's churn date with that rule (any rule for `any`), the branch as stored — the same rows
`pack_figures` (through `report.churn_report`) counts — each counted 1 or its balance, so the
list sums to the cell's numerator. In the caller's scope (a customers clause); ids, branch,
rules and balance only (no personal field). Called by the management area through the
registry, which audits it."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, select

from postloan.area import AreaDrill, KpiCell
from postloan.churn.pack_figures import VERSION
from postloan.churn.tables import RULE_COLUMNS, churn_identified
from postloan.errors import InvalidError, NotFoundError
from postloan.policy import Policy
from postloan.store.schema import customers

NONE = "(none)"  # a customer stored without a branch (`pack_figures`' value for it)


def _branch(stored: str | None) -> str:
    return stored or NONE


def kpi_drill(
    conn: Connection, policy: Policy, cell: KpiCell, scope: ColumnElement[bool]
) -> AreaDrill | None:
    """The customers behind one churn cell (module doc); None for a KPI not churn's."""
    if not cell.kpi.startswith("churn_"):
        return None
    rule, _, basis = cell.kpi.removeprefix("churn_").rpartition("_")
    if rule not in (*RULE_COLUMNS, "any") or basis not in ("customers", "balance"):
        raise NotFoundError(f"no churn figure {cell.kpi!r}", field="kpi")
    if cell.dimension not in ("portfolio", "branch"):
        raise InvalidError(f"churn figures break down by branch only, not {cell.dimension!r}",
                           field="dimension")  # fmt: skip
    i = churn_identified.c
    query = (
        select(i.customer_id, i.branch_id, i.balance, *(i[r] for r in RULE_COLUMNS))
        .join(customers, customers.c.customer_id == i.customer_id)
        .where(i.as_of == cell.as_of, scope)
        .order_by(i.customer_id)
    )
    if rule != "any":
        query = query.where(i[rule])
    rows = []
    for r in conn.execute(query):
        hits = [k for k in RULE_COLUMNS if getattr(r, k)]
        if not hits or (cell.dimension == "branch" and _branch(r.branch_id) != cell.value):
            continue
        rows.append({"customer_id": r.customer_id, "branch": _branch(r.branch_id),
                     "rules": ",".join(hits), "balance": int(r.balance),
                     "counted": 1 if basis == "customers" else int(r.balance)})  # fmt: skip
    return AreaDrill(
        kpi=cell.kpi,
        definition_version=VERSION,
        unit="customers",
        columns=("customer_id", "branch", "rules", "balance", "counted"),
        rows=rows,
        amounts=("balance",),
    )
