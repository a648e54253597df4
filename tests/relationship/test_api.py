"""The relationship API end to end on a fresh API world (SQLite and PostgreSQL): a complaint
through its clock over HTTP (scope: 404 outside the branch; the recusal and the extension
refusals named; the breach report), CSRF with the session cookie, a hardship plan approved and
broken (collections' tasks paused and back), points and surveys with the satisfaction report
equal to a plain recomputation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.access.tokens import issue_token
from postloan.api.app import create_app
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.collections.tables import tasks
from postloan.relationship.api import today
from postloan.relationship.rules.surveys import csat, nps
from postloan.store.db import engine_for
from postloan.store.schema import customers, loans
from tests.api.conftest import World, populate
from tests.store.conftest import BACKENDS, make_store  # noqa: F401

API = "/api/relationship"


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, make_store: Any, tmp_path: Path) -> World:  # noqa: F811
    return populate(make_store(request.param), tmp_path / "files")


@pytest.fixture
def client(fresh: World, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(fresh.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _customer(world: World, branch: str, with_loan: bool = False) -> str:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        q = select(customers.c.customer_id).where(customers.c.branch_id == branch)
        if with_loan:
            q = q.where(customers.c.customer_id.in_(select(loans.c.customer_id)))
        found = conn.execute(q.order_by(customers.c.customer_id).limit(1)).scalar_one()
    engine.dispose()
    return str(found)


def _complaint(client: TestClient, world: World, customer: str, **extra: Any) -> Any:
    body = {
        "customer_id": customer,
        "received_on": today().isoformat(),
        "channel": "phone",
        "business_type": "collection",
        "reason": "collection_conduct",
        "summary": "深夜来电催收",
        "complained_about": ["collector"],
        **extra,
    }
    return client.post(f"{API}/complaints", json=body, headers=world.headers("customer_service"))


def test_a_complaint_through_its_clock_over_http(client: TestClient, fresh: World) -> None:
    w, day = fresh, today()
    mine = _customer(w, w.branch)
    made = _complaint(client, w, mine)
    assert made.status_code == 201, made.text
    c = made.json()
    assert c["department"] == "collections" and c["clock"]["limit_days"] == 15
    assert c["clock"]["deadline"] == (day + timedelta(days=15)).isoformat()
    assert c["customer_name"] != "" and c["events"][0]["kind"] == "received"
    other = _complaint(client, w, _customer(w, w.other_branch))
    assert other.status_code == 404  # outside the branch: like a missing customer
    assert _complaint(client, w, mine, channel="pigeon").status_code == 422
    url = f"{API}/complaints/{c['complaint_id']}"
    cs = w.headers("customer_service")
    refused = client.post(f"{url}/assign", json={"handler": "collector"}, headers=cs)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "recusal"
    assert (
        client.post(f"{url}/assign", json={"handler": "customer_service"}, headers=cs).status_code
        == 200
    )
    boss = w.headers("manager")
    no_notice = client.post(f"{url}/extend", json={}, headers=boss)
    assert no_notice.status_code == 403 and no_notice.json()["error"]["code"] == "not_complex"
    assert (
        client.post(f"{url}/complex", json={"reason": "需调取录音"}, headers=cs).status_code == 200
    )
    no_notice = client.post(f"{url}/extend", json={}, headers=boss)
    assert no_notice.status_code == 403 and no_notice.json()["error"]["code"] == "no_notice"
    assert (
        client.post(f"{url}/extend", json={"notice_on": day.isoformat()}, headers=cs).status_code
        == 403
    )  # not a senior: no approve action
    ok = client.post(f"{url}/extend", json={"notice_on": day.isoformat()}, headers=boss)
    assert ok.status_code == 200 and ok.json()["clock"]["limit_days"] == 60
    decided = client.post(
        f"{url}/decide",
        json={"decided_on": day.isoformat(), "outcome": "upheld", "decision": "致歉"},
        headers=cs,
    )
    assert decided.status_code == 200 and decided.json()["clock"]["status"] == "decided"
    traced = client.post(
        f"{url}/trace", json={"root_cause": "外呼未限时", "fix": "22点锁定"}, headers=cs
    )
    assert traced.status_code == 200 and traced.json()["fix"] == "22点锁定"
    # reads: the branch's credit officer and head office (marketing) see it
    assert client.get(url, headers=w.headers("credit_officer")).status_code == 200
    assert client.get(url, headers=w.headers("marketing")).status_code == 200
    listed = client.get(f"{API}/complaints", headers=w.headers("manager")).json()
    assert [i["complaint_id"] for i in listed["items"]] == [c["complaint_id"]]
    report = client.get(f"{API}/reports/complaints", headers=boss).json()
    assert report["total"] == 1 and report["root_cause_recorded"] == 1 and not report["breaches"]
    goodwill = client.post(f"{url}/goodwill", json={"points": 50, "note": "补偿"}, headers=cs)
    assert goodwill.status_code == 201 and goodwill.json()["balance"] >= 50
    points = client.get(f"{API}/customers/{mine}/points", headers=cs).json()
    assert any(e["kind"] == "goodwill" for e in points["entries"])


def test_cookie_writes_need_the_csrf_token(fresh: World, tmp_path: Path) -> None:
    app = create_app(fresh.url, policy_path=tmp_path / "policy.toml")
    engine = engine_for(fresh.url)
    with engine.begin() as conn:
        session = issue_token(
            conn, fresh.users["customer_service"].user_id, "session", datetime.now(UTC)
        )
    engine.dispose()
    body = {
        "customer_id": _customer(fresh, fresh.branch),
        "received_on": today().isoformat(),
        "channel": "app",
        "business_type": "loans",
        "reason": "service",
        "summary": "x",
    }
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        forged = browser.post(f"{API}/complaints", json=body)
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
        ok = browser.post(
            f"{API}/complaints", json=body, headers={CSRF_HEADER: csrf_token(app, session)}
        )
        assert ok.status_code == 201, ok.text


def _tasks(world: World, customer: str, status: str) -> int:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count()).where(tasks.c.customer_id == customer, tasks.c.status == status)
        ).scalar_one()
    engine.dispose()
    return int(n)


def test_a_hardship_plan_over_http(client: TestClient, fresh: World) -> None:
    w = fresh
    engine = engine_for(w.url)
    with engine.connect() as conn:  # a branch customer with a loan and open collection work
        row = conn.execute(
            select(loans.c.customer_id, loans.c.loan_id)
            .join(customers, customers.c.customer_id == loans.c.customer_id)
            .where(
                customers.c.branch_id == w.branch,
                loans.c.customer_id.in_(
                    select(tasks.c.customer_id).where(tasks.c.status == "open")
                ),
            )
            .order_by(loans.c.loan_id)
            .limit(1)
        ).first()
    engine.dispose()
    assert row is not None
    customer, loan = row
    before = _tasks(w, customer, "open")
    body = {
        "customer_id": customer,
        "account_id": loan,
        "kind": "loan_deferral",
        "months": 9,
        "form": "written",
        "reason": "失业",
    }
    credit = w.headers("credit_officer")
    over = client.post(f"{API}/hardship-plans", json=body, headers=credit)
    assert over.status_code == 403 and over.json()["error"]["code"] == "over_limit"
    made = client.post(f"{API}/hardship-plans", json=body | {"months": 3}, headers=credit)
    assert made.status_code == 201, made.text
    plan = made.json()["plan_id"]
    own = client.post(
        f"{API}/hardship-plans/{plan}/decision", json={"approve": True}, headers=credit
    )
    assert own.status_code == 403 and own.json()["error"]["code"] == "maker_checker"
    approved = client.post(
        f"{API}/hardship-plans/{plan}/decision",
        json={"approve": True},
        headers=w.headers("risk_manager"),
    )
    assert approved.status_code == 200 and approved.json()["tasks_paused"] == before
    assert _tasks(w, customer, "open") == 0
    # The pause is not a hand-over: collections' hand-over list does not offer it for a decision.
    handed = client.get("/api/collections/handovers", headers=w.headers("risk_manager"))
    assert handed.status_code == 200, handed.text
    assert all("pause_collection" not in h["actions"] for h in handed.json()["items"])
    broken = client.post(
        f"{API}/hardship-plans/{plan}/end",
        json={"outcome": "broken", "note": "未按计划还款"},
        headers=credit,
    )
    assert broken.status_code == 200 and broken.json()["status"] == "broken"
    assert _tasks(w, customer, "open") == before
    listed = client.get(f"{API}/customers/{customer}/hardship-plans", headers=credit).json()
    assert [p["status"] for p in listed] == ["broken"]


def test_surveys_and_the_satisfaction_report(client: TestClient, fresh: World) -> None:
    w = fresh
    mk = w.headers("marketing")
    version = client.post(f"{API}/surveys/versions", json={"name": "2026 满意度"}, headers=mk)
    assert version.status_code == 201
    vid = version.json()["version_id"]
    engine = engine_for(w.url)
    with engine.connect() as conn:
        ids = list(
            conn.execute(
                select(customers.c.customer_id, customers.c.branch_id)
                .order_by(customers.c.customer_id)
                .limit(40)
            )
        )
    engine.dispose()
    answers: dict[str, list[tuple[int, int]]] = {}
    for i, (customer, branch) in enumerate(ids):
        c, n = 1 + (i * 7) % 5, (i * 3) % 11
        r = client.post(
            f"{API}/surveys/responses",
            headers=mk,
            json={
                "version_id": vid,
                "customer_id": customer,
                "answered_on": today().isoformat(),
                "csat": c,
                "nps": n,
                "answers": {"attitude": c},
            },
        )
        assert r.status_code == 201, r.text
        answers.setdefault(branch, []).append((c, n))
    bad = client.post(
        f"{API}/surveys/responses",
        headers=mk,
        json={
            "version_id": vid,
            "customer_id": ids[0][0],
            "answered_on": today().isoformat(),
            "csat": 3,
            "nps": 5,
            "answers": {"nonsense": 3},
        },
    )
    assert bad.status_code == 422
    got = client.get(f"{API}/reports/satisfaction", headers=w.headers("manager")).json()
    month = today().isoformat()[:7]
    for g in got["groups"]:
        rows = (
            [a for v in answers.values() for a in v]
            if g["branch_id"] is None
            else (answers[g["branch_id"]])
        )
        assert g["month"] in (None, month)
        want_c, want_n = csat([c for c, _ in rows], 4, 0.95), nps([n for _, n in rows], 0.95)
        assert g["csat"] == {
            "n": want_c.n,
            "value": want_c.value,
            "low": want_c.low,
            "high": want_c.high,
        }
        assert g["nps"]["value"] == want_n.value and g["nps"]["low"] == want_n.low
    # a branch role sees its branch only
    cs = client.get(f"{API}/reports/satisfaction", headers=w.headers("customer_service")).json()
    assert {g["branch_id"] for g in cs["groups"]} <= {None, w.branch}


def test_contact_plans_over_http(client: TestClient, fresh: World) -> None:
    w = fresh
    plan = {
        "name": "回访",
        "channel": "phone",
        "purpose": "service",
        "cadence_days": 30,
        "starts_on": "2026-06-30",
    }
    cs = w.headers("customer_service")
    other = client.post(
        f"{API}/contact-plans", json=plan | {"branch_id": w.other_branch}, headers=cs
    )
    assert other.status_code == 422  # a branch role plans for its own branch only
    mine = client.post(f"{API}/contact-plans", json=plan, headers=cs)
    assert mine.status_code == 201 and mine.json()["branch_id"] == w.branch
    assert (
        client.post(f"{API}/contact-plans", json=plan, headers=w.headers("collector")).status_code
        == 403
    )
    sms = plan | {"channel": "sms", "purpose": "marketing"}
    assert (
        client.post(f"{API}/contact-plans", json=sms, headers=w.headers("marketing")).status_code
        == 201
    )
    listed = client.get(f"{API}/contact-plans", headers=w.headers("manager")).json()
    assert [p["purpose"] for p in listed] == ["service", "marketing"]
