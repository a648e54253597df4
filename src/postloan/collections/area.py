"""Collections (催收管理) declared as a business area: what the registry (`postloan.areas`)
hands the daily run, the store's migrations, the permission matrix, the API, the workbench
and the command line.

Its tables' migrations are revisions 0003–0008 of the core chain (written before areas had
branches of their own); tables added from now on go in an area branch (`Area.migrations`).
"""

from __future__ import annotations

from typing import Any

from postloan.area import Area, NavEntry, tables_of
from postloan.collections import agreement_tables, casework_tables, legal_tables, tables
from postloan.collections.actions import COMMANDS, GRANTS, RATIONALE, CollectionsAction
from postloan.collections.steps import STEPS

C = CollectionsAction


def _api_routers() -> tuple[Any, ...]:
    from postloan.api.routes import agreements, casework, collections, legal

    return (collections.router, casework.router, legal.router, agreements.router)


def _web_routers() -> tuple[Any, ...]:
    from postloan.web.collections_routes import router

    return (router,)


def _add_commands(app: Any) -> None:
    from postloan.cli.report_cmd import report_app

    app.add_typer(report_app, name="report")


AREA = Area(
    name="collections",
    about="overdue cases, reminders, contact policy and compliance, promises, agreements, "
    "legal, write-off/disposal, allocation, strategies, ratings, KPIs",
    tables=tables_of(tables, agreement_tables, legal_tables, casework_tables),
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    api_routers=_api_routers,
    web_routers=_web_routers,
    nav=(
        NavEntry("/work", "nav.work", (C.CASE_VIEW,), "work"),
        NavEntry("/allocation", "nav.allocation", (C.CASE_ASSIGN,), "allocation"),
        NavEntry("/legal", "nav.legal", (C.LEGAL_MANAGE, C.CASE_VIEW), "legal"),
        NavEntry("/kpis", "nav.kpis", (C.REPORT_COLLECTIONS,), "kpis"),
    ),
    cli=_add_commands,
    policy_sections=(
        "collections",
        "contact",
        "reminders",
        "strategies",
        "rating",
        "case_allocation",
        "legal",
        "kpi",
    ),
    rationale=RATIONALE,
)
