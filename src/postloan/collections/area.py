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
    # Its API routes, pages and commands live in the area (api/, web/, cli.py), named here and
    # imported only by the shell that mounts them. The API routers' order is the OpenAPI
    # document's.
    api_routers=(
        "postloan.collections.api.tasks:router",
        "postloan.collections.api.contacts:router",
        "postloan.collections.api.reports:router",
        "postloan.collections.api.cases:router",
        "postloan.collections.api.alerts:router",
        "postloan.collections.api.strategies:router",
        "postloan.collections.api.legal:router",
        "postloan.collections.api.disposals:router",
        "postloan.collections.api.agreements:router",
        "postloan.collections.api.handovers:router",
    ),
    web_routers=(
        "postloan.collections.web.work:router",
        "postloan.collections.web.case_page:router",
        "postloan.collections.web.agreements:router",
        "postloan.collections.web.allocation:router",
        "postloan.collections.web.legal:router",
        "postloan.collections.web.kpis:router",
        "postloan.collections.web.handovers:router",
    ),
    schedule_changes="postloan.collections.schedule_changes:portfolio_changes",
    agreed_schedules="postloan.collections.schedule_changes:agreed_rows",
    customer_view="postloan.collections.customer_view:customer_sections",
    kpi_figures="postloan.collections.pack_figures:kpi_figures",
    kpi_drill="postloan.collections.pack_drill:kpi_drill",
    nav=(
        NavEntry("/work", "nav.work", (C.CASE_VIEW,), "work"),
        NavEntry("/allocation", "nav.allocation", (C.CASE_ASSIGN,), "allocation"),
        NavEntry("/legal", "nav.legal", (C.LEGAL_MANAGE, C.CASE_VIEW), "legal"),
        NavEntry("/kpis", "nav.kpis", (C.REPORT_COLLECTIONS,), "kpis"),
        NavEntry("/handovers", "nav.handovers", (C.CASE_ASSIGN, C.LEGAL_MANAGE), "handovers"),
    ),
    templates=Path(__file__).parent / "templates",  # collections/<page>.html
    messages=MESSAGES,
    cli="postloan.collections.cli:add_commands",
    whatif="postloan.collections.whatif:whatif",
    demo="postloan.collections.demo:record_demo_contacts",
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
