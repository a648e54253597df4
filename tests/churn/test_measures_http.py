"""Churn's measures routes over HTTP (`churn.measures_api`), on SQLite and PostgreSQL: a real
store run for five dates (the daily step made the measures, offers and hand-overs), users of
each role, bearer tokens and a session cookie.

- scope: a branch role lists its branch's measures and offers only; a measure or offer of
  another branch answers 404 exactly like one that does not exist, and nothing is audited;
- a contact the policy refuses as of now (consent withdrawn, channel opted out) answers 409
  naming the rules, is audited, and leaves the measure open; a done task is audited;
- offer decisions need a reason and are audited with it; a decided offer cannot be decided
  again;
- the session cookie without the CSRF token is refused before anything is written;
- no personal field (name, phone) in any answer; roles without the action get 403.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from postloan.access import create_user
from postloan.access.consent import record_consent
from postloan.access.tables import audit_log, users
from postloan.access.tokens import issue_token
from postloan.api.app import create_app
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.churn.tables import churn_measures, churn_offers
from postloan.collections.tables import contact_opt_outs
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.churn.conftest import DATES
from tests.store.conftest import BACKENDS, import_all
from tests.web.stores import PASSWORD, backend_store

BRANCH, OTHER = "MEAS1", "MEAS2"
ROLES = {"risk": "risk_manager", "co": "credit_officer", "cs": "customer_service",
         "mkt": "marketing", "boss": "manager", "aud": "auditor", "coll": "collector",
         "legal": "legal_officer"}  # fmt: skip
BRANCH_ROLES = ("co", "cs")


@dataclass
class MeasureStore:
    url: str
    followup: int  # open follow-up with a proposed offer, customer in BRANCH
    callbacks: list[int]  # open callbacks of two more BRANCH customers (one each)
    outsider_followup: int  # open follow-up with an offer, customer in OTHER
    closed_refused: int  # a callback refused for a closed relationship (any branch)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def _build(url: str, files: Path) -> MeasureStore:
    import_all(url, files)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        m, o = churn_measures.c, churn_offers.c
        with_offer = conn.execute(
            select(m.measure_id, m.customer_id)
            .where(m.kind == "winback_followup", m.status == "open",
                   m.measure_id.in_(select(o.measure_id).where(o.status == "proposed")))
            .order_by(m.customer_id)
        ).all()  # fmt: skip
        assert len(with_offer) >= 2, "the demo portfolio has open follow-ups with offers"
        taken = {with_offer[0].customer_id, with_offer[1].customer_id}
        callbacks = conn.execute(
            select(m.measure_id, m.customer_id)
            .where(m.kind == "winback_callback", m.status == "open", m.channel == "phone",
                   m.customer_id.not_in(taken))
            .order_by(m.customer_id)
        ).all()  # fmt: skip
        assert len(callbacks) >= 2
        ours = [with_offer[0].customer_id, callbacks[0].customer_id, callbacks[1].customer_id]
        conn.execute(update(customers).where(customers.c.customer_id.in_(ours))
                     .values(branch_id=BRANCH))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == with_offer[1].customer_id)
                     .values(branch_id=OTHER))  # fmt: skip
        closed = conn.execute(
            select(m.measure_id).where(m.refused_rules.like("%closed_relationship%"),
                                       m.kind == "winback_callback")
        ).scalar()  # fmt: skip
        assert closed is not None, "the demo portfolio has closed relationships"
        store = MeasureStore(
            url=url, followup=with_offer[0].measure_id,
            callbacks=[callbacks[0].measure_id, callbacks[1].measure_id],
            outsider_followup=with_offer[1].measure_id, closed_refused=closed,
        )  # fmt: skip
        for name, role in ROLES.items():
            user = create_user(conn, username=name, password=PASSWORD, role=role,
                               branch_id=BRANCH if name in BRANCH_ROLES else None)  # fmt: skip
            store.tokens[name] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
    engine.dispose()
    return store


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, churn_files: Path
) -> Iterator[MeasureStore]:
    folder = tmp_path_factory.mktemp(f"measures-http-{request.param}")
    with backend_store(request.param, folder, "meas") as url:
        yield _build(url, churn_files)


@pytest.fixture(scope="module")
def app(store: MeasureStore, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(store.url, policy_path=tmp_path_factory.mktemp("pol") / "policy.toml")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _rows(store: MeasureStore, statement: Any) -> list[Any]:
    engine = engine_for(store.url)
    with engine.connect() as conn:
        rows = list(conn.execute(statement).all())
    engine.dispose()
    return rows


def _audits(store: MeasureStore, action: str, target: int | None = None) -> list[Any]:
    q = select(audit_log).where(audit_log.c.action == action)
    if target is not None:
        q = q.where(audit_log.c.target_id == str(target))
    return _rows(store, q)


def _audit_total(store: MeasureStore) -> int:
    return int(_rows(store, select(func.count()).select_from(audit_log))[0][0])


def _measure(store: MeasureStore, measure_id: int) -> Any:
    return _rows(store, select(churn_measures).where(churn_measures.c.measure_id == measure_id))[0]


def _branch_customers(store: MeasureStore) -> set[str]:
    rows = _rows(store, select(customers.c.customer_id).where(customers.c.branch_id == BRANCH))
    return {r[0] for r in rows}


def _offer_of(store: MeasureStore, measure_id: int) -> int:
    rows = _rows(store, select(churn_offers.c.offer_id).where(
        churn_offers.c.measure_id == measure_id).order_by(churn_offers.c.offer_id))  # fmt: skip
    return int(rows[0][0])


# --- reading ---------------------------------------------------------------------------------


def test_measures_in_scope_filtered_and_without_personal_fields(
    client: TestClient, store: MeasureStore
) -> None:
    stored = _rows(store, select(churn_measures))
    everything = client.get("/api/churn/measures", params={"limit": 1000},
                            headers=store.headers("risk"))  # fmt: skip
    assert everything.status_code == 200, everything.text
    body = everything.json()
    assert body["total"] == len(stored)
    assert sorted(i["measure_id"] for i in body["items"]) == sorted(r.measure_id for r in stored)
    ours = _branch_customers(store)
    branch = client.get("/api/churn/measures", headers=store.headers("co")).json()
    assert {i["customer_id"] for i in branch["items"]} == ours
    assert branch["total"] == sum(1 for r in stored if r.customer_id in ours)
    # Filters narrow to exactly the stored rows that match.
    for params, keep in (
        ({"status": "refused"}, lambda r: r.status == "refused"),
        ({"kind": "winback_followup"}, lambda r: r.kind == "winback_followup"),
        ({"grade": 3, "status": "open"}, lambda r: r.grade == 3 and r.status == "open"),
    ):
        got = client.get("/api/churn/measures", params={**params, "limit": 1000},
                         headers=store.headers("boss")).json()  # fmt: skip
        assert sorted(i["measure_id"] for i in got["items"]) == sorted(
            r.measure_id for r in stored if keep(r)
        ), params
    refused = [i for i in body["items"] if i["status"] == "refused"]
    assert refused and all(i["refused_rules"] and i["refusal_detail"] for i in refused)
    one = next(i for i in body["items"] if i["measure_id"] == store.closed_refused)
    assert "closed_relationship" in one["refused_rules"]
    # Customer ids only: no name or phone in the answer, for any role.
    people = _rows(store, select(customers.c.name, customers.c.phone))
    for who in ("risk", "mkt", "aud"):
        text = client.get("/api/churn/measures", params={"limit": 1000},
                          headers=store.headers(who)).text  # fmt: skip
        assert not any(p.name and p.name in text for p in people), who
        assert not any(p.phone and p.phone in text for p in people), who
    assert set(body["items"][0]) >= {"measure_id", "customer_id", "status", "refused_rules"}
    assert not {"name", "phone", "id_number"} & set(body["items"][0])
    for bad in ({"status": "lost"}, {"grade": 4}, {"kind": "visit"}, {"limit": 1001}):
        r = client.get("/api/churn/measures", params=bad, headers=store.headers("risk"))
        assert r.status_code == 422, bad
    for who in ("coll", "legal"):
        r = client.get("/api/churn/measures", headers=store.headers(who))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert client.get("/api/churn/offers", headers=store.headers(who)).status_code == 403


def test_offers_in_scope_with_their_basis(client: TestClient, store: MeasureStore) -> None:
    everything = client.get("/api/churn/offers", headers=store.headers("risk")).json()
    assert len(everything) == len(_rows(store, select(churn_offers)))
    assert all(o["basis"] and o["terms"] for o in everything)
    branch = client.get("/api/churn/offers", headers=store.headers("co")).json()
    assert {o["customer_id"] for o in branch} <= _branch_customers(store)
    assert store.followup in {o["measure_id"] for o in branch}
    assert store.outsider_followup not in {o["measure_id"] for o in branch}


# --- scope on writes ---------------------------------------------------------------------------


def test_out_of_scope_answers_like_missing(client: TestClient, store: MeasureStore) -> None:
    before = _audit_total(store)
    note = {"outcome": "reached"}
    outside = client.post(f"/api/churn/followups/{store.outsider_followup}/complete", json=note,
                          headers=store.headers("co"))  # fmt: skip
    missing = client.post("/api/churn/followups/2000000000/complete", json=note,
                          headers=store.headers("co"))  # fmt: skip
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["error"]["code"] == missing.json()["error"]["code"] == "not_found"
    # A follow-up's id on the callbacks route is not a callback: missing too.
    wrong_kind = client.post(f"/api/churn/callbacks/{store.followup}/complete", json=note,
                             headers=store.headers("risk"))  # fmt: skip
    assert wrong_kind.status_code == 404
    offer = _offer_of(store, store.outsider_followup)
    for url in (f"/api/churn/offers/{offer}/accept", "/api/churn/offers/2000000000/accept"):
        r = client.post(url, json={"note": "agreed"}, headers=store.headers("co"))
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", (url, r.text)
    assert _audit_total(store) == before
    assert _measure(store, store.outsider_followup).status == "open"


# --- completing tasks --------------------------------------------------------------------------


def test_done_task_is_audited(client: TestClient, store: MeasureStore) -> None:
    url = f"/api/churn/followups/{store.followup}/complete"
    for who in ("cs", "mkt", "boss", "aud"):  # no churn.followup
        r = client.post(url, json={"outcome": "reached"}, headers=store.headers(who))
        assert r.status_code == 403, who
    bad = client.post(url, json={"outcome": "delighted"}, headers=store.headers("co"))
    assert bad.status_code == 422
    assert client.post(url, json={"outcome": "reached", "note": "x" * 2001},
                       headers=store.headers("co")).status_code == 422  # fmt: skip
    done = client.post(url, json={"outcome": "interested", "note": "will come to the branch"},
                       headers=store.headers("co"))  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["done_by"] == "co"
    row = _measure(store, store.followup)
    assert (row.status, row.outcome, row.done_by) == ("done", "interested", "co")
    (entry,) = _audits(store, "churn.measure.done", store.followup)
    assert entry.actor == "co" and json.loads(entry.detail)["outcome"] == "interested"
    again = client.post(url, json={"outcome": "reached"}, headers=store.headers("co"))
    assert again.status_code == 409
    assert len(_audits(store, "churn.measure.done", store.followup)) == 1


def test_refused_contact_answers_409_naming_the_rules(
    client: TestClient, store: MeasureStore
) -> None:
    measure = store.callbacks[1]
    row = _measure(store, measure)
    engine = engine_for(store.url)
    with engine.begin() as conn:  # the customer withdrew consent and opted out of calls since
        record_consent(conn, row.customer_id, "marketing", False, datetime.now(UTC), "test")
        conn.execute(contact_opt_outs.insert().values(
            customer_id=row.customer_id, channel=row.channel, since=DATES[-1]))  # fmt: skip
    engine.dispose()
    r = client.post(f"/api/churn/callbacks/{measure}/complete", json={"outcome": "reached"},
                    headers=store.headers("cs"))  # fmt: skip
    assert r.status_code == 409, r.text
    message = r.json()["error"]["message"]
    assert "marketing_consent" in message and "channel_opt_out" in message
    (entry,) = _audits(store, "churn.measure.refused", measure)
    assert entry.actor == "cs"
    assert set(json.loads(entry.detail)["rules"].split(",")) == {
        "marketing_consent", "channel_opt_out"}  # fmt: skip
    assert _measure(store, measure).status == "open"  # still to do, with a new basis
    # A callback refused when it was made (closed relationship) cannot be completed either.
    refused = client.post(
        f"/api/churn/callbacks/{store.closed_refused}/complete",
        json={"outcome": "reached"},
        headers=store.headers("risk"),
    )
    assert refused.status_code == 409 and "refused" in refused.json()["error"]["message"]
    assert _measure(store, store.closed_refused).status == "refused"
    # The other callback (consent on file): done, by marketing (head office, churn.callback).
    ok = client.post(f"/api/churn/callbacks/{store.callbacks[0]}/complete",
                     json={"outcome": "no_answer"}, headers=store.headers("mkt"))  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert _audits(store, "churn.measure.done", store.callbacks[0])


# --- offers ------------------------------------------------------------------------------------


def test_offer_decisions_are_audited_with_the_reason(
    client: TestClient, store: MeasureStore
) -> None:
    offer = _offer_of(store, store.followup)
    url = f"/api/churn/offers/{offer}/accept"
    for body in ({}, {"note": ""}, {"note": "x" * 2001}, {"note": "a\u0000b"}):
        assert client.post(url, json=body, headers=store.headers("co")).status_code == 422, body
    for who in ("boss", "aud", "cs", "mkt"):
        assert client.post(url, json={"note": "ok"}, headers=store.headers(who)).status_code == 403
    assert not _audits(store, "churn.offer.accept", offer)
    r = client.post(url, json={"note": "took the longer term"}, headers=store.headers("co"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decided_by"]) == ("accepted", "co")
    (entry,) = _audits(store, "churn.offer.accept", offer)
    assert json.loads(entry.detail)["note"] == "took the longer term" and entry.actor == "co"
    again = client.post(f"/api/churn/offers/{offer}/decline", json={"note": "changed mind"},
                        headers=store.headers("co"))  # fmt: skip
    assert again.status_code == 409
    assert not _audits(store, "churn.offer.decline", offer)
    # Risk (head office) declines the other branch's offer, with the reason.
    other = _offer_of(store, store.outsider_followup)
    declined = client.post(f"/api/churn/offers/{other}/decline",
                           json={"note": "rate already the lowest"},
                           headers=store.headers("risk"))  # fmt: skip
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    (entry,) = _audits(store, "churn.offer.decline", other)
    assert json.loads(entry.detail)["note"] == "rate already the lowest"


# --- the session cookie ------------------------------------------------------------------------


def test_cookie_writes_need_the_csrf_token(app: FastAPI, store: MeasureStore) -> None:
    engine = engine_for(store.url)
    with engine.begin() as conn:
        uid = conn.execute(select(users.c.user_id).where(users.c.username == "risk")).scalar()
        session = issue_token(conn, uid, "session", datetime.now(UTC))
    engine.dispose()
    measure = store.outsider_followup
    offer = _offer_of(store, measure)
    before = _audit_total(store)
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        assert browser.get("/api/churn/measures").status_code == 200  # reads need no token
        for url, body in ((f"/api/churn/followups/{measure}/complete", {"outcome": "reached"}),
                          (f"/api/churn/offers/{offer}/accept", {"note": "agreed"})):  # fmt: skip
            forged = browser.post(url, json=body)
            assert forged.status_code == 403, url
            assert forged.json()["error"]["code"] == "csrf_failed"
            wrong = browser.post(url, json=body, headers={CSRF_HEADER: "0" * 64})
            assert wrong.status_code == 403
        assert _audit_total(store) == before
        assert _measure(store, measure).status == "open"
        ok = browser.post(f"/api/churn/followups/{measure}/complete",
                          json={"outcome": "declined"},
                          headers={CSRF_HEADER: csrf_token(app, session)})  # fmt: skip
        assert ok.status_code == 200, ok.text


# --- evaluation --------------------------------------------------------------------------------


def test_evaluation_per_kind_and_scope(client: TestClient, store: MeasureStore) -> None:
    head = client.get("/api/churn/evaluation", params={"as_of": "2026-12-31"},
                      headers=store.headers("risk"))  # fmt: skip
    assert head.status_code == 200, head.text
    items = {i["kind"]: i for i in head.json()["items"]}
    assert set(items) == {"recovery_handover", "winback_followup", "winback_callback"}
    assert sum(i["treated_n"] + i["holdout_n"] for i in items.values()) > 0
    for i in items.values():
        assert i["flag"] in ("keep", "adjust")
        primary = i["effects"][i["primary"]]
        if primary["difference"] is not None:
            assert primary["lower"] <= primary["difference"] <= primary["upper"]
    branch = client.get("/api/churn/evaluation", params={"as_of": "2026-12-31"},
                        headers=store.headers("co")).json()  # fmt: skip
    mine = sum(i["treated_n"] + i["holdout_n"] for i in branch["items"])
    assert mine <= len(_branch_customers(store)) * 3
    assert mine < sum(i["treated_n"] + i["holdout_n"] for i in items.values())
    assert client.get("/api/churn/evaluation", params={"as_of": "2026-02-30"},
                      headers=store.headers("risk")).status_code == 422  # fmt: skip
    assert client.get("/api/churn/evaluation", headers=store.headers("coll")).status_code == 403
