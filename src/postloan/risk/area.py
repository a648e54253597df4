"""Risk assessment and early warning (风险评估与预警) declared as a business area: what the
registry (`postloan.areas`) hands the daily run, the store's migrations, the permission
matrix, the API, the workbench and the command line. Its tables come from its own migration
branch (`risk/migrations`, branch label "risk")."""

from __future__ import annotations

from pathlib import Path

from postloan.area import Area, NavEntry, tables_of
from postloan.risk import behaviour_tables, model_tables, tables
from postloan.risk.actions import COMMANDS, GRANTS, RATIONALE, RiskAction
from postloan.risk.messages import MESSAGES
from postloan.risk.steps import STEPS

HERE = Path(__file__).parent

AREA = Area(
    name="risk",
    about="the weighted indicator score (RK-1) with officers' overrides, the early-warning "
    "signals (EW-1) with their tasks and the watch list, and the signals' back-test",
    tables=tables_of(tables, model_tables, behaviour_tables),
    migrations=HERE / "migrations",
    steps=STEPS,
    run_loader="postloan.risk.queries:run_load",
    actions=GRANTS,
    commands=COMMANDS,
    api_routers=("postloan.risk.api:router", "postloan.risk.models_api:router"),
    web_routers=(
        "postloan.risk.web.card:router",
        "postloan.risk.web.watch:router",
        "postloan.risk.web.models:router",
    ),
    customer_panel="postloan.risk.web.card:customer_panel",
    customer_view="postloan.risk.customer_view:customer_sections",
    customer_view_action=RiskAction.VIEW.value,  # legal officers see accounts, not risk
    nav=(
        NavEntry("/risk/watch", "nav.risk_watch", (RiskAction.VIEW,), "risk_watch"),
        NavEntry("/risk/backtest", "nav.risk_backtest", (RiskAction.BACKTEST,), "risk_backtest"),
        NavEntry("/risk/models", "nav.risk_models", (RiskAction.MODELS,), "risk_models"),
    ),
    templates=HERE / "templates",
    messages=MESSAGES,
    cli="postloan.risk.cli:add_commands",
    whatif="postloan.risk.whatif:whatif",
    policy_sections=("risk",),
    rationale=RATIONALE,
)
