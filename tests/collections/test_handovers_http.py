"""Collections' side of the churn hand-over over HTTP, on SQLite and PostgreSQL: the API
(`/api/collections/handovers`) and the workbench page (`/handovers`) over a real store whose
daily run (churn's level-1 measures) handed customers over.

Scope: a collection supervisor lists and decides the hand-overs of their branch; another
branch's answers 404 like a missing one. Deciding needs `case.assign`, a decline a reason;
each decision is audited, and a decided hand-over cannot be decided again. Cookie writes need
the CSRF token. Auditors (no account access) get no amounts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from postloan.access import create_user
from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.collections.handover_tables import handovers
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import customers
from postloan.synth import generate
from tests.store.conftest import BACKENDS, import_all
from tests.web.stores import PASSWORD, backend_store, make_app, signed_in_clients
from tests.web.test_pages import csrf_of

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), AS_OF]
BRANCH, OTHER = "HO1", "HO2"
ROLES = {"sup": ("collection_supervisor", BRANCH), "sup2": ("collection_supervisor", OTHER),
         "boss": ("manager", None), "aud": ("auditor", None), "legal": ("legal_officer", None),
         "co": ("credit_officer", BRANCH), "coll": ("collector", None)}  # fmt: skip


@dataclass
class HandoverStore:
    url: str
    ours: list[int]  # open hand-overs of BRANCH customers
    theirs: int  # an open hand-over of an OTHER customer
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _build(url: str, folder: Path) -> HandoverStore:
    write_contract_files(generate(accounts=300, seed=12, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        rows = conn.execute(
            select(handovers.c.handover_id, handovers.c.customer_id)
            .where(handovers.c.status == "open", handovers.c.source == "churn")
            .order_by(handovers.c.customer_id, handovers.c.handover_id)
        ).all()
        customers_of = list(dict.fromkeys(r.customer_id for r in rows))
        assert len(customers_of) >= 3, "the demo portfolio hands level-1 customers over"
        ours, theirs = customers_of[:2], customers_of[2]
        conn.execute(update(customers).where(customers.c.customer_id.in_(ours))
                     .values(branch_id=BRANCH))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == theirs)
                     .values(branch_id=OTHER))  # fmt: skip
        store = HandoverStore(
            url=url, ours=[r.handover_id for r in rows if r.customer_id in ours],
            theirs=next(r.handover_id for r in rows if r.customer_id == theirs),
        )  # fmt: skip
        for name, (role, branch) in ROLES.items():
            user = create_user(conn, username=name, password=PASSWORD, role=role,
                               branch_id=branch)  # fmt: skip
            store.tokens[name] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
    engine.dispose()
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HandoverStore]:
    folder = tmp_path_factory.mktemp(f"handovers-{request.param}")
    with backend_store(request.param, folder, "hand") as url:
        yield _build(url, folder / "files")


@pytest.fixture(scope="module")
def app(store: HandoverStore) -> FastAPI:
    return make_app(store.url)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[Any]:
    with signed_in_clients(app) as login:
        yield login


def _rows(store: HandoverStore, statement: Any) -> list[Any]:
    engine = engine_for(store.url)
    with engine.connect() as conn:
        rows = list(conn.execute(statement).all())
    engine.dispose()
    return rows


def _handover(store: HandoverStore, handover_id: int) -> Any:
    return _rows(store, select(handovers).where(handovers.c.handover_id == handover_id))[0]


def _audits(store: HandoverStore, action: str, target: int) -> list[Any]:
    return _rows(store, select(audit_log).where(audit_log.c.action == action,
                                                audit_log.c.target_id == str(target)))  # fmt: skip


def _audit_total(store: HandoverStore) -> int:
    return int(_rows(store, select(func.count()).select_from(audit_log))[0][0])


# --- API ---------------------------------------------------------------------------------------


def test_list_in_scope(client: TestClient, store: HandoverStore) -> None:
    stored = _rows(store, select(handovers))
    head = client.get("/api/collections/handovers", params={"page_size": 200},
                      headers=store.headers("boss"))  # fmt: skip
    assert head.status_code == 200, head.text
    assert head.json()["total"] == len(stored)
    assert sorted(i["handover_id"] for i in head.json()["items"]) == sorted(
        r.handover_id for r in stored)  # fmt: skip
    item = head.json()["items"][0]
    assert item["actions"] and item["basis"]["grade"] == 1 and item["overdue_amount"] is not None
    branch = client.get("/api/collections/handovers", headers=store.headers("sup")).json()
    assert sorted(i["handover_id"] for i in branch["items"]) == sorted(store.ours)
    audited = client.get("/api/collections/handovers", headers=store.headers("aud")).json()
    assert audited["items"] and all(
        i["overdue_amount"] is None and i["max_dpd"] is None for i in audited["items"])  # fmt: skip
    none = client.get("/api/collections/handovers", headers=store.headers("coll")).json()
    assert none["total"] == 0  # a collector: assigned customers only (none here)
    assert client.get("/api/collections/handovers",
                      headers=store.headers("co")).status_code == 403  # fmt: skip
    for bad in ({"status": "lost"}, {"page_size": 201}, {"page": 0}):
        r = client.get("/api/collections/handovers", params=bad, headers=store.headers("boss"))
        assert r.status_code == 422, bad


def test_decisions_scoped_and_audited(client: TestClient, store: HandoverStore) -> None:
    before = _audit_total(store)
    url = "/api/collections/handovers/{}/{}"
    outside = client.post(url.format(store.theirs, "accept"), json={},
                          headers=store.headers("sup"))  # fmt: skip
    missing = client.post(url.format(2_000_000_000, "accept"), json={},
                          headers=store.headers("sup"))  # fmt: skip
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    for who in ("boss", "aud", "legal", "coll"):  # no case.assign
        r = client.post(url.format(store.ours[0], "accept"), json={}, headers=store.headers(who))
        assert r.status_code == 403, who
    for body in ({}, {"note": ""}, {"note": "x" * 2001}):
        r = client.post(url.format(store.ours[0], "decline"), json=body,
                        headers=store.headers("sup"))  # fmt: skip
        assert r.status_code == 422, body
    assert _audit_total(store) == before
    ok = client.post(url.format(store.ours[0], "accept"), json={"note": "special team"},
                     headers=store.headers("sup"))  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["decided_by"]) == ("accepted", "sup")
    (entry,) = _audits(store, "handover.accept", store.ours[0])
    assert entry.actor == "sup" and json.loads(entry.detail)["source"] == "churn"
    again = client.post(url.format(store.ours[0], "decline"), json={"note": "no"},
                        headers=store.headers("sup"))  # fmt: skip
    assert again.status_code == 409
    declined = client.post(url.format(store.theirs, "decline"),
                           json={"note": "customer already in a legal matter"},
                           headers=store.headers("sup2"))  # fmt: skip
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    (entry,) = _audits(store, "handover.decline", store.theirs)
    assert json.loads(entry.detail)["note"] == "customer already in a legal matter"
    row = _handover(store, store.theirs)
    assert (row.status, row.decided_by) == ("declined", "sup2")


def test_cookie_writes_need_the_csrf_token(app: FastAPI, store: HandoverStore) -> None:
    from postloan.access.tables import users

    engine = engine_for(store.url)
    with engine.begin() as conn:
        uid = conn.execute(select(users.c.user_id).where(users.c.username == "sup")).scalar()
        session = issue_token(conn, uid, "session", datetime.now(UTC))
    engine.dispose()
    target = store.ours[-1]
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        url = f"/api/collections/handovers/{target}/decline"
        forged = browser.post(url, json={"note": "no"})
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
        assert _handover(store, target).status == "open"
        ok = browser.post(url, json={"note": "paid in full since"},
                          headers={CSRF_HEADER: csrf_token(app, session)})  # fmt: skip
        assert ok.status_code == 200, ok.text


# --- the page ------------------------------------------------------------------------------------


def _ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-handover="(\d+)"', html)]


def test_page_per_role_and_forms(as_user: Any, store: HandoverStore) -> None:
    stored = _rows(store, select(handovers))
    boss = as_user("boss")
    everything = boss.get("/handovers", params={"status": "all"})
    assert everything.status_code == 200
    assert sorted(_ids(everything.text)) == sorted(r.handover_id for r in stored)
    assert "/accept" not in everything.text  # managers read only
    assert as_user("co").get("/handovers").status_code == 403
    assert as_user("boss").get("/handovers", params={"status": "lost"}).status_code == 422
    sup = as_user("sup")
    page = sup.get("/handovers", params={"status": "all"}).text
    assert sorted(_ids(page)) == sorted(store.ours)
    assert 'href="/handovers"' in page  # the nav entry
    token = csrf_of(page)
    opened = [h for h in store.ours if _handover(store, h).status == "open"]
    if not opened:  # the API tests decided them: the page works on a fresh one
        engine = engine_for(store.url)
        with engine.begin() as conn:
            conn.execute(update(handovers).where(handovers.c.handover_id == store.ours[0])
                         .values(status="open", decided_by=None, decided_at=None,
                                 decision_note=None))  # fmt: skip
        engine.dispose()
        opened = [store.ours[0]]
    target = opened[0]
    url = f"/handovers/{target}/decline"
    assert sup.post(url, data={"note": "why"}).status_code == 403  # no CSRF token
    empty = sup.post(url, data={"note": " ", "csrf_token": token})
    assert empty.status_code == 422 and 'id="handover-error"' in empty.text
    assert "note" in empty.text
    for path in (f"/handovers/{store.theirs}/accept", "/handovers/2000000000/accept",
                 "/handovers/abc/accept", f"/handovers/{target}/explode"):  # fmt: skip
        assert sup.post(path, data={"csrf_token": token}).status_code == 404, path
    assert not _audits(store, "handover.decline", target)
    done = sup.post(url, data={"note": "customer repaid", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/handovers?done=decline"
    row = _handover(store, target)
    assert (row.status, row.decided_by, row.decision_note) == ("declined", "sup", "customer repaid")
    assert len(_audits(store, "handover.decline", target)) == 1
    again = sup.post(f"/handovers/{target}/accept", data={"csrf_token": token})
    assert again.status_code == 409 and 'id="handover-error"' in again.text
