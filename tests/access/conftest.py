"""Access tests run on real stores: SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL
is set (fixtures from tests/store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from postloan.access import passwords
from postloan.access.tables import assignments
from postloan.access.users import User, create_user
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.store.conftest import make_store, store_url  # noqa: F401

NOW = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)

CUSTOMERS: list[dict[str, Any]] = [
    {
        "customer_id": "C1",
        "name": "张三",
        "id_number": "11010119900307123X",
        "phone": "13812345678",
        "address": "北京市朝阳区建国路88号3单元",
        "branch_id": "BR01",
        "consent_marketing": True,
    },
    {
        "customer_id": "C2",
        "name": "李四",
        "id_number": "310104198512120021",
        "phone": "13987654321",
        "address": "上海市徐汇区漕溪北路1号",
        "branch_id": "BR02",
        "consent_marketing": False,
    },
    {
        "customer_id": "C3",
        "name": "王五",
        "id_number": "320102197001010011",
        "phone": "15011112222",
        "address": "江苏省南京市玄武区中山路5号",
        "branch_id": "BR01",
        "consent_marketing": None,
    },
]


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Argon2 with tiny parameters keeps the suite fast; tests using the `production_argon2`
    fixture keep the production parameters."""
    if "production_argon2" not in request.fixturenames:
        cheap = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
        monkeypatch.setattr(passwords, "HASHER", cheap)


@pytest.fixture
def production_argon2() -> None:
    """Marker fixture: keep argon2-cffi's production parameters for this test."""


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:  # noqa: F811 (the fixture)
    eng = engine_for(store_url)
    yield eng
    eng.dispose()


@pytest.fixture
def people(engine: Engine) -> dict[str, User]:
    """Three customers (C1, C3 in BR01; C2 in BR02) and one user per interesting role;
    the collector has C3 assigned."""
    made = {}
    with engine.begin() as conn:
        conn.execute(customers.insert(), CUSTOMERS)
        for username, role, branch in [
            ("col", "collector", "BR01"),
            ("sup", "collection_supervisor", "BR01"),
            ("officer2", "credit_officer", "BR02"),
            ("legal", "legal_officer", None),
            ("cs", "customer_service", "BR01"),
            ("mkt", "marketing", None),
            ("aud", "auditor", None),
            ("nobranch", "credit_officer", None),
        ]:
            made[username] = create_user(
                conn,
                username=username,
                password=f"pw-{username}-long",
                role=role,
                branch_id=branch,
                now=NOW,
            )
        conn.execute(
            assignments.insert().values(
                user_id=made["col"].user_id, customer_id="C3", assigned_at=NOW
            )
        )
    return made
