"""The ping area's declaration."""

from __future__ import annotations

from pathlib import Path

from postloan.area import ActionGrant, Area, NavEntry, Step, tables_of
from tests.areas.pingarea import steps, tables

HERE = Path(__file__).parent

AREA = Area(
    name="ping",
    about="a test-only area",
    tables=tables_of(tables),
    migrations=HERE / "migrations",
    # After collections' cases: shows a step of one area ordered after another area's.
    steps=(Step("ping.marks", steps.mark, after=("collections.cases",)),),
    actions=(ActionGrant("ping.view", {"manager": "all", "risk_manager": "all"}),),
    commands={"ping": "ping.view"},
    api_routers=("tests.areas.pingarea.api:router",),
    web_routers=("tests.areas.pingarea.web:router",),
    nav=(NavEntry("/ping", "nav.ping", ("ping.view",), "ping"),),
    templates=HERE / "templates",
    messages={
        "en": {"nav.ping": "Ping", "ping.title": "Overdue accounts per date"},
        "zh-CN": {"nav.ping": "探测", "ping.title": "每日逾期账户数"},
    },
    cli="tests.areas.pingarea.cli:add_commands",
    rationale="- **Ping** (`ping.view`): a test-only area; managers and risk managers.\n",
)
