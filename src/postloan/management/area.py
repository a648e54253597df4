"""Management reporting (考核与监控报表, issue 16) declared as a business area: what the registry
(`postloan.areas`) hands the permission matrix, the API, the workbench and the command line.
The pack is computed from the stored status on request (reproducible for any stored date), and
names the runs and the KPI definitions it used; the daily step `management.pack` stores each
month's printable pack on its last day (`management_packs`, migration branch "management")."""

from __future__ import annotations

from pathlib import Path

from postloan.area import Area, NavEntry, tables_of
from postloan.management import tables
from postloan.management.actions import COMMANDS, GRANTS, RATIONALE, ManagementAction
from postloan.management.messages import MESSAGES
from postloan.management.steps import STEPS

HERE = Path(__file__).parent

AREA = Area(
    name="management",
    about="management reporting (KPI-2, KPI-3): KPI definitions as versioned data, the "
    "portfolio pack by dimension and month, drill-down to accounts, exports, dashboards, the "
    "printable monthly pack and the policy what-if",
    tables=tables_of(tables),
    migrations=HERE / "migrations",
    steps=STEPS,
    actions=GRANTS,
    commands=COMMANDS,
    api_routers=("postloan.management.api:router",),
    web_routers=(
        "postloan.management.web.pages:router",
        "postloan.management.web.prints:router",
        "postloan.management.web.whatif:router",
    ),
    nav=(
        NavEntry("/management", "nav.management", (ManagementAction.PACK,), "management"),
        NavEntry(
            "/management/whatif", "nav.management_whatif", (ManagementAction.WHATIF,), "management"
        ),
    ),
    templates=HERE / "templates",  # management/<page>.html
    messages=MESSAGES,
    cli="postloan.management.cli:add_commands",
    whatif="postloan.management.whatif:portfolio_hook",
    policy_sections=("management",),
    rationale=RATIONALE,
)
