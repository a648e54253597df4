"""Risk's workbench over HTTP (TestClient), on SQLite and PostgreSQL: the risk card on the 360°
page (score, parts, history chart options; none for roles without `risk.view` or outside the
scope), the watch list and signal queue page per role and scope, a task's outcome form (CSRF,
validation, out of scope 404, audited) and the back-test table.

One store per backend: a synthetic portfolio run for five dates; the customers on the watch
list on the last date moved to a branch of their own, where a credit officer works."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, or_, select, text, update

from postloan.access import create_user
from postloan.access.tables import audit_log
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.risk.tables import risk_tasks, risk_watch
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from postloan.synth import generate
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all
from tests.web.conftest import PASSWORD
from tests.web.test_pages import csrf_of

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 31), AS_OF]
BRANCH, OTHER = "RISK1", "RISK2"
ROLES = {"risk": ("risk_manager", None), "co": ("credit_officer", BRANCH),
         "boss": ("manager", None), "mkt": ("marketing", None), "legal": ("legal_officer", None),
         "aud": ("auditor", None)}  # fmt: skip


@dataclass(frozen=True)
class RiskStore:
    url: str
    ours: list[str]  # on the watch list on AS_OF, moved to BRANCH
    outsider: str  # on the watch list, in OTHER


def build_store(url: str, folder: Path) -> RiskStore:
    write_contract_files(generate(accounts=300, seed=13, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        w = risk_watch
        on = conn.execute(
            select(w.c.customer_id).where(w.c.entered_on <= AS_OF,
                                          or_(w.c.left_on.is_(None), w.c.left_on > AS_OF))
            .order_by(w.c.customer_id)
        ).scalars().all()  # fmt: skip
        assert len(on) >= 3, on
        ours, outsider = list(on[:-1]), on[-1]
        conn.execute(update(customers).where(customers.c.customer_id.in_(ours))
                     .values(branch_id=BRANCH))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == outsider)
                     .values(branch_id=OTHER))  # fmt: skip
        # The tasks carry the branch they were opened in: keep them in step for the test.
        conn.execute(update(risk_tasks).where(risk_tasks.c.customer_id.in_(ours))
                     .values(branch_id=BRANCH))  # fmt: skip
        for name, (role, branch) in ROLES.items():
            create_user(conn, username=name, password=PASSWORD, role=role, branch_id=branch,
                        display_name=name)  # fmt: skip
    engine.dispose()
    return RiskStore(url=url, ours=ours, outsider=outsider)


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RiskStore]:
    folder = tmp_path_factory.mktemp(f"risk-web-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{folder / 'store.sqlite'}")
    else:
        schema = f"riskweb_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    yield build_store(url, folder / "files")
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def app(store: RiskStore) -> FastAPI:
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(store.url)
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


def _watch_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-customer="([^"]+)"', html)


def test_the_risk_card_on_the_360_page(as_user: Any, store: RiskStore) -> None:
    customer = store.ours[0]
    page = as_user("co").get(f"/customers/{customer}")
    assert page.status_code == 200
    assert 'id="risk-card"' in page.text and 'id="risk-score"' in page.text
    assert 'data-part="credit"' in page.text and "risk-history-chart" in page.text
    options = json.loads(re.search(r'<script type="application/json" id="chart-options">(.*?)'
                                   r"</script>", page.text, re.S).group(1))  # type: ignore[union-attr]  # fmt: skip
    assert len(options["risk-history-chart"]["series"][0]["data"]) == len(DATES)
    assert "/static/vendor/echarts.min.js" in page.text
    risk = as_user("risk").get(f"/customers/{store.outsider}")
    assert 'id="risk-card"' in risk.text
    # Legal officers see accounts but hold no risk action: no card.
    legal = as_user("legal").get(f"/customers/{customer}")
    assert legal.status_code == 200 and 'id="risk-card"' not in legal.text


def test_watch_page_per_role_and_scope(as_user: Any, store: RiskStore) -> None:
    head = as_user("risk").get("/risk/watch")
    assert head.status_code == 200
    assert set(store.ours) | {store.outsider} <= set(_watch_ids(head.text))
    branch = as_user("co").get("/risk/watch")
    assert sorted(_watch_ids(branch.text)) == sorted(store.ours)
    for name in ("mkt", "legal"):
        assert as_user(name).get("/risk/watch").status_code == 403
    assert as_user("boss").get("/risk/watch").status_code == 200
    zh = as_user("risk").get("/risk/watch", headers={"Accept-Language": "zh-CN"})
    assert "关注名单" in zh.text or "Watch list" in zh.text


def _task(store: RiskStore, customer_in: list[str]) -> int:
    engine = engine_for(store.url)
    with engine.connect() as conn:
        task = conn.execute(select(risk_tasks.c.task_id).where(
            risk_tasks.c.customer_id.in_(customer_in), risk_tasks.c.status == "open"
        ).order_by(risk_tasks.c.task_id).limit(1)).scalar_one()  # fmt: skip
    engine.dispose()
    return int(task)


def test_outcome_form(as_user: Any, store: RiskStore) -> None:
    co = as_user("co")
    page = co.get("/risk/watch")
    token = csrf_of(page.text)
    task = _task(store, store.ours)
    assert f'data-task="{task}"' in page.text
    forged = co.post(f"/risk/tasks/{task}/outcome", data={"outcome": "no_risk", "note": "x"})
    assert forged.status_code == 403
    invalid = co.post(f"/risk/tasks/{task}/outcome",
                      data={"outcome": "shrug", "note": "x", "csrf_token": token})  # fmt: skip
    assert invalid.status_code == 303 and "error=invalid" in invalid.headers["location"]
    outside = _task(store, [store.outsider])
    form = {"outcome": "no_risk", "note": "checked", "csrf_token": token}
    hidden = co.post(f"/risk/tasks/{outside}/outcome", data=form)
    assert hidden.status_code == 404
    done = co.post(f"/risk/tasks/{task}/outcome",
                   data={"outcome": "risk_confirmed", "note": "called: job lost",
                         "csrf_token": token})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/risk/watch?done=1"
    again = co.post(f"/risk/tasks/{task}/outcome",
                    data={"outcome": "no_risk", "note": "x", "csrf_token": token})  # fmt: skip
    assert "error=conflict" in again.headers["location"]
    engine = engine_for(store.url)
    with engine.connect() as conn:
        entries = conn.execute(select(audit_log).where(audit_log.c.action == "risk.task")).all()
    engine.dispose()
    assert [json.loads(e.detail)["task_id"] for e in entries] == [task]


def test_backtest_page(as_user: Any) -> None:
    page = as_user("boss").get("/risk/backtest")
    assert page.status_code == 200 and 'id="risk-backtest"' in page.text
    assert 'data-signal="early_arrears"' in page.text
    assert as_user("co").get("/risk/backtest").status_code == 403
    bad = as_user("risk").get("/risk/backtest", params={"date_from": "2026-13-01"})
    assert bad.status_code == 422


def test_assessment_forms_maker_checker(as_user: Any, store: RiskStore) -> None:
    customer = store.ours[1]
    co = as_user("co")
    page = co.get(f"/customers/{customer}")
    assert 'id="risk-override-form"' in page.text and 'id="risk-decide-form"' not in page.text
    token = csrf_of(page.text)
    url = f"/risk/customers/{customer}/override"
    form = {"grade": "E", "reason_code": "fraud_suspicion", "note": "forged payslips"}
    assert co.post(url, data=form).status_code == 403  # no CSRF token
    assert co.post(f"/risk/customers/{store.outsider}/override",
                   data={**form, "csrf_token": token}).status_code == 404  # fmt: skip
    done = co.post(url, data={**form, "csrf_token": token})
    assert done.status_code == 303 and "risk=proposed" in done.headers["location"]
    after = co.get(f"/customers/{customer}").text
    assert 'id="risk-waiting"' in after and 'id="risk-override-form"' not in after
    assert 'id="risk-decide-form"' not in after  # credit officers do not approve
    risk = as_user("risk")
    seen = risk.get(f"/customers/{customer}").text
    assert 'id="risk-decide-form"' in seen
    action = re.search(r'action="(/risk/overrides/\d+/decision)"', seen).group(1)  # type: ignore[union-attr]
    ok = risk.post(action, data={"decision": "approve", "note": "agreed",
                                 "csrf_token": csrf_of(seen)})  # fmt: skip
    assert ok.status_code == 303 and "risk=approved" in ok.headers["location"]
    card = risk.get(f"/customers/{customer}").text
    assert 'data-grade="E"' in card
    # Risk's own proposal: no decide form for risk itself.
    other = store.ours[2] if len(store.ours) > 2 else store.outsider
    mine = risk.get(f"/customers/{other}").text
    risk.post(f"/risk/customers/{other}/override",
              data={**form, "csrf_token": csrf_of(mine)})  # fmt: skip
    assert 'id="risk-decide-form"' not in risk.get(f"/customers/{other}").text
