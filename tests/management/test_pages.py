"""The workbench's management pages on the hand-built history (SQLite and PostgreSQL): the pack
page per role view and language, every ratio a drill-down link whose list sums to the cell,
the drill-down audited and scoped, bad input a 422 page, roles without the action a 403."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access import create_user
from postloan.access.roles import Role
from postloan.access.tables import audit_log
from postloan.store.db import engine_for
from tests.management.conftest import History
from tests.web.conftest import PASSWORD
from tests.web.test_pages import csrf_of

USERS = {
    "boss": (Role.MANAGER, None),
    "super": (Role.COLLECTION_SUPERVISOR, "B1"),
    "officer": (Role.CREDIT_OFFICER, "B2"),
    "coll": (Role.COLLECTOR, None),
}
PERIOD = "from=2026-01-01&to=2026-06-30"


def add_users(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        for name, (role, branch) in USERS.items():
            create_user(
                conn,
                username=name,
                password=PASSWORD,
                role=role,
                branch_id=branch,
                display_name=name,
            )
    engine.dispose()


@pytest.fixture
def app(history: History, tmp_path: Path) -> FastAPI:
    from postloan.api.app import create_app
    from postloan.web import mount

    add_users(history.url)
    app = create_app(history.url, policy_path=tmp_path / "policy.toml")
    mount(app)
    return app


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[Any]:
    clients: list[TestClient] = []

    def login(name: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        page = client.get("/login")
        done = client.post(
            "/login",
            data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert done.status_code == 303, done.text
        return client

    yield login
    for client in clients:
        client.__exit__(None, None, None)


def test_pack_page_links_every_ratio_to_its_accounts(as_user: Any, history: History) -> None:
    boss = as_user("boss")
    boss.get("/lang/zh-CN")
    page = boss.get(f"/management?{PERIOD}&dimension=branch&view=risk")
    assert page.status_code == 200, page.text
    assert "考核与监控报表" in page.text and "不良率" in page.text
    assert 'id="chart-options"' in page.text and "/static/vendor/echarts.min.js" in page.text
    assert "/api/management/pack.xlsx?from=2026-01-01&amp;to=2026-06-30" in page.text
    links = re.findall(r'href="(/management/drill\?[^"]+)"', page.text)
    assert links and all("dimension=branch" in link for link in links)
    api = boss.get(f"/api/management/pack?{PERIOD}&dimension=branch").json()
    numerators = {(r["as_of"], r["value"]): r["npl_ratio_numerator"] for r in api["figures"]}
    link = next(link for link in links if "kpi=npl_ratio" in link)
    drilled = boss.get(link.replace("&amp;", "&"))
    assert drilled.status_code == 200, drilled.text
    shown = int(re.search(r'id="drill-numerator">(\d+)<', drilled.text).group(1))  # type: ignore[union-attr]
    counted = [int(v) for v in re.findall(r'data-counted="(\d+)"', drilled.text)]
    as_of = re.search(r"as_of=([0-9-]+)", link).group(1)  # type: ignore[union-attr]
    value = re.search(r"value=([^&]+)", link.replace("&amp;", "&")).group(1)  # type: ignore[union-attr]
    assert shown == sum(counted) == numerators[(as_of, value)]
    engine = engine_for(history.url)
    with engine.connect() as conn:
        audited = conn.execute(
            select(audit_log.c.actor).where(audit_log.c.action == "management.drill")
        ).all()
    engine.dispose()
    assert [r.actor for r in audited] == ["boss"]
    boss.get("/lang/en")
    english = boss.get(f"/management?{PERIOD}&view=collections")
    assert "Management pack" in english.text and "Cure rate" in english.text


def test_branch_roles_see_their_branch_and_others_are_refused(as_user: Any) -> None:
    officer = as_user("officer")
    page = officer.get(f"/management?{PERIOD}&dimension=branch")
    assert page.status_code == 200
    assert 'data-value="B2"' in page.text and 'data-value="B1"' not in page.text
    assert "/management/drill" not in page.text  # credit officers read the pack, not accounts
    assert "pack.xlsx" not in page.text
    assert officer.get("/management/drill?as_of=2026-06-30&kpi=npl_ratio").status_code == 403
    assert as_user("coll").get("/management").status_code == 403
    sup = as_user("super")
    drilled = sup.get("/management/drill?as_of=2026-06-30&kpi=overdue_rate")
    assert drilled.status_code == 200
    assert set(re.findall(r"<td>(B\d)</td>", drilled.text)) <= {"B1"}


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-06-30&to=2026-01-01",
        "from=nonsense",
        "to=2026-13-01",
        "from=2020-01-01&to=2020-02-01",
    ],
)
def test_bad_periods_are_a_422_page(as_user: Any, query: str) -> None:
    reply = as_user("boss").get(f"/management?{query}")
    assert reply.status_code == 422 and 'id="management-error"' in reply.text


@pytest.mark.parametrize(
    "query",
    [
        "as_of=2026-06-16&kpi=npl_ratio",
        "as_of=x&kpi=npl_ratio",
        "as_of=2026-06-30&kpi=nope",
        "as_of=2026-06-30&kpi=npl_ratio&dimension=planet",
    ],
)
def test_bad_drill_downs_are_a_422_page(as_user: Any, query: str) -> None:
    reply = as_user("boss").get(f"/management/drill?{query}")
    assert reply.status_code == 422 and 'id="drill-error"' in reply.text
