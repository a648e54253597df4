"""What a business area declares — the seam between postloan's core and its areas.

A business area (collections, later churn, risk, tiers, relationship, reports) is one package
that builds one `Area` and is named once in the registry (`postloan.areas`). The core and the
shells never import an area: they read what the registry hands them —

- `tables` (on the store's one `MetaData`) and an optional Alembic `migrations` folder: the
  area's own branch of revisions, applied with the core's (`store.migrate`);
- `steps`: the area's part of the daily run, run in one transaction with the run's publishing
  after account status is stored (`runs.steps`), each timed in the run record;
- `actions`: permission actions with each role's data scope, merged into the one matrix
  (`access.permissions`), and `commands`: CLI command → action;
- `api_routers`, `web_routers`, `cli` (named "module:attribute" and imported by the shell
  that mounts them: an area imports no shell), `nav`, `templates`, `messages` (zh-CN and en),
  `policy_sections` (the sections of the policy file the area reads);
- `exports`: kinds of `postloan export KIND` the area writes (`AreaExport`), dispatched by the
  core command with its permission check, audit entry and error handling; `imports` likewise
  the kinds of `postloan import KIND FILE` it reads (`AreaImport`);
- `whatif`: the area's part of the policy what-if (`postloan whatif`): given the engine's
  account status of the replayed dates under the policy in force and under a candidate
  (`WhatIfInputs`), its figures under both (`WhatIfFigures`), computed without writing;
- `kpi_figures` and `kpi_drill`: the area's figures for the management pack (`KpiFigures`)
  and the rows behind one of them (`KpiCell` in, `AreaDrill` out).

This module is pure declaration: it imports no area, no store engine and no web framework at
run time (routers and Typer apps are typed as `Any` so the core does not depend on the shells).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

    from postloan.policy import Policy

# The core's own step, which every area step comes after: the dates' account status stored.
ACCOUNT_STATUS_STEP = "account_status"


@dataclass(frozen=True)
class RunInputs:
    """What the run loaded before its publishing transaction, handed on to steps that need
    whole tables (reading them again would cost as much as the run's own load): the portfolio
    with its contract schedules (engine.frames.Portfolio), the areas' schedule changes, and
    what each area's `run_loader` read (`extras[area name]`).

    Why the run loads for the steps: whole-table reads go through ADBC, whose SQLite driver is
    a second copy of SQLite in the process; inside the publishing transaction (Python's
    sqlite3 holding the write lock) closing an ADBC connection would drop that lock
    (`api.workers`) — so steps never open one, they get what was read before."""

    portfolio: Any  # engine.frames.Portfolio
    changes: ScheduleChanges
    extras: Mapping[str, Any] = field(default_factory=dict)
    # What the engine's pass computed for an area's `lateness` request (engine.lateness
    # `Lateness`: the run's dates and the rows the request's filter kept), by area name.
    lateness: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    """What a daily-run step is handed. `dates` are the stored business dates from `first` on,
    in order — empty when none is left (the latest stored date was deleted): a step then undoes
    what it derived from `first` on. Steps flush, never commit (the run commits once), and read
    no clock: `now` is the run's start, for audit-like timestamps only. `inputs`, when the run
    loaded the portfolio (a daily run or backfill; not a date deletion), returns it."""

    conn: Connection
    first: date
    dates: list[date]
    policy: Policy
    run_id: int  # the run (or the date deletion) doing this: cases name the run that opened them
    now: datetime
    inputs: Callable[[], RunInputs] | None = None


@dataclass(frozen=True)
class Step:
    """One named step of the daily run. `name` is `<area>.<what>`; `after` names steps (of any
    area, or `account_status`) that must have run first — the run orders all steps by it."""

    name: str
    run: Callable[[StepContext], object]
    after: tuple[str, ...] = (ACCOUNT_STATUS_STEP,)


@dataclass(frozen=True)
class ActionGrant:
    """A permission action of the area and the data scope each role gets (`"all"`, `"branch"`
    or `"assigned"`; roles not named are refused). The admin gets every action."""

    action: str
    grants: Mapping[str, str]
    about: str = ""


@dataclass(frozen=True)
class NavEntry:
    """A workbench navigation link: shown to users who may do any of `actions`. `label` is a
    message key; `key` marks the link active on the area's pages."""

    path: str
    label: str
    actions: tuple[str, ...]
    key: str


@dataclass(frozen=True)
class ScheduleChanges:
    """Schedules an area changes (collections' approved repayment agreements), as the engine
    takes them: `changes` (engine.schedule_versions.SCHEDULE_CHANGES: a loan's new schedule
    from an effective date), `restructurings` and `agreed_dues` (engine.restructure:
    RESTRUCTURINGS, AGREED_DUES — what classifies a restructured loan)."""

    changes: Any  # polars.DataFrame
    restructurings: Any
    agreed_dues: Any


@dataclass(frozen=True)
class AreaExport:
    """A kind of `postloan export KIND --out FILE [--as-of D]` an area writes. `writer` names
    ("module:function") `write(url, out, as_of) -> rows`, which raises a `postloan.errors`
    domain error when there is nothing to write (no run stored for D, say) and writes CSV or
    Parquet by the file's extension. `action` is the permission it needs (with scope all);
    `personal` marks files with personal information (audited as `export.personal`)."""

    writer: str
    action: str
    personal: bool = False
    needs_as_of: bool = False
    about: str = ""


@dataclass(frozen=True)
class AreaImport:
    """A kind of `postloan import KIND FILE` an area reads (a file of its own, not a
    DATA_CONTRACT one). `loader` names ("module:function") `load(url, file, encoding, actor)
    -> postloan.imports.service.ImportResult`: good rows land, bad ones go to the rejects file
    beside it (row, column, value, reason), a re-import changes nothing. `action` is the
    permission it needs (with scope all); the core command audits it as `import.run`."""

    loader: str
    action: str
    about: str = ""


@dataclass(frozen=True)
class WhatIfInputs:
    """What an area's `whatif` hook is handed: the stored business dates replayed (in order),
    the engine's account status of those dates (engine.frames.ACCOUNT_STATUS + `restructured`)
    under the policy in force and under the candidate, both policies, and a store connection
    to read what else it needs — read only: a hook never writes (the what-if's caller rolls
    the connection back and a test compares every table before and after)."""

    conn: Connection
    dates: tuple[date, ...]
    in_force: Any  # polars.DataFrame
    candidate: Any  # polars.DataFrame
    in_force_policy: Policy
    candidate_policy: Policy


@dataclass(frozen=True)
class WhatIfFigure:
    """One named figure of a what-if under both policies: two frames with the same `keys`
    columns (e.g. as_of, bucket) and numeric value columns; rows missing on one side count as
    zero there. `about` says what it counts (shown with it)."""

    keys: tuple[str, ...]
    in_force: Any  # polars.DataFrame
    candidate: Any  # polars.DataFrame
    about: str = ""


@dataclass(frozen=True)
class WhatIfFigures:
    """An area's what-if answer: its figures by name, and notes on what it could not replay
    (and why) or assumed."""

    figures: Mapping[str, WhatIfFigure]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class KpiFigures:
    """An area's figures for the management pack (`Area.kpi_figures`), under its own KPI
    definitions. `definitions`: KPI id → version (raised whenever the 口径 changes), name_zh,
    name_en, numerator, denominator, basis (`amount` in minor units, `count`, `score`),
    timing, status, period — plain text the pack shows and hashes. `figures`: a polars frame
    with `KPI_FIGURE_COLUMNS` (one row per month, KPI, dimension and value; ratio null when
    the denominator is zero or the figure is a plain count). `left_out`: what the area could
    not give for this caller or period, in plain words."""

    definitions: Mapping[str, Mapping[str, Any]]
    figures: Any  # polars.DataFrame
    left_out: tuple[str, ...] = ()


def kpi_definition(
    version: int,
    zh: str,
    en: str,
    numerator: str,
    denominator: str,
    basis: str,
    *,
    timing: str = "current",
    status: str = "current",
    period: str = "calendar_month",
) -> dict[str, Any]:
    """One KPI definition in `KpiFigures.definitions`' shape (the keys the pack shows and
    hashes): timing current (即期) or lagged (递延), status current or ever, period a calendar
    month or the month-end."""
    return {
        "version": version,
        "name_zh": zh,
        "name_en": en,
        "numerator": numerator,
        "denominator": denominator,
        "basis": basis,
        "timing": timing,
        "status": status,
        "period": period,
    }


# month (YYYY-MM), as_of (the month-end the figure is taken on), kpi, dimension (`portfolio`
# with value `all`, or a breakdown such as `branch`, `team`, `collector`), value, numerator,
# denominator, ratio, low and high (an interval, when the figure has one), definition_version.
KPI_FIGURE_COLUMNS = (
    "month", "as_of", "kpi", "dimension", "value", "numerator", "denominator", "ratio", "low",
    "high", "definition_version",
)  # fmt: skip


@dataclass(frozen=True)
class KpiCell:
    """One cell of an area's `KpiFigures`: the figure's date (its `as_of`), KPI id, dimension
    (`portfolio` with value `all`, or a breakdown the area gives: `branch`, `team`, …) and
    value — what `Area.kpi_drill` is asked to open."""

    as_of: date
    kpi: str
    dimension: str
    value: str


@dataclass(frozen=True)
class AreaDrill:
    """The rows behind one cell of an area's figures (`Area.kpi_drill`), under the same 口径
    and definition version as the area's `kpi_figures`: each row carries what it adds to the
    cell's numerator (`counted`), so their sum is the cell's numerator. `denominator` is the
    cell's denominator where the area gives it with the rows (None for plain counts). `unit`
    says what a row is (customers, accounts, complaints, answers, promises, contacts, costs);
    `columns` the rows' columns in order (`counted` last), `amounts` those in minor units.
    Rows carry ids, dates, branches and the figure's inputs — never a personal field."""

    kpi: str
    definition_version: int
    unit: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    denominator: int | None = None
    amounts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    name: str
    about: str = ""
    tables: tuple[Table, ...] = ()
    migrations: Path | None = None
    steps: tuple[Step, ...] = ()
    actions: tuple[ActionGrant, ...] = ()
    commands: Mapping[str, str] = field(default_factory=dict)
    # The shells' parts are named, "module:attribute", and imported by the shell that mounts
    # them (`resolve`): an area never imports a shell, and importing an area (the daily run
    # does) imports no web framework.
    api_routers: tuple[str, ...] = ()  # fastapi.APIRouter objects
    web_routers: tuple[str, ...] = ()  # APIRouter objects with include_in_schema=False
    # Hooks into the core's read paths, "module:function" like the routers:
    # `schedule_changes(conn) -> ScheduleChanges` for the whole portfolio (the daily run) and
    # `agreed_schedules(conn, account_ids) -> rows` (account_id, effective_date, agreement_id,
    # period, due_date, principal_due, interest_due; dates as ISO text) for one customer's
    # accounts (the 360° view); `customer_view(conn, customer_id) -> dict` adds the area's
    # sections to a customer's 360° view.
    schedule_changes: str | None = None
    agreed_schedules: str | None = None
    customer_view: str | None = None
    # The permission action a caller needs to see the area's 360° sections: without it the
    # hook is called with None (its empty sections) — account access alone is not enough.
    customer_view_action: str | None = None
    # `customer_panel(conn, user, customer_id, lang) -> (template, context) | None`, named like
    # a router (a page module of the area): the area's part of the workbench's 360° page — a
    # template of its own, included there with `context` as `panel` (None: nothing to show to
    # this user for this customer; the area checks its own permission and scope).
    customer_panel: str | None = None
    # `run_loader(conn, policy) -> object`, "module:function": what the area's steps read in
    # bulk, called with the run's ADBC connection while it loads the portfolio (before the
    # publishing transaction); the steps find it in `ctx.inputs().extras[area name]`.
    run_loader: str | None = None
    # `lateness(extras, policy) -> engine.lateness.LatenessWanted | None`, "module:function":
    # per-account lateness counters the area wants from the engine's own pass (computing them
    # in a step would settle every instalment a second time); `extras` is what its run_loader
    # read. The steps find the rows in `ctx.inputs().lateness[area name]`. One area at most
    # asks today (a pass computes one look-back window).
    lateness: str | None = None
    # `whatif(inputs: WhatIfInputs) -> WhatIfFigures`, "module:function": the area's figures
    # replayed under the policy in force and a candidate, read only (`postloan whatif`,
    # composed by management's what-if). Areas without it are named "not replayed".
    whatif: str | None = None
    # `kpi_figures(conn, policy, months, scope) -> KpiFigures`, "module:function": the area's
    # figures for the management pack — `months` the pack's (month "YYYY-MM", month-end date)
    # pairs, `scope` a clause over `customers` (the caller's data scope; `true()` for all).
    # The pack includes the figures of registered areas only.
    kpi_figures: str | None = None
    # `kpi_drill(conn, policy, cell: KpiCell, scope) -> AreaDrill | None`, "module:function":
    # the rows behind one cell of the area's `kpi_figures` (the pack's drill-down), in `scope`
    # (a clause over `customers`); None when `cell.kpi` is not one of the area's KPI ids
    # (answered before any read, so the caller may ask each area in turn). A cell the area
    # cannot open raises a `postloan.errors` kind naming why. The caller audits.
    kpi_drill: str | None = None
    # `demo(conn, policy, before: date, seed: int) -> Mapping[str, int]`, "module:function":
    # what the area's staff would have recorded on a demo store's history before `before` (work
    # the contract files cannot carry: collectors' contacts and promises, say), deterministic
    # from the seed. `postloan demo` runs its dates before `before`, calls the hooks in one
    # transaction, then runs the rest, so those dates' steps see the records as a daily run
    # would; the counts returned are printed.
    demo: str | None = None
    nav: tuple[NavEntry, ...] = ()
    templates: Path | None = None  # the area's page templates, named `<area>/<page>.html`
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # lang → key → text
    cli: str | None = None  # "module:function(app, report)": its commands, its `postloan report`s
    policy_sections: tuple[str, ...] = ()  # the policy file's sections the area reads
    exports: Mapping[str, AreaExport] = field(default_factory=dict)  # kind → what writes it
    imports: Mapping[str, AreaImport] = field(default_factory=dict)  # kind → what reads it
    rationale: str = ""  # why the area's grants are so (docs/permissions.md)


def resolve(ref: str) -> Any:
    """The object a "module:attribute" reference names (an area's router or CLI hook)."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{ref!r} is not a 'module:attribute' reference")
    return getattr(importlib.import_module(module_name), attribute)


def tables_of(*modules: object) -> tuple[Table, ...]:
    """The tables defined in `modules` (an area's `tables` modules), in definition order."""
    from sqlalchemy import Table

    found: list[Table] = []
    for module in modules:
        found += [value for value in vars(module).values() if isinstance(value, Table)]
    return tuple(dict.fromkeys(found))


class StepOrderError(ValueError):
    pass


def order_steps(steps: list[Step]) -> list[Step]:
    """Steps in an order that honours every `after` (stable: declaration order among steps
    free to go). A step after an unknown name, or a cycle, is an error naming the steps."""
    names = {step.name for step in steps} | {ACCOUNT_STATUS_STEP}
    for step in steps:
        unknown = [name for name in step.after if name not in names]
        if unknown:
            raise StepOrderError(f"step {step.name} runs after unknown step(s) {unknown}")
    done = {ACCOUNT_STATUS_STEP}
    ordered: list[Step] = []
    pending = list(steps)
    while pending:
        ready = [step for step in pending if set(step.after) <= done]
        if not ready:
            raise StepOrderError(f"steps wait on each other: {[s.name for s in pending]}")
        step = ready[0]
        ordered.append(step)
        done.add(step.name)
        pending.remove(step)
    return ordered
