"""Risk's API on the API test world (SQLite, and PostgreSQL with the env var): the risk card
(scope: 404 outside, account figures withheld from roles without account access), overrides
(maker-checker through the API: 403 for one's own, audited; CSRF with the session cookie),
the task queue in scope and outcomes (404 out of scope, 409 twice), the watch list and the
back-test."""

# ruff: noqa: F811 — the API world's fixtures imported below are requested by name.
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.risk.tables import risk_scores, risk_tasks
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.api.conftest import World, app, client, world  # noqa: F401


def _scored(world: World, branch: str, skip: int = 0) -> str:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(risk_scores.c.customer_id)
            .join(customers, customers.c.customer_id == risk_scores.c.customer_id)
            .where(customers.c.branch_id == branch)
            .order_by(risk_scores.c.customer_id)
        ).scalars().all()  # fmt: skip
    engine.dispose()
    return str(rows[skip])


def _audit(world: World, action: str) -> list[Any]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == action)).all()
    engine.dispose()
    return list(rows)


def test_the_card_in_and_out_of_scope(client: TestClient, world: World) -> None:
    mine, other = _scored(world, world.branch), _scored(world, world.other_branch)
    r = client.get(f"/api/risk/customers/{mine}", headers=world.headers("credit_officer"))
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["latest"]["grade"] == card["effective_grade"]
    assert set(card["latest"]["parts"]) == {"credit", "capacity", "industry", "churn"}
    assert card["latest"]["inputs"]["worst_dpd"] is not None
    assert client.get(f"/api/risk/customers/{other}",
                      headers=world.headers("credit_officer")).status_code == 404  # fmt: skip
    assert (
        client.get("/api/risk/customers/NOPE", headers=world.headers("risk_manager")).status_code
        == 404
    )
    audit = client.get(f"/api/risk/customers/{other}", headers=world.headers("auditor")).json()
    assert audit["latest"]["inputs"]["worst_dpd"] is None  # no account access
    assert audit["latest"]["inputs"]["overdue_amount"] is None
    for role in ("marketing", "legal_officer"):
        r = client.get(f"/api/risk/customers/{mine}", headers=world.headers(role))
        assert r.status_code == 403


def test_override_maker_checker(client: TestClient, world: World) -> None:
    customer = _scored(world, world.branch, skip=1)
    url = f"/api/risk/customers/{customer}/overrides"
    body = {"grade": "D", "reason_code": "new_information", "note": "visited: shop closed"}
    bad = client.post(url, json={**body, "reason_code": "hunch"},
                      headers=world.headers("credit_officer"))  # fmt: skip
    assert bad.status_code == 422
    made = client.post(url, json=body, headers=world.headers("credit_officer"))
    assert made.status_code == 200, made.text
    oid = made.json()["override_id"]
    again = client.post(url, json=body, headers=world.headers("credit_officer"))
    assert again.status_code == 409
    refused = client.post(f"/api/risk/overrides/{oid}/decision",
                          json={"approve": True, "note": "ok"},
                          headers=world.headers("credit_officer"))  # fmt: skip
    assert refused.status_code == 403  # no risk.approve
    ok = client.post(f"/api/risk/overrides/{oid}/decision", json={"approve": True, "note": "ok"},
                     headers=world.headers("risk_manager"))  # fmt: skip
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    card = client.get(f"/api/risk/customers/{customer}", headers=world.headers("risk_manager"))
    assert card.json()["effective_grade"] == "D"
    # Risk's own proposal cannot be approved by risk itself.
    own = _scored(world, world.other_branch, skip=1)
    mine = client.post(f"/api/risk/customers/{own}/overrides", json=body,
                       headers=world.headers("risk_manager")).json()["override_id"]  # fmt: skip
    self_ok = client.post(f"/api/risk/overrides/{mine}/decision",
                          json={"approve": True, "note": "mine"},
                          headers=world.headers("risk_manager"))  # fmt: skip
    assert self_ok.status_code == 403 and "maker-checker" in self_ok.text
    assert client.post("/api/risk/overrides/999999/decision", json={"approve": False, "note": "x"},
                       headers=world.headers("risk_manager")).status_code == 404  # fmt: skip
    assert _audit(world, "risk.override") and _audit(world, "risk.override.approved")


def test_override_with_the_session_cookie_needs_the_csrf_token(app: Any, world: World) -> None:
    customer = _scored(world, world.branch, skip=2)
    engine = engine_for(world.url)
    with engine.begin() as conn:
        session = issue_token(conn, world.users["credit_officer"].user_id, "session",
                              datetime.now(UTC))  # fmt: skip
    engine.dispose()
    url = f"/api/risk/customers/{customer}/overrides"
    body = {"grade": "B", "reason_code": "guarantor_support", "note": "guarantor signed"}
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        forged = browser.post(url, json=body)
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
        ok = browser.post(url, json=body, headers={CSRF_HEADER: csrf_token(app, session)})
        assert ok.status_code == 200, ok.text


def test_tasks_in_scope_and_outcomes(client: TestClient, world: World) -> None:
    head = client.get("/api/risk/tasks", params={"page_size": 200},
                      headers=world.headers("risk_manager")).json()  # fmt: skip
    assert head["total"] > 0
    branch = client.get("/api/risk/tasks", params={"page_size": 200},
                        headers=world.headers("credit_officer")).json()  # fmt: skip
    assert {t["branch_id"] for t in branch["items"]} <= {world.branch}
    outside = next(t for t in head["items"] if t["branch_id"] != world.branch)
    r = client.post(f"/api/risk/tasks/{outside['task_id']}/outcome",
                    json={"outcome": "no_risk", "note": "checked"},
                    headers=world.headers("credit_officer"))  # fmt: skip
    assert r.status_code == 404
    task = outside["task_id"]
    done = client.post(f"/api/risk/tasks/{task}/outcome",
                       json={"outcome": "measures_taken", "note": "called, plan agreed"},
                       headers=world.headers("risk_manager"))  # fmt: skip
    assert done.status_code == 200, done.text
    twice = client.post(f"/api/risk/tasks/{task}/outcome", json={"outcome": "no_risk", "note": "x"},
                        headers=world.headers("risk_manager"))  # fmt: skip
    assert twice.status_code == 409
    engine = engine_for(world.url)
    with engine.connect() as conn:
        row = conn.execute(select(risk_tasks).where(risk_tasks.c.task_id == task)).one()
    engine.dispose()
    assert (row.status, row.outcome, row.done_by) == ("done", "measures_taken", "risk_manager")
    assert _audit(world, "risk.task")


def test_watch_list_and_backtest(client: TestClient, world: World) -> None:
    watch = client.get("/api/risk/watch", headers=world.headers("risk_manager")).json()
    assert watch["as_of"] == "2026-06-30" and watch["total"] > 0
    branch = client.get("/api/risk/watch", headers=world.headers("credit_officer")).json()
    assert {i["branch_id"] for i in branch["items"]} <= {world.branch}
    bt = client.get("/api/risk/backtest", headers=world.headers("manager"))
    assert bt.status_code == 200, bt.text
    assert {r["signal_id"] for r in bt.json()["results"]} >= {"early_arrears", "lawsuit"}
    bad = client.get("/api/risk/backtest", params={"date_from": "2026-07-01",
                     "date_to": "2026-06-01"}, headers=world.headers("manager"))  # fmt: skip
    assert bad.status_code == 422
    assert (
        client.get("/api/risk/backtest", headers=world.headers("credit_officer")).status_code == 403
    )


def test_the_360_view_has_the_risk_section_for_risk_view_holders(
    client: TestClient, world: World
) -> None:
    customer = _scored(world, world.branch, skip=3)
    view = client.get(f"/api/customers/{customer}", headers=world.headers("risk_manager")).json()
    section = view["risk"]
    assert section["as_of"] == "2026-06-30" and 0 <= section["score"] <= 100
    assert set(section["parts"]) == {"credit", "capacity", "industry", "churn"}
    legal = client.get(f"/api/customers/{customer}", headers=world.headers("legal_officer"))
    assert legal.status_code == 200 and legal.json()["risk"] is None


def test_override_performance_report(client: TestClient, world: World) -> None:
    r = client.get("/api/risk/overrides/performance", headers=world.headers("risk_manager"))
    assert r.status_code == 200 and r.json()["horizon_months"] == 12
    # One stored date in this world: nothing can be judged yet.
    assert r.json()["rows"] == []
    bad = client.get("/api/risk/overrides/performance", params={"horizon_months": 0},
                     headers=world.headers("risk_manager"))  # fmt: skip
    assert bad.status_code == 422
    assert client.get("/api/risk/overrides/performance",
                      headers=world.headers("credit_officer")).status_code == 403  # fmt: skip
