"""The pack and its drill-down for one caller: the store's reads (`queries`) through the pack's
arithmetic (`rules.pack`). Reads only; the shells audit what they hand out.

Every figure names what it was computed under: the policy version, the KPI definitions'
version (`rules.pack.definitions_version`) and each definition's own version, and the runs
whose status rows it read (`runs`: run id per month-end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection
from sqlalchemy.sql.elements import True_

from postloan.access import audit
from postloan.area import KPI_FIGURE_COLUMNS
from postloan.errors import InvalidError, NotFoundError
from postloan.management import queries
from postloan.management.rules import pack as rules
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date


class PackError(InvalidError):
    """Dates reversed or nothing stored in the period (the API answers 422)."""


@dataclass(frozen=True)
class Pack:
    date_from: date
    date_to: date
    months: pl.DataFrame  # month, as_of: the pack's month-ends
    runs: dict[str, list[int]]  # month-end → run ids of its status rows
    policy_version: str
    definitions_version: str
    definitions: dict[str, dict[str, Any]]
    figures: pl.DataFrame  # as_of, month, dimension, value, … (rules.pack.figures + flows)
    roll: pl.DataFrame
    vintage: pl.DataFrame
    dormant: pl.DataFrame
    staff: pl.DataFrame
    left_out: list[str] = field(default_factory=list)
    # Other areas' figures (`Area.kpi_figures`): KPI id → definition (with its `area`), and
    # one row per month, KPI, dimension and value (`AREA_FIGURES`).
    area_definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    area_figures: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=AREA_FIGURES))


AREA_FIGURES: dict[str, Any] = {
    "area": pl.String,
    "month": pl.String,
    "as_of": pl.Date,
    "kpi": pl.String,
    "dimension": pl.String,
    "value": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "ratio": pl.Float64,
    "low": pl.Float64,
    "high": pl.Float64,
    "definition_version": pl.Int64,
}


def area_figures(
    conn: Connection, policy: Policy, months: pl.DataFrame, scope: ColumnElement[bool]
) -> tuple[dict[str, dict[str, Any]], pl.DataFrame, list[str]]:
    """The registered areas' figures for the pack's months (`Area.kpi_figures`, through the
    registry — management imports no other area): definitions by KPI id (each naming its
    area), the figures in one frame, and what the areas left out. An area that is not
    registered gives nothing (its figures join the pack when it is)."""
    from postloan import areas  # the registry imports this area: resolved when called

    wanted = [(r["month"], r["as_of"]) for r in months.iter_rows(named=True)]
    definitions: dict[str, dict[str, Any]] = {}
    frames = [pl.DataFrame(schema=AREA_FIGURES)]
    left_out: list[str] = []
    for name, hook in areas.kpi_figure_hooks().items():
        found = hook(conn, policy, wanted, scope)
        for kpi, definition in found.definitions.items():
            definitions[kpi] = {"area": name, **definition}
        left_out += list(found.left_out)
        if found.figures.height:
            frames.append(
                found.figures.select(KPI_FIGURE_COLUMNS)
                .with_columns(pl.lit(name).alias("area"))
                .select(list(AREA_FIGURES))
                .cast(AREA_FIGURES)
            )
    figures = pl.concat(frames).sort("area", "kpi", "as_of", "dimension", "value")
    return definitions, figures, left_out


def _attributes(
    source: Any, conn: Connection, policy: Policy, scope: ColumnElement[bool]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per account: the dimension columns; loans with theirs)."""
    custs = queries.customers(source, scope)
    loans = queries.loans(source, scope).with_columns(
        rules.term_band(pl.col("term_months"), policy.management.term_bands).alias("term_band")
    )
    return custs, loans


def _attach(
    status: pl.DataFrame,
    custs: pl.DataFrame,
    loans: pl.DataFrame,
    tiers: pl.DataFrame | None,
    disposed: pl.DataFrame | None = None,
    held: pl.DataFrame | None = None,
) -> pl.DataFrame:
    if disposed is not None and disposed.height:
        status = (
            status.join(disposed, on="account_id", how="left")
            .with_columns(
                (
                    pl.col("effective_on").is_not_null()
                    & (pl.col("effective_on") <= pl.col("as_of"))
                ).alias("written_off")
            )
            .drop("effective_on")
        )
    else:
        status = status.with_columns(pl.lit(False).alias("written_off"))
    loan_dims = loans.drop("term_months", "customer_id").rename({"principal": "loan_principal"})
    out = status.join(custs, on="customer_id", how="left").join(
        loan_dims, on="account_id", how="left"
    )
    if tiers is not None:
        out = out.join(tiers, on=["as_of", "customer_id"], how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias("tier"))
    if held is not None:
        out = out.join(held, on=["as_of", "customer_id"], how="left")
    else:
        out = out.with_columns(pl.lit(None, pl.String).alias(c) for c in ("collector", "team"))
    dims = [d for d in rules.DIMENSIONS if d != "portfolio"]
    return out.with_columns(
        pl.when(pl.col("account_type") == "card")
        .then(pl.lit("card"))
        .otherwise(pl.col("product"))
        .alias("product"),
        *(pl.col(d).fill_null(rules.NONE) for d in dims if d != "product"),
    ).with_columns(
        # Few distinct values each: categorical group-bys hash integers, not strings.
        pl.col("product").fill_null(rules.NONE).cast(pl.Categorical),
        *(pl.col(d).cast(pl.Categorical) for d in dims if d != "product"),
    )


def _loan_dims(loans: pl.DataFrame, custs: pl.DataFrame) -> pl.DataFrame:
    """Loans with every dimension but the tier (a customer's on a date) filled in."""
    dims = [d for d in rules.DIMENSIONS if d != "portfolio" and d not in rules.DATED]
    return (
        loans.join(custs, on="customer_id", how="left")
        .with_columns(pl.lit("loan").alias("account_type"))
        .with_columns(pl.col(d).fill_null(rules.NONE) for d in dims)
    )


def latest_date(conn: Connection) -> date | None:
    return latest_stored_date(conn)


def _disposed(source: Any, conn: Connection, upto: date) -> pl.DataFrame | None:
    return queries.disposals(source, upto) if queries.has_table(conn, "account_disposals") else None


def _holders(conn: Connection, days: list[date]) -> pl.DataFrame | None:
    return queries.holders(conn, days) if queries.has_table(conn, "reassignments") else None


def _history(conn: Connection, end: date) -> tuple[list[date], pl.DataFrame]:
    days = queries.stored_dates(conn, end)
    return days, queries.month_ends(days)


def build(
    conn: Connection,
    policy: Policy,
    start: date,
    end: date,
    scope: ColumnElement[bool],
    source: Any = None,
    use_totals: bool = True,
) -> Pack:
    """The pack for the month-ends in [start, end], in `scope` (`source`: an ADBC connection
    for the large reads; default `conn`). A whole-book pack reads the stored month totals
    when they cover its history under this policy (`totals.load`; `use_totals=False`: never),
    otherwise it computes from the status, one month-end at a time (`stream.parts`: memory
    stays about two month-ends of status whatever the number of months)."""
    if start > end:
        raise PackError("from is after to", field="from")
    source = conn if source is None else source
    _, history = _history(conn, end)
    months = history.filter(pl.col("as_of") >= start)
    if not months.height:
        raise PackError(f"no stored status between {start} and {end}", field="to")
    if (
        use_totals
        and isinstance(scope, True_)
        and queries.has_table(conn, "management_month_totals")
    ):
        from postloan.management import totals  # it builds on this module

        stored = totals.load(conn, policy, history, months)
        if stored is not None:
            return assemble(policy, start, end, history, months, stored)
    from postloan.management import stream  # it builds on this module

    parts = stream.parts(source, conn, policy, history, months, scope)
    return assemble(policy, start, end, history, months, parts)


def _cycle_flagged(
    source: Any,
    conn: Connection,
    policy: Policy,
    span: tuple[date, date],
    scope: ColumnElement[bool],
    attributes: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None],
) -> pl.DataFrame:
    """The cards' status on their statement dates in `span`, dimensions attached and flagged
    (the tier and the collector as on the statement date)."""
    custs, loans, disposed = attributes
    rows = queries.cycle_status(source, span[0], span[1], scope)
    days = sorted(set(rows["as_of"].to_list()))
    tiers = queries.tiers(source, days) if queries.has_table(conn, "tier_assignments") else None
    held = _holders(conn, days) if days else None
    attached = _attach(rows, custs, loans, tiers, disposed, held)
    return rules.with_flags(attached, policy.management)


def _cycle(
    source: Any,
    conn: Connection,
    policy: Policy,
    months: pl.DataFrame,
    scope: ColumnElement[bool],
    attributes: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None],
) -> pl.DataFrame | None:
    """The cycle-end definitions' figures for the pack's months (None when there are none)."""
    if not rules.cycle_kpis(policy.management):
        return None
    first = months["as_of"][0].replace(day=1)
    span = (first, months["as_of"][-1])
    flagged = _cycle_flagged(source, conn, policy, span, scope, attributes)
    return rules.cycle_figures(rules.cycle_rows(flagged, months), policy.management)


@dataclass(frozen=True)
class Parts:
    """What a pack is assembled from — computed from the status (`stream.parts`) or read back
    from the stored month totals (`totals.load`): the sums per month-end, dimension and value
    (`rules.aggregates`) of every month-end of the history, and the rest for the pack's."""

    sums: pl.DataFrame
    roll: pl.DataFrame
    back: pl.DataFrame
    disbursed: pl.DataFrame
    dormant: pl.DataFrame
    vintage: pl.DataFrame
    runs: pl.DataFrame  # month, run_id (a list)
    areas: tuple[dict[str, dict[str, Any]], pl.DataFrame, list[str]]
    # The card cycle-end definitions' figures (`rules.cycle_figures`); None without any.
    cycle: pl.DataFrame | None = None


def assemble(
    policy: Policy,
    start: date,
    end: date,
    history: pl.DataFrame,
    months: pl.DataFrame,
    parts: Parts,
) -> Pack:
    """The pack from its parts (one shape whichever way they were obtained)."""
    m = policy.management
    buckets = [b.name for b in policy.dpd_buckets]
    table = rules.figures_from(parts.sums, history, m)
    flows = rules.flow_rates(parts.roll, buckets)
    keys = ["as_of", "dimension", "value"]
    wanted = months.select("as_of", "month")
    table = (
        table.join(flows, on=keys, how="left")
        .join(parts.back, on=keys, how="left")
        .join(wanted, on="as_of")
        .join(parts.disbursed, on=["month", "dimension", "value"], how="left")
        .with_columns(
            pl.col(
                "disbursed_count", "disbursed_amount", "principal_recovered", "interest_recovered"
            ).fill_null(0)
        )
        .drop("_m")
        .sort("as_of", "dimension", "value")
    )
    if parts.cycle is not None:
        table = rules.with_cycle(table, parts.cycle, m)
    dormant = (
        parts.dormant.join(wanted.select("as_of"), on="as_of")
        .sort("as_of")
        .with_columns(pl.lit(m.dormant_share_limit).alias("limit"))
    )
    area_definitions, area_rows, area_left_out = parts.areas
    return Pack(
        date_from=start,
        date_to=end,
        months=wanted,
        runs={r["month"]: r["run_id"] for r in parts.runs.iter_rows(named=True)},
        policy_version=policy.version,
        definitions_version=rules.definitions_version(m),
        definitions={k: d.model_dump(mode="json") for k, d in m.kpis.items()},
        figures=table,
        roll=parts.roll.join(wanted, on="as_of"),
        vintage=parts.vintage,
        dormant=dormant,
        staff=rules.staff_ranking(table, m, months["as_of"][-1]),
        left_out=[*ALWAYS_LEFT_OUT, *area_left_out],
        area_definitions=area_definitions,
        area_figures=area_rows,
    )


# What no pack can hold, whatever its period or scope (DATA_CONTRACT.md: the inputs).
ALWAYS_LEFT_OUT = (
    "LED-3 enterprise size (企业规模: large/medium/small/micro): the contract's customers and "
    "loans files carry no size column, so there is no breakdown by it",
)

DRILL_COLUMNS = (
    "account_id",
    "customer_id",
    "account_type",
    "product",
    "branch",
    "officer",
    "team",
    "collector",
    "dpd",
    "bucket",
    "risk_class",
    "outstanding_principal",
    "overdue_amount",
    "counted",
)


def audited_drill(
    conn: Connection,
    policy: Policy,
    as_of: date,
    cell: tuple[str, str, str],
    scope: ColumnElement[bool],
    actor: str,
    at: datetime,
) -> dict[str, Any]:
    """`drill` of the cell (dimension, value, kpi), written to the audit log: who looked at
    which accounts behind which figure (the API and the workbench page both go through
    here)."""
    dimension, value, kpi = cell
    found = drill(conn, policy, as_of, dimension, value, kpi, scope)
    audit.record(
        conn,
        actor=actor,
        action="management.drill",
        target_type="kpi_cell",
        target_id=f"{as_of}/{kpi}/{dimension}={value}",
        detail={"accounts": len(found["accounts"])},
        now=at,
    )
    return found


def drill(
    conn: Connection,
    policy: Policy,
    as_of: date,
    dimension: str,
    value: str,
    kpi: str,
    scope: ColumnElement[bool],
) -> dict[str, Any]:
    """The accounts behind one cell: those in `kpi`'s numerator on `as_of` (any stored date)
    whose `dimension` is `value`, each with what it adds (`counted`); they sum to the cell's
    numerator. Reads `as_of`'s status rows; "ever" flags also the accounts that met an "ever"
    numerator on a month-end before `as_of`, as the pack counts them (ids only, one SQL
    `DISTINCT` per "ever" definition — not every earlier month-end's rows)."""
    m = policy.management
    if kpi not in m.kpis:
        raise NotFoundError(f"no KPI definition {kpi!r}", field="kpi")
    if dimension not in rules.DIMENSIONS:
        raise InvalidError(f"no dimension {dimension!r}", field="dimension")
    days, history = _history(conn, as_of)
    if as_of not in days:
        raise NotFoundError(f"no stored status on {as_of}", field="as_of")
    earlier = [d for d in history["as_of"].to_list() if d < as_of]
    custs, loans = _attributes(conn, conn, policy, scope)
    status = queries.status_rows(conn, [as_of], scope)
    tiers = queries.tiers(conn, [as_of]) if queries.has_table(conn, "tier_assignments") else None
    disposed = _disposed(conn, conn, as_of)
    held = _holders(conn, [as_of])
    ever = queries.accounts_meeting(conn, queries.ever_clauses(m), earlier, scope)
    flagged = rules.with_flags(_attach(status, custs, loans, tiers, disposed, held), m, ever)
    definition = m.kpis[kpi]
    if definition.period == "cycle_end":
        # Each card on its last statement date of the month up to `as_of` (the cell's rows
        # when `as_of` is the month-end).
        span = (as_of.replace(day=1), as_of)
        month = pl.DataFrame({"month": [as_of.strftime("%Y-%m")], "as_of": [as_of]})
        cards = _cycle_flagged(conn, conn, policy, span, scope, (custs, loans, disposed))
        flagged = rules.cycle_rows(cards, month)
    rows = flagged.filter(pl.col("as_of") == as_of, pl.col(f"hit_{kpi}"))
    if dimension != "portfolio":
        rows = rows.filter(pl.col(dimension) == value)
    rows = rows.with_columns(rules.counted(definition).alias("counted")).sort("account_id")
    run_ids = rows["run_id"].unique().sort().to_list()
    return {
        "as_of": as_of.isoformat(),
        "dimension": dimension,
        "value": value,
        "kpi": kpi,
        "definition_version": definition.version,
        "definitions_version": rules.definitions_version(m),
        "runs": run_ids,
        "numerator": int(rows["counted"].sum() or 0),
        "accounts": rows.select(DRILL_COLUMNS).to_dicts(),
    }
