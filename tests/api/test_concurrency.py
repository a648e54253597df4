"""Issue 10: concurrent requests against a live server — parallel logins, reveals and contact
records, apart and all at once — answer no 500, and the audit log's chain still verifies
(eight parallel reveals used to fail with a duplicate `audit_log.seq`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from postloan.access import audit
from postloan.api.app import create_app
from postloan.collections.tables import cases
from postloan.store.db import engine_for
from tests.api.conftest import AS_OF, BACKENDS, PASSWORD, World, populate
from tests.web.live import serving

PARALLEL = 12
REASON = "customer phoned about a disputed repayment on the account"
NOON_BEIJING = f"{AS_OF}T12:00:00+08:00"

Request = Callable[[httpx.Client], httpx.Response]


@pytest.fixture(params=BACKENDS)
def live(
    request: pytest.FixtureRequest, make_store: Any, tmp_path: Path
) -> Any:  # a fresh store: the contact policy's caps depend on the contacts made before
    world = populate(make_store(request.param), tmp_path / "files")
    app: FastAPI = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with serving(app) as base:
        yield world, base


def _all_at_once(base: str, calls: list[Request]) -> list[httpx.Response]:
    start = threading.Barrier(len(calls), timeout=60)

    def run(call: Request) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=120) as http:
            start.wait()
            return call(http)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _chain_problems(world: World) -> list[str]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        problems = audit.verify(conn)
    engine.dispose()
    return problems


def _case_customers(world: World) -> list[str]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        found = conn.execute(select(cases.c.customer_id).distinct().order_by("customer_id"))
        ids = list(found.scalars())
    engine.dispose()
    return ids


def _login(username: str, password: str = PASSWORD) -> Request:
    return lambda http: http.post(
        "/api/auth/login", json={"username": username, "password": password}
    )


def _reveal(world: World, customer_id: str) -> Request:
    return lambda http: http.post(
        f"/api/customers/{customer_id}/reveal",
        json={"field": "phone", "reason": REASON},
        headers=world.headers("admin"),
    )


def _contact(world: World, customer_id: str) -> Request:
    body = {"customer_id": customer_id, "channel": "sms", "outcome": "sent",
            "at": NOON_BEIJING, "content": "repayment reminder"}  # fmt: skip
    return lambda http: http.post(
        "/api/collections/contacts", json=body, headers=world.headers("admin")
    )


def _statuses(responses: list[httpx.Response]) -> list[int]:
    return [r.status_code for r in responses]


def test_parallel_reveals(live: tuple[World, str]) -> None:
    world, base = live
    customers = world.customer_ids[:PARALLEL]
    responses = _all_at_once(base, [_reveal(world, c) for c in customers])
    assert _statuses(responses) == [200] * PARALLEL, [r.text for r in responses]
    assert _chain_problems(world) == []


def test_parallel_logins(live: tuple[World, str]) -> None:
    world, base = live
    who = ["admin", "manager", "auditor", "risk_manager", "marketing", "legal_officer"]
    calls = [_login(w) for w in who] + [_login(w, "a wrong password") for w in who]
    statuses = _statuses(_all_at_once(base, calls))
    assert statuses == [200] * len(who) + [401] * len(who)
    assert _chain_problems(world) == []


def test_parallel_contact_records(live: tuple[World, str]) -> None:
    world, base = live
    customers = _case_customers(world)[:PARALLEL]
    assert len(customers) >= 8, "the synthetic store has open cases"
    responses = _all_at_once(base, [_contact(world, c) for c in customers])
    # recorded, or refused by the contact policy (naming its rule): never a server error
    assert set(_statuses(responses)) <= {201, 409}, [r.text for r in responses]
    assert 201 in _statuses(responses)
    assert _chain_problems(world) == []


def test_logins_reveals_and_contacts_all_at_once(live: tuple[World, str]) -> None:
    world, base = live
    ids = world.customer_ids
    calls = (
        [_login(w) for w in ("admin", "manager", "auditor", "risk_manager")]
        + [_login("collector", "a wrong password") for _ in range(2)]
        + [_reveal(world, c) for c in ids[-8:]]
        + [_contact(world, c) for c in _case_customers(world)[-8:]]
    )
    responses = _all_at_once(base, calls)
    statuses = _statuses(responses)
    assert 500 not in statuses and all(s < 500 for s in statuses), statuses
    assert statuses[:6] == [200] * 4 + [401] * 2
    assert statuses[6:14] == [200] * 8, [r.text for r in responses[6:14]]
    assert _chain_problems(world) == []
