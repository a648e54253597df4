"""The legal API: proposals in the caller's scope, accept/decline, stages gated by evidence
(409 naming the items), documents, costs, and write-off maker-checker (403 for one's own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.access.tables import assignments, audit_log
from postloan.api.app import create_app
from postloan.collections.legal_proposals import propose_legal_action
from postloan.collections.tables import cases, contacts
from postloan.policy import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from tests.api.conftest import AS_OF, BACKENDS, World, populate

BEIJING_NOON = datetime(AS_OF.year, AS_OF.month, AS_OF.day, 4, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, make_store: Any, tmp_path: Path) -> Iterator[
    tuple[World, TestClient]
]:  # fmt: skip
    world = populate(make_store(request.param), tmp_path / "files")
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as client:
        yield world, client


def _proposed(world: World) -> tuple[str, str]:
    """A customer at 91+ DPD with an open case and five failed contacts, proposed by the daily
    step; returns (customer, its worst account)."""
    policy = default_policy()
    engine = engine_for(world.url)
    with engine.begin() as conn:
        row = conn.execute(
            select(account_status.c.customer_id, account_status.c.account_id)
            .join(cases, cases.c.customer_id == account_status.c.customer_id)
            .where(account_status.c.as_of == AS_OF, account_status.c.dpd >= 91,
                   cases.c.status == "open")
            .order_by(account_status.c.dpd.desc(), account_status.c.account_id)
            .limit(1)
        ).one()  # fmt: skip
        conn.execute(
            contacts.insert(),
            [
                {"customer_id": row.customer_id, "at": BEIJING_NOON - timedelta(minutes=n),
                 "channel": "phone", "recorded_by": "wang", "staff": json.dumps(["wang"]),
                 "outcome": "no_answer", "jurisdiction": "CN"}
                for n in range(5)
            ],
        )  # fmt: skip
        propose_legal_action(conn, [AS_OF], policy)
    engine.dispose()
    return row.customer_id, row.account_id


def _assign(world: World, who: str, customer_id: str) -> None:
    engine = engine_for(world.url)
    with engine.begin() as conn:
        conn.execute(
            assignments.insert().values(user_id=world.users[who].user_id, customer_id=customer_id)
        )
    engine.dispose()


def test_legal_flow(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    customer, account = _proposed(world)
    officer, admin = world.headers("legal_officer"), world.headers("admin")
    page = client.get("/api/legal/proposals", headers=officer).json()
    assert [p["customer_id"] for p in page["items"]] == [customer] and page["total"] == 1
    proposal = page["items"][0]
    assert proposal["failed_contacts"] == 5 and proposal["max_dpd"] >= 91
    assert proposal["case_status"] == "open" and proposal["matter_id"] is None
    # collectors see only their own customers' proposals
    assert client.get("/api/legal/proposals", headers=world.headers("collector2")).json() == {
        "items": [], "total": 0, "page": 1, "page_size": 50
    }  # fmt: skip
    _assign(world, "collector2", customer)
    seen = client.get("/api/legal/proposals", headers=world.headers("collector2")).json()
    assert seen["total"] == 1
    pid = proposal["proposal_id"]
    bad = client.post(f"/api/legal/proposals/{pid}/decline", headers=officer, json={"note": ""})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "note"
    refused = client.post(f"/api/legal/proposals/{pid}/accept", headers=world.headers("collector"),
                          json={})  # fmt: skip
    assert refused.status_code == 403
    accepted = client.post(f"/api/legal/proposals/{pid}/accept", headers=officer,
                           json={"on": str(AS_OF)})  # fmt: skip
    assert accepted.status_code == 200, accepted.text
    matter_id = accepted.json()["matter_id"]
    again = client.post(f"/api/legal/proposals/{pid}/accept", headers=officer, json={})
    assert again.status_code == 409 and "already accepted by legal_officer" in again.text

    url = f"/api/legal/matters/{matter_id}"
    later = str(AS_OF + timedelta(days=2))
    gated = client.post(f"{url}/advance", headers=officer, json={"to": "lawsuit", "on": later})
    assert gated.status_code == 409
    error = gated.json()["error"]
    assert error["code"] == "evidence_missing" and error["field"] == "stage"
    assert error["message"].endswith(
        "evidence missing: loan_contract, id_document, statement_of_account, lawyer_letter"
    )
    for item in ("loan_contract", "id_document", "statement_of_account", "lawyer_letter"):
        r = client.post(
            f"{url}/evidence",
            headers=officer,
            json={"item": item, "name": item, "reference": f"/archive/{item}.pdf"},
        )
        assert r.status_code == 200, r.text  # fmt: skip
    unknown = client.post(f"{url}/evidence", headers=officer,
                          json={"item": "rumour", "name": "x", "reference": "y"})  # fmt: skip
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "item"
    moved = client.post(
        f"{url}/advance",
        headers=officer,
        json={"to": "lawsuit", "on": later, "reference": "(2026)沪0101民初1号"},
    )
    assert moved.status_code == 200, moved.text  # fmt: skip
    body = moved.json()
    assert body["stage"] == "lawsuit" and body["next_stages"] == [
        "property_preservation", "enforcement", "closed"
    ]  # fmt: skip
    assert [s["stage"] for s in body["stages"]] == ["lawyer_letter", "lawsuit"]
    assert body["stages"][0]["left_on"] == later and body["demands"] == 5
    back = client.post(f"{url}/advance", headers=officer, json={"to": "lawyer_letter"})
    assert back.status_code == 409 and back.json()["error"]["field"] == "stage"
    cost = client.post(
        f"{url}/costs",
        headers=officer,
        json={"category": "court_fee", "amount": "1234.5", "incurred_on": later},
    )
    assert cost.status_code == 200 and cost.json()["total_cost"] == "1234.50"  # fmt: skip
    assert cost.json()["costs"][0]["stage"] == "lawsuit"
    for payload, field in (({"category": "bribe", "amount": "1.00"}, "category"),
                           ({"category": "other", "amount": "-1"}, "amount"),
                           ({"category": "other", "amount": "0"}, "amount")):  # fmt: skip
        r = client.post(f"{url}/costs", headers=officer, json=payload)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    listed = client.get("/api/legal/matters", headers=world.headers("auditor"),
                        params={"matter_id": matter_id}).json()  # fmt: skip
    assert listed["total"] == 1 and listed["items"][0]["stage"] == "lawsuit"
    evidence = {(e["stage"], e["item"]): e for e in listed["items"][0]["evidence"]}
    assert evidence[("lawyer_letter", "demand_records")]["source"] == "contact_log"
    assert not evidence[("enforcement", "effective_judgment")]["present"]

    # write-off: maker-checker
    early = client.post("/api/legal/disposals", headers=admin, json={
        "account_id": account, "kind": "write_off", "effective_on": str(AS_OF),
        "reason": "uncollectable"})  # fmt: skip
    assert early.status_code == 422 and early.json()["error"]["field"] == "effective_on"
    made = client.post("/api/legal/disposals", headers=admin, json={
        "account_id": account, "kind": "write_off", "effective_on": later,
        "reason": "uncollectable", "matter_id": matter_id})  # fmt: skip
    assert made.status_code == 201, made.text
    disposal = made.json()
    assert disposal["status"] == "proposed" and disposal["proposed_by"] == "admin"
    did = disposal["disposal_id"]
    own = client.post(f"/api/legal/disposals/{did}/approve", headers=admin, json={})
    assert own.status_code == 403 and own.json()["error"]["code"] == "maker_checker"
    assert client.post(f"/api/legal/disposals/{did}/approve", headers=officer,
                       json={}).status_code == 403  # fmt: skip
    ok = client.post(f"/api/legal/disposals/{did}/approve", headers=world.headers("risk_manager"),
                     json={"note": "board minute 7"})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert ok.json()["decided_by"] == "risk_manager"
    listed_d = client.get("/api/legal/disposals", headers=world.headers("manager")).json()
    assert [d["disposal_id"] for d in listed_d["items"]] == [did]
    missing = client.post(
        "/api/legal/disposals",
        headers=admin,
        json={"account_id": "NO-SUCH", "kind": "write_off", "effective_on": later, "reason": "x"},
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "account_id"
    engine = engine_for(world.url)
    with engine.connect() as conn:
        actions = dict(
            conn.execute(
                select(audit_log.c.action, func.count())
                .where(audit_log.c.action.like("legal.%") | audit_log.c.action.like("writeoff.%"))
                .group_by(audit_log.c.action)
            ).all()
        )
    engine.dispose()
    assert actions == {"legal.accept": 1, "legal.document": 4, "legal.advance": 1,
                       "legal.cost": 1, "writeoff.propose": 1, "writeoff.approve": 1}  # fmt: skip


def test_unknown_ids_are_404_with_the_field(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    officer = world.headers("legal_officer")
    for path, body, field in (
        ("/api/legal/proposals/999/accept", {}, "proposal_id"),
        ("/api/legal/matters/999/advance", {"to": "lawsuit"}, "matter_id"),
        ("/api/legal/matters/999/costs", {"category": "other", "amount": "1.00"}, "matter_id"),
    ):
        r = client.post(path, headers=officer, json=body)
        assert r.status_code == 404 and r.json()["error"]["field"] == field, r.text
    r = client.post("/api/legal/disposals/999/reject", headers=world.headers("manager"),
                    json={"note": "no"})  # fmt: skip
    assert r.status_code == 404 and r.json()["error"]["field"] == "disposal_id"
