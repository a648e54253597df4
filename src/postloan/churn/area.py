"""Churned-customer management (流失客户管理) declared as a business area: what the registry
(`postloan.areas`) hands the daily run, the store's migrations, the permission matrix, the API,
the command line and the export command. Its tables come from its own migration branch
(`churn/migrations`, branch label "churn")."""

from __future__ import annotations

from pathlib import Path

from postloan.area import Area, AreaExport, NavEntry, tables_of
from postloan.churn import tables
from postloan.churn.actions import COMMANDS, GRANTS, RATIONALE, ChurnAction
from postloan.churn.messages import MESSAGES
from postloan.churn.steps import STEPS

HERE = Path(__file__).parent

AREA = Area(
    name="churn",
    about="churn identification (CH-2), the pool with episodes, exits and screening, degree, "
    "grade and reason, measures per grade (hand-over, follow-up with offers, callbacks) and their "
    "evaluation against a random holdout, export and KPIs",
    tables=tables_of(tables),
    migrations=HERE / "migrations",
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    api_routers=("postloan.churn.api:router", "postloan.churn.measures_api:router"),
    customer_view="postloan.churn.customer_view:customer_sections",
    customer_view_action=ChurnAction.VIEW.value,  # collectors see accounts, not churn
    run_loader="postloan.churn.queries:run_load",
    lateness="postloan.churn.service:lateness_request",
    kpi_figures="postloan.churn.pack_figures:kpi_figures",
    kpi_drill="postloan.churn.pack_drill:kpi_drill",
    messages=MESSAGES,
    cli="postloan.churn.cli:add_commands",
    policy_sections=("churn",),
    exports={
        "churn": AreaExport(
            writer="postloan.churn.export:write_churn",
            action=ChurnAction.EXPORT.value,
            personal=True,
            needs_as_of=True,
            about="customers identified as churned on D (DATA_CONTRACT Outputs)",
        )
    },
    rationale=RATIONALE,
    # The workbench: the pool, the churn card (its page, and on the 360° page through
    # customer_panel) with the reason form, the measure tasks with their offers, the KPIs
    # with the measures' evaluation.
    web_routers=(
        "postloan.churn.web.pool:router",
        "postloan.churn.web.card:router",
        "postloan.churn.web.kpis:router",
        "postloan.churn.web.measures:router",
    ),
    customer_panel="postloan.churn.web.card:customer_panel",
    nav=(
        NavEntry("/churn", "nav.churn", (ChurnAction.VIEW,), "churn"),
        NavEntry(
            "/churn/measures", "nav.churn_measures", (ChurnAction.MEASURES,), "churn_measures"
        ),
        NavEntry("/churn/kpis", "nav.churn_kpis", (ChurnAction.REPORT,), "churn_kpis"),
    ),
    templates=HERE / "templates",  # churn/<page>.html
)
