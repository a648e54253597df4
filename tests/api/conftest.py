"""A small store behind the API, users of every role, and clients.

The store (a synthetic portfolio of 200 accounts, imported and run for one date) is built once
per backend per worker; tests that change data use `make_store` for a fresh one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from postloan.access.roles import Role
from postloan.access.tables import assignments
from postloan.access.tokens import issue_token
from postloan.access.users import User, create_user
from postloan.api.app import create_app
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from postloan.synth import generate
from tests.store.conftest import (  # noqa: F401
    AS_OF,
    BACKENDS,
    PG_URL,
    _pg_schema_url,
    import_all,
    make_store,
    store_url,
)

PASSWORD = "correct horse battery"
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    """A populated store, its users (one per role, plus a second collector) and tokens."""

    url: str
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    branch: str = ""
    other_branch: str = ""
    assigned: dict[str, list[str]] = field(default_factory=dict)  # collector -> customer ids
    customer_ids: list[str] = field(default_factory=list)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def populate(url: str, folder: Path) -> World:
    portfolio = generate(accounts=200, seed=7, as_of=AS_OF)
    write_contract_files(portfolio, folder, fmt="csv")
    import_all(url, folder)
    run_dates(url, [AS_OF], default_policy())
    world = World(url=url)
    engine = engine_for(url)
    with engine.begin() as conn:
        rows = conn.execute(
            select(customers.c.customer_id, customers.c.branch_id).order_by(customers.c.customer_id)
        ).all()
        world.customer_ids = [r.customer_id for r in rows]
        by_branch: dict[str, int] = {}
        for r in rows:
            by_branch[r.branch_id] = by_branch.get(r.branch_id, 0) + 1
        ranked = sorted(by_branch, key=lambda b: -by_branch[b])
        world.branch, world.other_branch = ranked[0], ranked[1]
        for role in Role:
            branch = world.branch if role in _BRANCH_ROLES else None
            world.users[role.value] = create_user(
                conn, username=role.value, password=PASSWORD, role=role, branch_id=branch,
                display_name=role.value.replace("_", " "), now=NOW,
            )  # fmt: skip
        world.users["collector2"] = create_user(
            conn, username="collector2", password=PASSWORD, role=Role.COLLECTOR, now=NOW
        )
        ids = world.customer_ids
        world.assigned = {"collector": ids[0:5], "collector2": ids[5:10]}
        for who, assigned in world.assigned.items():
            for customer_id in assigned:
                conn.execute(
                    assignments.insert().values(
                        user_id=world.users[who].user_id, customer_id=customer_id, assigned_at=NOW
                    )
                )
        for who, user in world.users.items():
            world.tokens[who] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
    engine.dispose()
    return world


_BRANCH_ROLES = {Role.CREDIT_OFFICER, Role.CUSTOMER_SERVICE, Role.COLLECTION_SUPERVISOR}


def _fresh_url(backend: str, folder: Path) -> tuple[str, str | None]:
    if backend == "sqlite":
        return ready(f"sqlite:///{folder / 'api.sqlite'}"), None
    schema = f"api_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return ready(_pg_schema_url(schema)), schema


@pytest.fixture(scope="session", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    url, schema = _fresh_url(request.param, folder)
    yield populate(url, folder / "files")
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="session")
def app(world: World, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    policy_file = tmp_path_factory.mktemp("policy") / "policy.toml"
    return create_app(world.url, policy_path=policy_file)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
