"""The registry of business areas: the one place that names them.

Adding an area is one package (declaring a `postloan.area.Area`) and one line in `BUILT_IN`.
The core reaches areas only through this module; the shells (API, workbench, CLI), the daily
run (`runs.steps`), the migrations (`store.migrate`) and the permission matrix read what it
hands them. `register` adds an area at run time (a plug-in, or a test's area); registering the
same name again replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from postloan.access.permissions import add_area_actions, remove_area_actions
from postloan.area import (
    Area,
    AreaExport,
    AreaImport,
    NavEntry,
    ScheduleChanges,
    Step,
    order_steps,
    resolve,
)
from postloan.churn.area import AREA as CHURN
from postloan.collections.area import AREA as COLLECTIONS
from postloan.management.area import AREA as MANAGEMENT
from postloan.relationship.area import AREA as RELATIONSHIP
from postloan.risk.area import AREA as RISK
from postloan.tiering.area import AREA as TIERING

BUILT_IN: tuple[Area, ...] = (COLLECTIONS, CHURN, RISK, TIERING, RELATIONSHIP, MANAGEMENT)

_registered: dict[str, Area] = {}
_version = 0  # bumped on every change (caches of merged declarations compare it)


def register(area: Area) -> None:
    global _version
    add_area_actions(area.name, area.actions, area.commands, area.rationale)
    _registered[area.name] = area
    _version += 1


def unregister(name: str) -> None:
    global _version
    if _registered.pop(name, None) is not None:
        remove_area_actions(name)
        _version += 1


@contextmanager
def registered_for_a_while(area: Area) -> Iterator[Area]:
    """`register` for the length of a `with` block (tests)."""
    register(area)
    try:
        yield area
    finally:
        unregister(area.name)


for _area in BUILT_IN:
    register(_area)


def version() -> int:
    return _version


def areas() -> tuple[Area, ...]:
    return tuple(_registered.values())


def daily_steps() -> list[Step]:
    """Every area's daily-run steps, ordered by what each runs after."""
    return order_steps([step for area in _registered.values() for step in area.steps])


def migration_folders() -> list[Path]:
    return [area.migrations for area in _registered.values() if area.migrations is not None]


def api_routers() -> list[Any]:
    return [resolve(ref) for area in _registered.values() for ref in area.api_routers]


def web_routers() -> list[Any]:
    return [resolve(ref) for area in _registered.values() for ref in area.web_routers]


def cli_hooks() -> list[Callable[[Any, Any], None]]:
    """Each area's `add_commands(app, report)`: adds its commands to the `postloan` Typer app
    and its reports to the shared `postloan report` group."""
    return [resolve(area.cli) for area in _registered.values() if area.cli]


def nav_entries() -> list[NavEntry]:
    return [entry for area in _registered.values() for entry in area.nav]


def messages(lang: str) -> dict[str, str]:
    """The areas' messages in `lang` (a key declared twice: the later area's wins)."""
    merged: dict[str, str] = {}
    for area in _registered.values():
        merged.update(area.messages.get(lang, {}))
    return merged


def schedule_change_hooks() -> list[Callable[[Any], ScheduleChanges]]:
    return [resolve(a.schedule_changes) for a in _registered.values() if a.schedule_changes]


def agreed_schedule_hooks() -> list[Callable[[Any, list[str]], list[tuple[Any, ...]]]]:
    return [resolve(a.agreed_schedules) for a in _registered.values() if a.agreed_schedules]


def run_loaders() -> dict[str, Callable[[Any, Any], Any]]:
    """Each area's `run_loader(conn, policy)`, by area name (the run calls them with its bulk
    connection while loading the portfolio)."""
    return {a.name: resolve(a.run_loader) for a in _registered.values() if a.run_loader}


def lateness_hooks() -> dict[str, Callable[[Any, Any], Any]]:
    """Each area's `lateness(extras, policy)` request hook, by area name."""
    return {a.name: resolve(a.lateness) for a in _registered.values() if a.lateness}


def whatif_hooks() -> dict[str, Callable[[Any], Any]]:
    """Each area's what-if hook (`Area.whatif`), by area name, in registry order."""
    return {a.name: resolve(a.whatif) for a in _registered.values() if a.whatif}


def demo_hooks() -> dict[str, Callable[..., Any]]:
    """Each area's demo hook (`Area.demo`), by area name, in registry order."""
    return {a.name: resolve(a.demo) for a in _registered.values() if a.demo}


def without_whatif() -> list[str]:
    """The registered areas that declare no what-if hook (named "not replayed")."""
    return [a.name for a in _registered.values() if not a.whatif]


def kpi_figure_hooks() -> dict[str, Callable[..., Any]]:
    """Each registered area's `kpi_figures(conn, policy, months, scope)` hook, by area name
    (the management pack's figures from other areas)."""
    return {a.name: resolve(a.kpi_figures) for a in _registered.values() if a.kpi_figures}


def kpi_drill_hooks() -> dict[str, Callable[..., Any]]:
    """Each registered area's `kpi_drill(conn, policy, cell, scope)` hook, by area name, in
    registry order (the management pack's drill-down of other areas' figures)."""
    return {a.name: resolve(a.kpi_drill) for a in _registered.values() if a.kpi_drill}


def exports() -> dict[str, AreaExport]:
    """Every area's export kinds (`postloan export KIND`); a kind declared twice: the later
    area's wins."""
    return {kind: spec for area in _registered.values() for kind, spec in area.exports.items()}


def imports() -> dict[str, AreaImport]:
    """Every area's import kinds (`postloan import KIND FILE`); the later area's wins."""
    return {kind: spec for area in _registered.values() for kind, spec in area.imports.items()}


def customer_view_hooks() -> list[tuple[str | None, Callable[[Any, str | None], dict[str, Any]]]]:
    """Each area's 360° hook with the action a caller needs to see its sections."""
    return [
        (a.customer_view_action, resolve(a.customer_view))
        for a in _registered.values()
        if a.customer_view
    ]


def customer_panel_hooks() -> list[Callable[..., tuple[str, dict[str, Any]] | None]]:
    """Each area's part of the workbench's 360° page (`Area.customer_panel`), in registry
    order; imported by the workbench only."""
    return [resolve(a.customer_panel) for a in _registered.values() if a.customer_panel]
