"""What the area page tests share (collections, churn, and churn's API tests): a fresh store
of a backend for a module (SQLite file, or a PostgreSQL schema dropped afterwards), the app
with the workbench mounted, and signed-in clients (`as_user` in `tests/web/conftest.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from postloan.store.db import ready
from tests.store.conftest import PG_URL, _pg_schema_url

PASSWORD = "correct horse battery 42"


@contextmanager
def backend_store(backend: str, folder: Path, prefix: str) -> Iterator[str]:
    """A migrated, empty store of `backend` for the block: SQLite in `folder`, or a schema
    `<prefix>_<random>` of the test PostgreSQL (dropped when the block ends)."""
    if backend == "sqlite":
        yield ready(f"sqlite:///{folder / 'store.sqlite'}")
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)  # type: ignore[arg-type]
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    try:
        yield ready(_pg_schema_url(schema))
    finally:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def make_app(url: str) -> FastAPI:
    """The API with the workbench mounted on it, over the store at `url`."""
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(url)
    mount(app)
    return app


@contextmanager
def signed_in_clients(app: FastAPI) -> Iterator[object]:
    """A factory `login(name) -> TestClient` signed in through the login form (each client
    its own cookies); every client is closed when the block ends."""
    from tests.web.test_pages import csrf_of

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

    try:
        yield login
    finally:
        for client in clients:
            client.__exit__(None, None, None)
