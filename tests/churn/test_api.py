"""Churn's API: the pool (scope, filters, paging bounds), the churn card (masking, amounts
withheld from roles without account access, 404 out of scope), the reason confirmation
(validated, audited, 404 out of scope, 409 outside the pool, CSRF with the cookie), the KPIs
(scoped) and the 360° view's churn section — on SQLite and PostgreSQL (the API test world)."""

# ruff: noqa: F811 — the API world's fixtures imported below are requested by name.
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.churn.tables import churn_identified
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.api.conftest import World, app, client, world  # noqa: F401

AS_OF = "2026-06-30"


def _pool_rows(world: World) -> list[Any]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(churn_identified, customers.c.branch_id.label("home"))
            .join(customers, customers.c.customer_id == churn_identified.c.customer_id)
            .order_by(churn_identified.c.customer_id)
        ).all()
    engine.dispose()
    return list(rows)


def _everyone(client: TestClient, world: World, who: str, **params: Any) -> list[dict[str, Any]]:
    items, page = [], 1
    while True:
        r = client.get("/api/churn/pool", params={**params, "page": page, "page_size": 200},
                       headers=world.headers(who))  # fmt: skip
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if len(items) >= r.json()["total"]:
            return items
        page += 1


def test_the_pool_in_each_scope(client: TestClient, world: World) -> None:
    stored = _pool_rows(world)
    assert stored, "the world's portfolio has churned customers"
    head = _everyone(client, world, "risk_manager")
    assert sorted(i["customer_id"] for i in head) == [r.customer_id for r in stored]
    branch = _everyone(client, world, "credit_officer")
    assert sorted(i["customer_id"] for i in branch) == [
        r.customer_id for r in stored if r.home == world.branch
    ]
    assert {i["branch_id"] for i in branch} <= {world.branch}
    assert all(i["as_of"] == AS_OF for i in head)
    item = head[0]
    assert item["balance"] is not None and item["first_identified"] == AS_OF
    marketing = _everyone(client, world, "marketing")
    assert len(marketing) == len(head)
    assert all(i["balance"] is None and i["overdue_amount"] is None for i in marketing)
    for who in ("collector", "collection_supervisor", "legal_officer"):
        r = client.get("/api/churn/pool", headers=world.headers(who))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_pool_filters_and_bounds(client: TestClient, world: World) -> None:
    stored = _pool_rows(world)
    for rule in ("loan_overdue", "card_default", "inactive"):
        got = _everyone(client, world, "risk_manager", rule=rule)
        assert sorted(i["customer_id"] for i in got) == [
            r.customer_id for r in stored if r._mapping[rule]
        ]
        assert all(rule in i["rules"] for i in got)
    for key, column in (("degree", "degree"), ("grade", "grade")):
        value = stored[0]._mapping[column]
        got = _everyone(client, world, "risk_manager", **{key: value})
        assert len(got) == sum(1 for r in stored if r._mapping[column] == value)
    by_branch = _everyone(client, world, "risk_manager", branch=world.other_branch)
    assert {i["branch_id"] for i in by_branch} <= {world.other_branch}
    none = _everyone(client, world, "risk_manager", reason="none")
    assert all(i["reason"] is None for i in none)
    one = client.get("/api/churn/pool", params={"page_size": 1}, headers=world.headers("manager"))
    assert one.status_code == 200 and len(one.json()["items"]) == 1
    for bad in ({"page_size": 201}, {"page": 0}, {"grade": 4}, {"rule": "nope"},
                {"degree": "very"}, {"as_of": "2026-02-30"}, {"as_of": "9999-12-31"},
                {"reason": "weather"}, {"branch": "x" * 33}):  # fmt: skip
        r = client.get("/api/churn/pool", params=bad, headers=world.headers("manager"))
        assert r.status_code == 422, (bad, r.text)
    missing = client.get("/api/churn/pool", params={"as_of": "2026-01-01"},
                         headers=world.headers("manager"))  # fmt: skip
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "as_of"


def _pool_customer(world: World, branch: str | None = None) -> str:
    rows = [r for r in _pool_rows(world) if branch is None or r.home == branch]
    assert rows
    return str(rows[0].customer_id)


def test_the_churn_card(client: TestClient, world: World) -> None:
    customer = _pool_customer(world, world.branch)
    r = client.get(f"/api/churn/customers/{customer}", headers=world.headers("credit_officer"))
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["in_pool"] and card["as_of"] == AS_OF
    current = card["current"]
    assert current["first_identified"] == AS_OF and current["rules"]
    assert set(current["evidence"]) >= {"loan_overdue", "card_default", "inactive"}
    assert card["episodes"][0]["entered_on"] == AS_OF and card["episodes"][0]["left_on"] is None
    phone = card["customer"]["phone"]
    assert phone is None or "****" in phone
    marketing = client.get(f"/api/churn/customers/{customer}", headers=world.headers("marketing"))
    assert marketing.status_code == 200
    assert marketing.json()["current"]["evidence"] is None
    assert marketing.json()["current"]["balance"] is None
    other = _pool_customer(world, world.other_branch)
    out = client.get(f"/api/churn/customers/{other}", headers=world.headers("credit_officer"))
    assert out.status_code == 404 and out.json()["error"]["code"] == "not_found"
    unknown = client.get("/api/churn/customers/NOPE", headers=world.headers("risk_manager"))
    assert unknown.status_code == 404
    outside = next(c for c in world.customer_ids
                   if c not in {r.customer_id for r in _pool_rows(world)})  # fmt: skip
    quiet = client.get(f"/api/churn/customers/{outside}", headers=world.headers("risk_manager"))
    assert quiet.status_code == 200 and quiet.json()["in_pool"] is False


def _audit(world: World, action: str) -> list[Any]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == action)).all()
    engine.dispose()
    return list(rows)


def test_reason_confirmation_is_recorded_and_audited(client: TestClient, world: World) -> None:
    customer = _pool_customer(world, world.branch)
    before = len(_audit(world, "churn.reason"))
    body = {"reason": "competition", "note": "客户称已转到他行,利率更低"}
    r = client.post(f"/api/churn/customers/{customer}/reason", json=body,
                    headers=world.headers("credit_officer"))  # fmt: skip
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["reason"] == "competition" and done["confirmed_by"] == "credit_officer"
    assert done["as_of"] == AS_OF and done["note"] == body["note"]
    entries = _audit(world, "churn.reason")
    assert len(entries) == before + 1
    last = entries[-1]
    assert (last.actor, last.target_type, last.target_id) == ("credit_officer", "customer",
                                                               customer)  # fmt: skip
    detail = json.loads(last.detail)
    assert detail["reason"] == "competition" and detail["note"] == body["note"]
    item = _everyone(client, world, "risk_manager", customer_id=customer)[0]
    assert (item["reason"], item["reason_source"]) == ("competition", "confirmed")
    card = client.get(f"/api/churn/customers/{customer}", headers=world.headers("risk_manager"))
    assert card.json()["reasons"][0]["confirmed_by"] == "credit_officer"
    filtered = _everyone(client, world, "risk_manager", reason="competition")
    assert customer in {i["customer_id"] for i in filtered}


def test_reason_confirmation_refusals(client: TestClient, world: World) -> None:
    mine = _pool_customer(world, world.branch)
    other = _pool_customer(world, world.other_branch)
    good = {"reason": "service", "note": "complained about waiting times"}
    url = "/api/churn/customers/{}/reason"
    out = client.post(url.format(other), json=good, headers=world.headers("credit_officer"))
    assert out.status_code == 404
    unknown = client.post(url.format("NOPE"), json=good, headers=world.headers("risk_manager"))
    assert unknown.status_code == 404
    outside = next(c for c in world.customer_ids
                   if c not in {r.customer_id for r in _pool_rows(world)})  # fmt: skip
    conflict = client.post(url.format(outside), json=good, headers=world.headers("risk_manager"))
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    for bad in ({"reason": "weather", "note": "x"}, {"reason": "service", "note": ""},
                {"reason": "service"}, {"reason": "service", "note": "x" * 1001},
                {"reason": "service", "note": "a\u0000b"},
                {"reason": "service", "note": "ok", "as_of": "2026-13-01"}):  # fmt: skip
        r = client.post(url.format(mine), json=bad, headers=world.headers("credit_officer"))
        assert r.status_code == 422, (bad, r.text)
    blank = client.post(url.format(mine), json={"reason": "service", "note": "   "},
                        headers=world.headers("credit_officer"))  # fmt: skip
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "note"
    not_run = client.post(url.format(mine), json={**good, "as_of": "2026-01-01"},
                          headers=world.headers("credit_officer"))  # fmt: skip
    assert not_run.status_code == 404
    for who in ("marketing", "manager", "auditor", "collector"):
        r = client.post(url.format(mine), json=good, headers=world.headers(who))
        assert r.status_code == 403, who


def test_reason_with_the_session_cookie_needs_the_csrf_token(app: Any, world: World) -> None:
    customer = _pool_customer(world, world.branch)
    engine = engine_for(world.url)
    with engine.begin() as conn:
        session = issue_token(conn, world.users["customer_service"].user_id, "session",
                              datetime.now(UTC))  # fmt: skip
    engine.dispose()
    before = len(_audit(world, "churn.reason"))
    url = f"/api/churn/customers/{customer}/reason"
    body = {"reason": "service", "note": "long waits at the counter"}
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        forged = browser.post(url, json=body)
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
        assert len(_audit(world, "churn.reason")) == before
        ok = browser.post(url, json=body, headers={CSRF_HEADER: csrf_token(app, session)})
        assert ok.status_code == 200, ok.text
        assert ok.json()["confirmed_by"] == "customer_service"


def test_kpis_are_scoped(client: TestClient, world: World) -> None:
    head = client.get("/api/churn/kpis", params={"date_from": AS_OF, "date_to": AS_OF},
                      headers=world.headers("risk_manager"))  # fmt: skip
    assert head.status_code == 200, head.text
    rates = {r["branch_id"]: r for r in head.json()["rates"]}
    assert rates["*"]["any_customers"] == len(_pool_rows(world))
    branch = client.get("/api/churn/kpis", headers=world.headers("credit_officer")).json()
    assert {r["branch_id"] for r in branch["rates"]} <= {world.branch, "*"}
    mine = sum(1 for r in _pool_rows(world) if r.home == world.branch)
    assert {r["branch_id"]: r for r in branch["rates"]}["*"]["any_customers"] == mine
    hidden = client.get("/api/churn/kpis", headers=world.headers("marketing")).json()
    assert all(r["any_balance"] is None and r["outstanding"] is None for r in hidden["rates"])
    assert "win_back" in hidden
    backwards = client.get("/api/churn/kpis", params={"date_from": AS_OF,
                                                      "date_to": "2026-01-01"},
                           headers=world.headers("manager"))  # fmt: skip
    assert backwards.status_code == 422
    too_long = client.get("/api/churn/kpis", params={"date_from": "2020-01-01",
                                                     "date_to": AS_OF},
                          headers=world.headers("manager"))  # fmt: skip
    assert too_long.status_code == 422
    assert client.get("/api/churn/kpis", headers=world.headers("collector")).status_code == 403


def test_the_360_view_has_a_churn_section(client: TestClient, world: World) -> None:
    customer = _pool_customer(world, world.branch)
    view = client.get(f"/api/customers/{customer}", headers=world.headers("credit_officer"))
    assert view.status_code == 200
    section = view.json()["churn"]
    assert section["in_pool"] and section["current"]["rules"]
    assert section["episodes"] and section["as_of"] == AS_OF
    masked = client.get(f"/api/customers/{customer}", headers=world.headers("marketing"))
    assert masked.json()["churn"] is None  # no account access: no churn evidence
    # Account access without a churn action (legal officers, collectors) shows no churn card.
    legal = client.get(f"/api/customers/{customer}", headers=world.headers("legal_officer"))
    assert legal.status_code == 200 and legal.json()["accounts_visible"] is True
    assert legal.json()["churn"] is None
