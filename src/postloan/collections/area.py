"""Collections (催收管理) declared as a business area: what the registry (`postloan.areas`)
hands the daily run, the store's migrations, the permission matrix, the API, the workbench
and the command line.

Its tables' migrations are revisions 0003–0008 of the core chain (written before areas had
branches of their own); tables added from now on go in its own branch (`collections/migrations`,
branch label "collections": the hand-overs from other areas, `collections.handover`).
"""

from __future__ import annotations

from pathlib import Path

from postloan.area import Area, NavEntry, tables_of
from postloan.collections import (
    agreement_tables,
    casework_tables,
    handover_tables,
    legal_tables,
    tables,
)
from postloan.collections.actions import COMMANDS, GRANTS, RATIONALE, CollectionsAction
from postloan.collections.messages import MESSAGES
from postloan.collections.steps import STEPS

C = CollectionsAction


AREA = Area(
    name="collections",
    about="overdue cases, reminders, contact policy and compliance, promises, agreements, "
    "legal, write-off/disposal, allocation, strategies, ratings, KPIs",
    tables=tables_of(tables, agreement_tables, legal_tables, casework_tables, handover_tables),
    migrations=Path(__file__).parent / "migrations",
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    # Its API routes and pages are still in the shells' packages (api/routes, web/): named
    # here, imported by the shells.
    api_routers=(
        "postloan.api.routes.collections:router",
        "postloan.api.routes.casework:router",
        "postloan.api.routes.legal:router",
        "postloan.api.routes.agreements:router",
    ),
    web_routers=("postloan.web.collections_routes:router",),
    schedule_changes="postloan.collections.schedule_changes:portfolio_changes",
    agreed_schedules="postloan.collections.schedule_changes:agreed_rows",
    customer_view="postloan.collections.customer_view:customer_sections",
    nav=(
        NavEntry("/work", "nav.work", (C.CASE_VIEW,), "work"),
        NavEntry("/allocation", "nav.allocation", (C.CASE_ASSIGN,), "allocation"),
        NavEntry("/legal", "nav.legal", (C.LEGAL_MANAGE, C.CASE_VIEW), "legal"),
        NavEntry("/kpis", "nav.kpis", (C.REPORT_COLLECTIONS,), "kpis"),
    ),
    messages=MESSAGES,
    cli="postloan.cli.report_cmd:add_commands",
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
