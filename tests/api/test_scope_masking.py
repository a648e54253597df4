"""Row-level scope (404, never 403, outside it), masking per role, reveal with reason + audit."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.access.permissions import Action, can
from postloan.access.tables import audit_log
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from tests.api.conftest import World


def _db(world: World, query):  # type: ignore[no-untyped-def]
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    return rows


def test_collector_sees_only_assigned_customers(client: TestClient, world: World) -> None:
    mine, theirs = world.assigned["collector"], world.assigned["collector2"]
    h = world.headers("collector")
    assert client.get(f"/api/customers/{mine[0]}", headers=h).status_code == 200
    other = client.get(f"/api/customers/{theirs[0]}", headers=h)
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"
    # URL guessing: every valid id; only the assigned ones answer
    seen = {
        cid
        for cid in world.customer_ids
        if client.get(f"/api/customers/{cid}", headers=h, params={"history": 1}).status_code == 200
    }
    assert seen == set(mine)
    found = client.get("/api/customers", headers=h, params={"page_size": 200}).json()
    assert {c["customer_id"] for c in found["items"]} == set(mine)
    assert found["total"] == len(mine)


def test_collector_cannot_read_another_collectors_account(client: TestClient, world: World) -> None:
    (theirs,) = _db(
        world,
        select(account_status.c.account_id)
        .where(account_status.c.customer_id.in_(world.assigned["collector2"]))
        .limit(1),
    )
    h = world.headers("collector")
    assert client.get(f"/api/accounts/{theirs[0]}/status", headers=h).status_code == 404
    h2 = world.headers("collector2")
    assert client.get(f"/api/accounts/{theirs[0]}/status", headers=h2).status_code == 200


@pytest.mark.parametrize("role", ["credit_officer", "customer_service", "collection_supervisor"])
def test_branch_roles_see_their_branch(client: TestClient, world: World, role: str) -> None:
    h = world.headers(role)
    (count,) = _db(
        world,
        select(func.count()).select_from(customers).where(customers.c.branch_id == world.branch),
    )[0]
    items, page = [], 1
    while True:
        body = client.get("/api/customers", headers=h, params={"page": page, "page_size": 50})
        data = body.json()
        items += data["items"]
        if page * 50 >= data["total"]:
            break
        page += 1
    assert data["total"] == count == len(items)
    assert {c["branch_id"] for c in items} == {world.branch}
    other = client.get("/api/customers", headers=h, params={"branch": world.other_branch}).json()
    assert other["total"] == 0
    (outside,) = _db(
        world,
        select(customers.c.customer_id).where(customers.c.branch_id == world.other_branch).limit(1),
    )
    assert client.get(f"/api/customers/{outside[0]}", headers=h).status_code == 404


def test_head_office_sees_all_and_search_filters(client: TestClient, world: World) -> None:
    h = world.headers("risk_manager")
    data = client.get("/api/customers", headers=h).json()
    assert data["total"] == len(world.customer_ids)
    cid = world.customer_ids[3]
    by_id = client.get("/api/customers", headers=h, params={"q": cid}).json()
    assert [c["customer_id"] for c in by_id["items"]] == [cid]
    (row,) = _db(world, select(customers.c.name, customers.c.phone).where(
        customers.c.customer_id == cid))  # fmt: skip
    # The last 4 digits are what the mask shows: searchable; more would be the hidden part
    # (tests/api/test_search_masking.py).
    by_phone = client.get("/api/customers", headers=h, params={"q": row.phone[-4:]}).json()
    assert cid in {c["customer_id"] for c in by_phone["items"]}
    by_name = client.get("/api/customers", headers=h, params={"q": row.name}).json()
    assert cid in {c["customer_id"] for c in by_name["items"]}
    nothing = client.get("/api/customers", headers=h, params={"q": "%_%"}).json()
    assert nothing["total"] == 0  # LIKE wildcards are literal


MOBILE = re.compile(r"^\d{3}\*{4}\d{4}$")


@pytest.mark.parametrize(
    "role", ["admin", "credit_officer", "legal_officer", "marketing", "auditor", "collector"]
)
def test_360_view_is_masked(client: TestClient, world: World, role: str) -> None:
    cid = world.assigned["collector"][0]
    if role == "credit_officer":
        (row,) = _db(world, select(customers.c.customer_id).where(
            customers.c.branch_id == world.branch).limit(1))  # fmt: skip
        cid = row[0]
    (full,) = _db(world, select(customers).where(customers.c.customer_id == cid))
    view = client.get(f"/api/customers/{cid}", headers=world.headers(role)).json()
    shown = view["customer"]
    assert shown["phone"] != full.phone and MOBILE.match(shown["phone"])
    assert shown["id_number"] != full.id_number
    head, tail = (3, 2) if role == "collector" else (6, 4)
    assert shown["id_number"][:head] == full.id_number[:head]
    assert shown["id_number"][-tail:] == full.id_number[-tail:]
    assert set(shown["id_number"][head:-tail]) == {"*"}
    assert shown["address"].endswith("****") and shown["address"] != full.address
    assert full.phone not in str(view) and full.id_number not in str(view)
    if not can(role, Action.ACCOUNT_VIEW):  # marketing, auditor: customers, not accounts
        assert view["accounts_visible"] is False and view["accounts"] == []
    else:
        assert view["accounts_visible"] is True and view["accounts"]


def test_360_view_content(client: TestClient, world: World) -> None:
    cid = world.assigned["collector"][0]
    view = client.get(f"/api/customers/{cid}", headers=world.headers("admin")).json()
    assert view["as_of"] == "2026-06-30"
    ids = {a["account_id"] for a in view["accounts"]}
    assert {s["account_id"] for s in view["status_history"]} <= ids
    for s in view["status_history"]:
        assert re.match(r"^-?\d+\.\d\d$", s["outstanding_principal"])
    loans = {a["account_id"] for a in view["accounts"] if a["account_type"] == "loan"}
    assert {i["account_id"] for i in view["schedules"]} == loans
    for p in view["payments"]:
        assert p["account_id"] in ids and re.match(r"^-?\d+\.\d\d$", p["amount"])
    for case in view["cases"]:  # the run opened them for overdue customers
        assert case["stages"] and case["stages"][0]["entered_on"] == case["opened_on"]
    assert isinstance(view["contacts"], list)


def _audit_count(world: World) -> int:
    return _db(world, select(func.count()).select_from(audit_log))[0][0]


def test_reveal_needs_reason_and_permission_and_is_audited(
    client: TestClient, world: World
) -> None:
    (row,) = _db(world, select(customers).where(customers.c.branch_id == world.branch).limit(1))
    url = f"/api/customers/{row.customer_id}/reveal"
    h = world.headers("credit_officer")
    before = _audit_count(world)
    missing = client.post(url, headers=h, json={"field": "phone"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"
    short = client.post(url, headers=h, json={"field": "phone", "reason": "   x   "})
    assert short.status_code == 422 and short.json()["error"]["field"] == "reason"
    bad_field = client.post(url, headers=h, json={"field": "name", "reason": "checking id"})
    assert bad_field.status_code == 422 and bad_field.json()["error"]["field"] == "field"
    assert _audit_count(world) == before
    for role in ("collector", "customer_service", "marketing", "manager", "auditor"):
        refused = client.post(url, headers=world.headers(role),
                              json={"field": "phone", "reason": "just curious"})  # fmt: skip
        assert refused.status_code == 403, role
    ok = client.post(url, headers=h, json={"field": "id_number", "reason": "court filing 42"})
    assert ok.status_code == 200
    assert ok.json()["value"] == row.id_number
    entries = _db(world, select(audit_log).order_by(audit_log.c.seq.desc()).limit(1))
    assert entries[0].action == "customer.reveal"
    assert entries[0].actor == "credit_officer"
    assert entries[0].target_id == row.customer_id
    assert "court filing 42" in entries[0].detail
    # out of the credit officer's branch: 404, nothing audited
    (outside,) = _db(world, select(customers.c.customer_id).where(
        customers.c.branch_id == world.other_branch).limit(1))  # fmt: skip
    count = _audit_count(world)
    hidden = client.post(f"/api/customers/{outside[0]}/reveal", headers=h,
                         json={"field": "phone", "reason": "court filing 42"})  # fmt: skip
    assert hidden.status_code == 404
    assert _audit_count(world) == count
