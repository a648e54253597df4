"""Customer relationship maintenance (客户关系维护) declared as a business area: what the
registry (`postloan.areas`) hands the daily run, the store's migrations, the permission
matrix, the API, the workbench and the command line. Its tables come from its own migration
branch (`relationship/migrations`, branch label "relationship")."""

from __future__ import annotations

from pathlib import Path

from postloan.access.permissions import Action
from postloan.area import Area, AreaImport, NavEntry, tables_of
from postloan.relationship import tables
from postloan.relationship.actions import COMMANDS, GRANTS, RATIONALE, RelAction
from postloan.relationship.messages import MESSAGES
from postloan.relationship.steps import STEPS

HERE = Path(__file__).parent

AREA = Area(
    name="relationship",
    about="complaints with the PRC clock, hardship plans pausing collections, an append-only "
    "loyalty ledger, satisfaction surveys (CSAT/NPS with intervals)",
    tables=tables_of(tables),
    migrations=HERE / "migrations",
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    api_routers=("postloan.relationship.api:router", "postloan.relationship.api_more:router"),
    web_routers=(
        "postloan.relationship.web.complaints:router",
        "postloan.relationship.web.complaint_page:router",
        "postloan.relationship.web.hardship:router",
        "postloan.relationship.web.loyalty:router",
        "postloan.relationship.web.surveys:router",
        "postloan.relationship.web.contacts:router",
    ),
    customer_panel="postloan.relationship.web.card:customer_panel",
    kpi_figures="postloan.relationship.pack_figures:kpi_figures",
    kpi_drill="postloan.relationship.pack_drill:kpi_drill",
    nav=(
        NavEntry("/complaints", "nav.complaints", (RelAction.VIEW,), "complaints"),
        NavEntry("/hardship", "nav.hardship", (RelAction.VIEW,), "hardship"),
        NavEntry("/loyalty", "nav.loyalty", (RelAction.VIEW,), "loyalty"),
        NavEntry("/surveys", "nav.surveys", (RelAction.VIEW,), "surveys"),
        NavEntry("/contact-plans", "nav.contact_plans", (RelAction.VIEW,), "contact-plans"),
    ),
    templates=HERE / "templates",
    messages=MESSAGES,
    cli="postloan.relationship.cli:add_commands",
    policy_sections=("relationship",),
    # `postloan import complaints FILE` (docs/relationship.md: the file's columns); the
    # core's import permission, like the contract files
    imports={
        "complaints": AreaImport(
            "postloan.relationship.complaint_import:load",
            Action.IMPORT_RUN.value,
            "complaints from a channel's or a desk's file (CSV)",
        ),
        # `postloan import survey-responses FILE` (docs/relationship.md: the columns)
        "survey-responses": AreaImport(
            "postloan.relationship.survey_import:load",
            Action.IMPORT_RUN.value,
            "satisfaction survey responses, answering invitations or walk-in (CSV, Parquet)",
        ),
    },
    rationale=RATIONALE,
)
