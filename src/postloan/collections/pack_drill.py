"""The rows behind collections' figures in the management pack (`Area.kpi_drill`, issue 16
item 3): a KPI-1 line (portfolio, a team, a collector) or a bucket's cure rate of one month,
opened into the rows it was summed from — the same frames (`kpis.kpi_inputs`: the month's
first day to the cell's month-end, as `pack_figures` asks for them) and the same attribution
(`rules.kpis.keyed`) — each row with what it adds to the cell's numerator (`counted`):

- recovery rate: the opening overdue pool's accounts held at that level, counted their cash
  recovered (at most their opening overdue); denominator their opening overdue;
- reduction rate: the same accounts, counted their reduction (cash + write-off +
  restructuring + transfer + other; negative when the overdue grew); same denominator;
- cost ratio: the contacts (at the policy's unit cost) and legal costs incurred, counted their
  cost; denominator the amount recovered (pool cash + recoveries after write-off);
- promise-kept rate: the promises decided kept or broken in the month, counted 1 when kept;
  they are the denominator;
- contacts per case: the contacts made, counted 1; denominator the cases open in the month;
- cure rate (dimension `bucket`): the bucket's accounts at the opening, counted their opening
  principal when current at the closing and not disposed of; denominator their principal.

Like the figures (`pack_figures`), whole-book callers only: KPI-1 lines are attributed to
collectors, not to a customer scope. Rows carry account and customer ids, collectors, teams
and amounts — no personal field. Called by the management area through the registry, which
audits it."""

from __future__ import annotations

import polars as pl
from sqlalchemy import ColumnElement, Connection
from sqlalchemy.sql.elements import True_

from postloan.area import AreaDrill, KpiCell
from postloan.collections.kpis import KpiInputs, kpi_inputs
from postloan.collections.pack_figures import CURE, DEFINITIONS, VERSION
from postloan.collections.rules.kpis import REDUCTION_PARTS, cure_accounts, keyed, staff_teams
from postloan.errors import InvalidError, RefusedError
from postloan.policy import Policy

_LEVELS = ("portfolio", "team", "collector")
_POOL = ("account_id", "customer_id", "collector", "team", "opening", "closing", "cash")
_PARTS = ("cash_reduction", *REDUCTION_PARTS[1:])


def _level(found: KpiInputs, frame: pl.DataFrame, cell: KpiCell) -> pl.DataFrame:
    names = staff_teams(found.by_customer, found.cases)
    return keyed(frame, cell.dimension, names).filter(pl.col("key") == cell.value)


def _drill(found: KpiInputs, cell: KpiCell) -> tuple[pl.DataFrame, int | None, str]:
    """(rows with `counted`, the cell's denominator, unit) for a KPI-1 line."""
    kpi = cell.kpi
    if kpi in ("collections_recovery_rate", "collections_reduction_rate"):
        pool = _level(found, found.by_customer, cell).sort("account_id")
        if kpi == "collections_recovery_rate":
            rows = pool.select(*_POOL, "recovered", pl.col("recovered").alias("counted"))
        else:
            rows = pool.select(*_POOL, *_PARTS, pl.sum_horizontal(_PARTS).alias("counted"))
        return rows, int(pool["opening"].sum()), "accounts"
    if kpi == "collections_cost_ratio":
        costs = _level(found, found.costs, cell)
        recovered = int(_level(found, found.by_customer, cell)["recovered"].sum())
        later = int(_level(found, found.later, cell)["amount"].sum())
        rows = costs.select("item", "customer_id", "by", "cost", pl.col("cost").alias("counted"))
        return rows, recovered + later, "costs"
    if kpi == "collections_promise_kept_rate":
        decided = _level(found, found.promises, cell).sort("promise_id")
        kept = (pl.col("status") == "kept").cast(pl.Int64)
        rows = decided.select("promise_id", "customer_id", "by", "status", kept.alias("counted"))
        return rows, rows.height, "promises"
    made = _level(found, found.contacts, cell).sort("contact_id")
    rows = made.select("contact_id", "customer_id", "by", pl.lit(1, pl.Int64).alias("counted"))
    return rows, _level(found, found.cases, cell).height, "contacts"


def _cure(found: KpiInputs, cell: KpiCell) -> tuple[pl.DataFrame, int | None, str]:
    accounts = cure_accounts(found.before, found.after, found.overdue_buckets, found.disposals)
    accounts = accounts.filter(pl.col("bucket") == cell.value).sort("account_id")
    rows = accounts.select(
        "account_id", "customer_id", "bucket", "dpd", "outstanding_principal", "cured",
        pl.when(pl.col("cured")).then(pl.col("outstanding_principal")).otherwise(0)
        .cast(pl.Int64).alias("counted"),
    )  # fmt: skip
    return rows, int(accounts["outstanding_principal"].sum()), "accounts"


def kpi_drill(
    conn: Connection, policy: Policy, cell: KpiCell, scope: ColumnElement[bool]
) -> AreaDrill | None:
    """The rows behind one collections cell (module doc); None for a KPI not collections'."""
    if cell.kpi not in DEFINITIONS:
        return None
    wanted = ("bucket",) if cell.kpi == CURE else _LEVELS
    if cell.dimension not in wanted:
        raise InvalidError(f"{cell.kpi} breaks down by {' or '.join(wanted)}, not "
                           f"{cell.dimension!r}", field="dimension")  # fmt: skip
    if not isinstance(scope, True_):
        raise RefusedError(
            "collections KPIs are whole-book figures (attributed to collectors, not to a "
            "customer scope): postloan report collections shows the lines you may see",
            field="kpi",
        )
    found = kpi_inputs(conn, cell.as_of.replace(day=1), cell.as_of, policy)
    rows, denominator, unit = _cure(found, cell) if cell.kpi == CURE else _drill(found, cell)
    amounts = [c for c in rows.columns if c in (*_POOL[4:], "recovered", *_PARTS, "cost",
                                                  "outstanding_principal")]  # fmt: skip
    return AreaDrill(
        kpi=cell.kpi,
        definition_version=VERSION,
        unit=unit,
        columns=tuple(rows.columns),
        rows=rows.to_dicts(),
        denominator=denominator,
        amounts=tuple(amounts),
    )
