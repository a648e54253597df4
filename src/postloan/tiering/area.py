"""Customer tiering (客户分层管理) declared as a business area: what the registry
(`postloan.areas`) hands the daily run, the store's migrations, the permission matrix, the API,
the workbench, the command line and the export command. Its tables come from its own migration
branch (`tiering/migrations`, branch label "tiering")."""

from __future__ import annotations

from pathlib import Path

from postloan.area import Area, AreaExport, NavEntry, tables_of
from postloan.tiering import tables
from postloan.tiering.actions import COMMANDS, GRANTS, RATIONALE, TieringAction
from postloan.tiering.messages import MESSAGES
from postloan.tiering.steps import STEPS

HERE = Path(__file__).parent

AREA = Area(
    name="tiering",
    about="customer tiering (LY-1 … LY-4): purpose, credit status and repayment capacity; "
    "premium / low / medium / high risk tiers with floors and hysteresis; RFM; the transition "
    "matrix and the review per tier and month",
    tables=tables_of(tables),
    migrations=HERE / "migrations",
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    run_loader="postloan.tiering.queries:run_load",
    api_routers=("postloan.tiering.api:router", "postloan.tiering.adoption_api:router"),
    web_routers=("postloan.tiering.web.pages:router", "postloan.tiering.web.review_pages:router"),
    customer_panel="postloan.tiering.web.pages:customer_panel",
    customer_view="postloan.tiering.customer_view:customer_sections",
    customer_view_action=TieringAction.VIEW.value,  # collectors see accounts, not tiers
    nav=(NavEntry("/tiering", "nav.tiering", (TieringAction.REPORT,), "tiering"),),
    templates=HERE / "templates",  # tiering/<page>.html
    messages=MESSAGES,
    cli="postloan.tiering.cli:add_commands",
    whatif="postloan.tiering.whatif:whatif",
    policy_sections=("tiering",),
    exports={
        "tiers": AreaExport(
            writer="postloan.tiering.export:write_tiers",
            action=TieringAction.EXPORT.value,
            personal=True,
            needs_as_of=True,
            about="every customer's tier, classes and RFM on D (docs/tiering.md)",
        )
    },
    rationale=RATIONALE,
)
