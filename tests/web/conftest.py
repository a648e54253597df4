"""A small real store for the workbench tests: synthetic portfolio → import → a few run dates,
two users (a head-office manager and a collector with three assigned customers), and the app
(`create_app` + `postloan.web.mount`). `as_user` signs users in to a module's own `app`
(the area page tests build their stores with `tests.web.stores`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from postloan.access import create_user
from postloan.access.tables import assignments
from postloan.contract import write_contract_files
from postloan.imports.service import import_file
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from postloan.synth import generate
from tests.web.stores import PASSWORD, signed_in_clients
from tests.web.stores import make_app as make_app

AS_OF = date(2026, 6, 30)
IMPORT_ORDER = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


@dataclass(frozen=True)
class Store:
    url: str
    assigned: tuple[str, ...]  # the collector's customers
    other: str  # a customer not assigned to the collector


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("web")
    url = ready(f"sqlite:///{root / 'store.sqlite'}")
    folder = root / "files"
    write_contract_files(generate(accounts=300, seed=7, as_of=AS_OF), folder, fmt="csv")
    for kind in IMPORT_ORDER:
        path = folder / f"{kind.replace('-', '_')}.csv"
        if path.exists():
            assert import_file(kind, path, url).rejected == 0
    run_dates(url, [AS_OF - timedelta(days=d) for d in (60, 30, 14, 7, 0)], default_policy())
    engine = engine_for(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(select(customers.c.customer_id).order_by("customer_id"))]
        create_user(
            conn, username="boss", password=PASSWORD, role="manager", display_name="Head office"
        )
        collector = create_user(
            conn, username="coll", password=PASSWORD, role="collector", branch_id="BR01"
        )
        create_user(
            conn, username="legal", password=PASSWORD, role="legal_officer", display_name="法务"
        )
        assigned = tuple(ids[:3])
        conn.execute(
            insert(assignments),
            [
                {"user_id": collector.user_id, "customer_id": c, "assigned_at": now}
                for c in assigned
            ],
        )
    engine.dispose()
    return Store(url=url, assigned=assigned, other=ids[-1])


@pytest.fixture(scope="session")
def web_app(web_store: Store) -> FastAPI:
    return make_app(web_store.url)


@pytest.fixture
def store_path(web_store: Store) -> Path:
    return Path(web_store.url.removeprefix("sqlite:///"))


@pytest.fixture
def fresh_client(web_app: FastAPI) -> Iterator[object]:
    from fastapi.testclient import TestClient

    with TestClient(web_app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[object]:
    """Factory: a TestClient signed in as `name` to the requesting module's `app` fixture."""
    with signed_in_clients(app) as login:
        yield login
