"""Proof of the seam (issue 11): a test-only area (`tests/areas/pingarea`, one package) is
registered with one line and then takes part in everything the registry drives — its table
comes from its own migration branch, its step runs in the daily run (timed in the run record,
ordered after another area's step, undone when the date is deleted), its route is in the API
and its OpenAPI, its page and nav link in the workbench (with its messages), its action in the
permission matrix and its command in the CLI. Nothing outside its package was edited for it.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, inspect, select, text
from typer.testing import CliRunner

from postloan import areas
from postloan.access import create_user
from postloan.access.permissions import render_markdown, scope_for
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.runs.stored_dates import delete_latest_date
from postloan.store.db import engine_for, ready
from postloan.store.migrate import current_revisions, head_revisions
from postloan.store.schema import account_status, runs
from postloan.synth import generate
from tests.areas import pingarea
from tests.areas.pingarea.tables import ping_marks
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url

AS_OF = date(2026, 6, 30)
DATES = [AS_OF - timedelta(days=2), AS_OF - timedelta(days=1), AS_OF]
PASSWORD = "ping area password 7"
IMPORT_ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


@dataclass(frozen=True)
class PingStore:
    url: str


@pytest.fixture(scope="module")
def registered() -> Iterator[None]:
    with areas.registered_for_a_while(pingarea.AREA):  # the registration line
        yield


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, registered: None
) -> Iterator[PingStore]:
    from postloan.imports.service import import_file

    folder = tmp_path_factory.mktemp(f"ping-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{folder / 'store.sqlite'}")
    else:
        schema = f"ping_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    files = folder / "files"
    write_contract_files(generate(accounts=150, seed=5, as_of=AS_OF), files, fmt="csv")
    for kind in IMPORT_ORDER:
        path = files / f"{kind.replace('-', '_')}.csv"
        if path.exists():
            assert import_file(kind, path, url).rejected == 0
    engine = engine_for(url)
    with engine.begin() as conn:
        create_user(conn, username="boss", password=PASSWORD, role="manager")
        create_user(conn, username="coll", password=PASSWORD, role="collector", branch_id="BR01")
    engine.dispose()
    yield PingStore(url)
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _marks(url: str) -> dict[date, int]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(select(ping_marks.c.as_of, ping_marks.c.overdue_accounts)).all()
    engine.dispose()
    return {date.fromisoformat(str(d)[:10]): n for d, n in rows}


def _overdue_per_date(url: str) -> dict[date, int]:
    """Recomputed straight from the stored status, not through the area."""
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(account_status.c.as_of, func.count())
            .where(account_status.c.dpd > 0)
            .group_by(account_status.c.as_of)
        ).all()
        stored = conn.execute(select(account_status.c.as_of).distinct()).scalars().all()
    engine.dispose()
    counts = {date.fromisoformat(str(d)[:10]): n for d, n in rows}
    return {date.fromisoformat(str(d)[:10]): counts.get(date.fromisoformat(str(d)[:10]), 0)
            for d in stored}  # fmt: skip


def test_its_migration_branch_made_its_table(store: PingStore) -> None:
    engine = engine_for(store.url)
    assert "ping_marks" in inspect(engine).get_table_names()
    assert "p001" in current_revisions(engine) and current_revisions(engine) == head_revisions()
    engine.dispose()


def test_its_step_runs_in_the_daily_run_and_follows_the_dates(store: PingStore) -> None:
    names = [step.name for step in areas.daily_steps()]
    assert names.index("ping.marks") > names.index("collections.cases")
    result = run_dates(store.url, DATES, default_policy(), today=AS_OF)
    assert "ping.marks" in result.timings and "collections.cases" in result.timings
    expected = _overdue_per_date(store.url)
    assert _marks(store.url) == expected and set(expected) == set(DATES)
    assert any(expected.values())  # the demo portfolio has overdue accounts
    engine = engine_for(store.url)
    with engine.connect() as conn:
        recorded = conn.execute(select(runs.c.timings).where(runs.c.run_id == result.run_id))
        timings = recorded.scalar_one()
    engine.dispose()
    timings = json.loads(timings) if isinstance(timings, str) else timings
    assert "ping.marks" in timings  # the run record shows the area's step
    # A re-run of the last date gives the same rows; deleting it undoes its mark.
    run_dates(store.url, [AS_OF], default_policy(), today=AS_OF)
    assert _marks(store.url) == expected
    delete_latest_date(store.url, AS_OF, default_policy(), actor="test")
    assert _marks(store.url) == {d: n for d, n in expected.items() if d != AS_OF}
    run_dates(store.url, [AS_OF], default_policy(), today=AS_OF)
    assert _marks(store.url) == expected


def _app(url: str) -> FastAPI:
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(url)
    mount(app)
    return app


def _token(client: TestClient, username: str) -> dict[str, str]:
    done = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert done.status_code == 200, done.text
    return {"Authorization": f"Bearer {done.json()['token']}"}


def test_its_route_is_in_the_api_behind_its_permission(store: PingStore) -> None:
    run_dates(store.url, DATES, default_policy(), today=AS_OF)
    with TestClient(_app(store.url)) as client:
        assert "/api/ping/marks" in client.get("/openapi.json").json()["paths"]
        marks = client.get("/api/ping/marks", headers=_token(client, "boss"))
        assert marks.status_code == 200
        assert {date.fromisoformat(m["as_of"]): m["overdue_accounts"] for m in marks.json()} == (
            _overdue_per_date(store.url)
        )
        refused = client.get("/api/ping/marks", headers=_token(client, "coll"))
        assert refused.status_code == 403


def _login_page(client: TestClient, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert done.status_code == 303, done.text


def test_its_page_and_nav_link_are_in_the_workbench(store: PingStore) -> None:
    app = _app(store.url)
    with TestClient(app, follow_redirects=False) as boss:
        _login_page(boss, "boss")
        boss.get("/lang/en")
        home = boss.get("/")
        assert '<a href="/ping" class="">Ping</a>' in home.text
        page = boss.get("/ping")
        assert page.status_code == 200
        assert '<a href="/ping" class="active">Ping</a>' in page.text
        assert "Overdue accounts per date" in page.text
        boss.get("/lang/zh-CN")
        assert "每日逾期账户数" in boss.get("/ping").text
    with TestClient(app, follow_redirects=False) as collector:
        _login_page(collector, "coll")
        assert 'href="/ping"' not in collector.get("/work").text
        assert collector.get("/ping").status_code == 403


def test_its_action_is_in_the_permission_matrix(registered: None) -> None:
    assert scope_for("manager", "ping.view") == "all"
    assert scope_for("admin", "ping.view") == "all"
    assert scope_for("collector", "ping.view") is None
    doc = render_markdown()
    assert "| `ping.view` |" in doc and "`postloan ping`" in doc and "**Ping**" in doc


def test_its_command_is_in_the_cli(store: PingStore) -> None:
    from postloan.cli.main import make_app

    # Its own run (idempotent): under xdist this test may be the module's first on its worker.
    run_dates(store.url, DATES, default_policy(), today=AS_OF)
    result = CliRunner().invoke(make_app(), ["ping", "--url", store.url])
    assert result.exit_code == 0, result.output
    assert f"{AS_OF.isoformat()} {_overdue_per_date(store.url)[AS_OF]}" in result.output
    # ...and its report sits in the one `postloan report` group beside collections' reports.
    report = CliRunner().invoke(make_app(), ["report", "ping", "--url", store.url])
    assert report.exit_code == 0, report.output
    assert f"{AS_OF.isoformat()} {_overdue_per_date(store.url)[AS_OF]}" in report.output
    listing = CliRunner().invoke(make_app(), ["report", "--help"])
    assert "ping" in listing.output and "compliance" in listing.output
