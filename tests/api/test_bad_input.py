"""Issue 10, defect 9 — bad input answered 500 with a traceback in the log. Every date, amount
and id the API takes is one of the validated types of `postloan.inputs`, so each reproduction
below is a 4xx naming the field, on SQLite and PostgreSQL. Also defect 5 through the API: run
dates outside the policy's window are refused, and the latest stored date can be deleted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.api.app import create_app
from postloan.store.db import engine_for
from postloan.store.schema import account_status, runs
from tests.api.conftest import AS_OF, BACKENDS, World, populate

FAR_DATES = ("0001-01-01", "9999-12-31")
HUGE_ID = "99999999999999999999"  # beyond 64 bits
BAD_AMOUNTS = ("99999999999999999999.99", "1e5", "１２３", "92233720368547758.07", "-5", "1.005")


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field, error
    assert error["message"].startswith(f"{field}:"), error


@pytest.mark.parametrize("as_of", FAR_DATES)
def test_compliance_report_date_out_of_range(client: TestClient, world: World, as_of: str) -> None:
    response = client.get(
        "/api/collections/compliance", params={"as_of": as_of}, headers=world.headers("admin")
    )
    _refused(response, "as_of")


@pytest.mark.parametrize(("name", "value"), [("to", "0001-01-01"), ("from", "0001-01-01"),
                                             ("to", "9999-12-31")])  # fmt: skip
def test_kpis_period_out_of_range(client: TestClient, world: World, name: str, value: str) -> None:
    response = client.get(
        "/api/collections/kpis", params={name: value}, headers=world.headers("risk_manager")
    )
    _refused(response, name)


def _contact(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "customer_id": world.assigned["collector"][0],
        "at": f"{AS_OF.isoformat()}T10:00:00+08:00",
        "channel": "phone",
        "outcome": "connected",
        **fields,
    }


@pytest.mark.parametrize("path", ["/api/collections/contacts", "/api/collections/contacts/check"])
@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59+08:00",
                                "9999-12-31T23:59:59-12:00"])  # fmt: skip
def test_contact_time_out_of_range(client: TestClient, world: World, path: str, at: str) -> None:
    response = client.post(path, json=_contact(world, at=at), headers=world.headers("collector"))
    _refused(response, "at")


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_promise_amount_must_be_a_plain_decimal(
    client: TestClient, world: World, amount: str
) -> None:
    body = _contact(world, outcome="promise_to_pay", promise_amount=amount,
                    promise_date=(AS_OF + timedelta(days=7)).isoformat())  # fmt: skip
    response = client.post(
        "/api/collections/contacts", json=body, headers=world.headers("collector")
    )
    _refused(response, "promise_amount")


def test_amounts_as_json_numbers_are_refused(client: TestClient, world: World) -> None:
    """0.1 as a float is not 0.10: an amount travels as a string."""
    body = _contact(world, outcome="promise_to_pay", promise_amount=1200.5,
                    promise_date=(AS_OF + timedelta(days=7)).isoformat())  # fmt: skip
    response = client.post(
        "/api/collections/contacts", json=body, headers=world.headers("collector")
    )
    _refused(response, "promise_amount")


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_legal_amounts_use_the_same_type(client: TestClient, world: World, amount: str) -> None:
    cost = client.post(
        "/api/legal/matters/1/costs",
        json={"category": "court_fee", "amount": amount},
        headers=world.headers("legal_officer"),
    )
    _refused(cost, "amount")
    disposal = client.post(
        "/api/legal/disposals",
        json={"account_id": "L1", "kind": "write_off", "effective_on": "2026-07-01",
              "reason": "uncollectable", "fee": amount},
        headers=world.headers("legal_officer"),
    )  # fmt: skip
    _refused(disposal, "fee")


# Every query or body date of the API, out of range: (method, path, where, field).
DATE_INPUTS = [
    ("GET", "/api/collections/tasks", "query", "due_by"),
    ("GET", "/api/collections/compliance", "query", "as_of"),
    ("GET", "/api/collections/kpis", "query", "from"),
    ("GET", "/api/alerts", "query", "raised_from"),
    ("GET", "/api/strategies/results", "query", "date_from"),
    ("GET", "/api/strategies/results", "query", "date_to"),
    ("POST", "/api/runs", "body", "as_of"),
    ("POST", "/api/legal/proposals/1/accept", "body", "on"),
    ("POST", "/api/legal/matters/1/advance", "body", "on"),
    ("POST", "/api/legal/matters/1/documents", "body", "dated_on"),
    ("POST", "/api/legal/matters/1/costs", "body", "incurred_on"),
    ("POST", "/api/legal/disposals", "body", "effective_on"),
    ("POST", "/api/agreements", "body", "first_due_date"),
]


@pytest.mark.parametrize(("method", "path", "where", "field"), DATE_INPUTS)
@pytest.mark.parametrize("value", FAR_DATES)
def test_every_date_input_is_a_business_date(
    client: TestClient, world: World, method: str, path: str, where: str, field: str, value: str
) -> None:
    if where == "query":
        response = client.request(
            method, path, params={field: value}, headers=world.headers("admin")
        )
    else:
        response = client.request(method, path, json={field: value},
                                  headers=world.headers("admin"))  # fmt: skip
    assert response.status_code == 422, response.text
    fields = {p["field"] for p in response.json()["error"].get("problems") or []}
    assert field in fields | {response.json()["error"]["field"]}, response.json()


def _int_path_routes(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path with the id filled in, parameter) for every route with an integer path
    parameter, from the OpenAPI document (what a client sees)."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for param in operation.get("parameters", []):
                if param["in"] != "path" or param["schema"].get("type") != "integer":
                    continue
                filled = path.replace("{" + param["name"] + "}", HUGE_ID)
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "x", filled), param["name"]))
    return found


def test_no_integer_path_parameter_overflows(
    app: FastAPI, client: TestClient, world: World
) -> None:
    routes = _int_path_routes(app)
    assert len(routes) >= 10, routes  # runs, tasks, alerts, agreements, legal records
    for method, path, name in routes:
        response = client.request(method, path, json={}, headers=world.headers("admin"))
        assert response.status_code == 422, (method, path, response.status_code, response.text)
        fields = {p["field"] for p in response.json()["error"].get("problems") or []}
        assert name in fields, (method, path, response.json())


def test_run_by_id_beyond_64_bits(client: TestClient, world: World) -> None:
    _refused(client.get(f"/api/runs/{HUGE_ID}", headers=world.headers("admin")), "run_id")


# --- defect 5 through the API -----------------------------------------------------------------


def _run_count(world: World) -> int:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(runs)).scalar_one()
    engine.dispose()
    return int(count)


def test_run_dates_outside_the_window_are_refused_up_front(
    client: TestClient, world: World
) -> None:
    before = _run_count(world)
    headers = world.headers("risk_manager")
    poison = client.post("/api/runs", json={"as_of": "9999-12-31"}, headers=headers)
    _refused(poison, "as_of")
    ahead = (date.today() + timedelta(days=8)).isoformat()  # the default allows 7 days
    response = client.post("/api/runs", json={"as_of": ahead}, headers=headers)
    _refused(response, "as_of")
    assert "security.run_dates.max_days_ahead" in response.json()["error"]["message"]
    early = client.post("/api/runs", json={"from": "2019-01-01", "to": "2019-12-31"},
                        headers=headers)  # fmt: skip
    _refused(early, "from")
    assert "first disbursement" in early.json()["error"]["message"]
    assert _run_count(world) == before, "nothing started, nothing recorded"


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, make_store: Any, tmp_path: Path) -> Iterator[
    tuple[World, TestClient]
]:  # fmt: skip
    world = populate(make_store(request.param), tmp_path / "files")
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield world, client


def _latest(world: World) -> date | None:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        value = conn.execute(select(func.max(account_status.c.as_of))).scalar()
    engine.dispose()
    return None if value is None else date.fromisoformat(str(value)[:10])


def test_delete_the_latest_stored_date(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    from postloan.policy import default_policy
    from postloan.runs.service import run_dates

    run_dates(world.url, [AS_OF + timedelta(days=1)], default_policy())
    url = f"/api/runs/dates/{AS_OF.isoformat()}"
    assert client.delete(url, headers=world.headers("collector")).status_code == 403
    not_latest = client.delete(url, headers=world.headers("risk_manager"))
    assert not_latest.status_code == 409 and not_latest.json()["error"]["field"] == "as_of"
    missing = client.delete("/api/runs/dates/9999-12-31", headers=world.headers("risk_manager"))
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "as_of"

    latest = (AS_OF + timedelta(days=1)).isoformat()
    done = client.delete(f"/api/runs/dates/{latest}", headers=world.headers("risk_manager"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["as_of"] == latest and body["rows"] > 0 and body["latest"] == AS_OF.isoformat()
    assert _latest(world) == AS_OF
    listed = client.get("/api/runs", headers=world.headers("risk_manager")).json()["items"][0]
    assert (listed["run_id"], listed["kind"], listed["status"]) == (
        body["run_id"],
        "delete",
        "succeeded",
    )
