"""The collections API: the task queue in the caller's scope and priority order, the contact
form's policy check, recording contacts (refusals name their rules and are kept), completing
reminders, and the compliance report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from postloan.access.tables import assignments
from postloan.api.app import create_app
from postloan.collections.tables import cases, contact_refusals, contacts, tasks
from postloan.store.db import engine_for
from postloan.store.schema import customers
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


def _db(world: World) -> Any:
    return engine_for(world.url)


def _task_customers(world: World, kind: str) -> list[str]:
    engine = _db(world)
    with engine.connect() as conn:
        ids = sorted(
            set(
                conn.execute(
                    select(tasks.c.customer_id).where(
                        tasks.c.kind == kind, tasks.c.status == "open"
                    )
                ).scalars()
            )
        )
    engine.dispose()
    return ids


def _assign(world: World, who: str, customer_ids: list[str]) -> None:
    engine = _db(world)
    with engine.begin() as conn:
        conn.execute(assignments.delete().where(assignments.c.user_id == world.users[who].user_id))
        for c in customer_ids:
            conn.execute(
                assignments.insert().values(user_id=world.users[who].user_id, customer_id=c)
            )
    engine.dispose()


def test_queue_is_scoped_and_in_priority_order(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    with_tasks = _task_customers(world, "contact")
    assert len(with_tasks) >= 3, "the synthetic store has cases with a contact floor"
    mine, theirs = with_tasks[:2], with_tasks[2:3]
    _assign(world, "collector", mine)
    _assign(world, "collector2", theirs)
    engine = _db(world)
    with engine.begin() as conn:  # a broken promise would raise this case above the other
        conn.execute(update(cases).where(cases.c.customer_id == mine[1]).values(priority=99))
    engine.dispose()
    page = client.get("/api/collections/tasks", headers=world.headers("collector")).json()
    assert {t["customer_id"] for t in page["items"]} == set(mine)
    assert page["total"] == len(page["items"])
    assert page["items"][0]["customer_id"] == mine[1] and page["items"][0]["priority"] == 99
    priorities = [t["priority"] for t in page["items"]]
    assert priorities == sorted(priorities, reverse=True)
    admin = client.get("/api/collections/tasks?limit=500", headers=world.headers("admin")).json()
    assert {t["customer_id"] for t in admin["items"]} >= set(with_tasks)
    # a supervisor sees their branch only
    engine = _db(world)
    with engine.connect() as conn:
        branch_of = dict(conn.execute(select(customers.c.customer_id, customers.c.branch_id)).all())
    engine.dispose()
    sup = client.get(
        "/api/collections/tasks?limit=500", headers=world.headers("collection_supervisor")
    )
    assert {branch_of[t["customer_id"]] for t in sup.json()["items"]} <= {world.branch}


def test_reminders_carry_their_message(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    page = client.get(
        "/api/collections/tasks?kind=reminder&lang=en&limit=500", headers=world.headers("admin")
    ).json()
    assert page["items"], "accounts whose reminder window is still open on the first date"
    task = page["items"][0]
    assert task["account_id"][-4:] in task["message"] and task["pay_by"] in task["message"]
    assert task["overdue_amount"] in task["message"]
    url = f"/api/collections/tasks/{task['task_id']}/complete"
    done = client.post(url, json={"channel": "sms"}, headers=world.headers("admin"))
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert done.json()["done_by"] == "admin" and done.json()["channel"] == "sms"
    again = client.post(url, json={"channel": "sms"}, headers=world.headers("admin"))
    assert again.status_code == 409
    bad = client.post(url, json={"channel": "visit"}, headers=world.headers("admin"))
    assert bad.status_code == 422


def test_a_task_out_of_scope_answers_like_a_missing_one(fresh: tuple[World, TestClient]) -> None:
    """Completing another collector's task answers what completing no task does: 404 naming
    the task, never its customer (the answer does not tell that the task exists)."""
    world, client = fresh
    theirs = _task_customers(world, "reminder")[:1]
    _assign(world, "collector", [])
    _assign(world, "collector2", theirs)
    engine = _db(world)
    with engine.connect() as conn:
        task_id = conn.execute(
            select(tasks.c.task_id).where(tasks.c.customer_id == theirs[0]).limit(1)
        ).scalar_one()
    engine.dispose()
    answers = [
        client.post(
            f"/api/collections/tasks/{key}/complete",
            json={"channel": "sms"},
            headers=world.headers("collector"),
        )
        for key in (task_id, 2_000_000_000)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    errors = [a.json()["error"] for a in answers]
    assert errors == [
        {"code": "not_found", "message": f"no task {key}", "field": "task_id"}
        for key in (task_id, 2_000_000_000)
    ]
    assert theirs[0] not in answers[0].text


def test_contact_check_refuse_and_record(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    customer = _task_customers(world, "contact")[0]
    _assign(world, "collector", [customer])
    h = world.headers("collector")
    late = {"customer_id": customer, "channel": "phone", "outcome": "no_answer",
            "at": f"{AS_OF}T23:30:00+08:00"}  # fmt: skip
    check = client.post("/api/collections/contacts/check", json=late, headers=h).json()
    assert check == {
        "allowed": False,
        "violations": [{"rule": "quiet_hours", "message": check["violations"][0]["message"]}],
    }
    refused = client.post("/api/collections/contacts", json=late, headers=h)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "contact_refused" and error["field"] == "at"
    assert [p["rule"] for p in error["problems"]] == ["quiet_hours"]
    ok = {**late, "at": BEIJING_NOON.isoformat(), "outcome": "promise_to_pay",
          "promise_amount": "120.50", "promise_date": str(AS_OF)}  # fmt: skip
    assert client.post("/api/collections/contacts/check", json=ok, headers=h).json()["allowed"]
    saved = client.post("/api/collections/contacts", json=ok, headers=h)
    assert saved.status_code == 201, saved.text
    engine = _db(world)
    with engine.connect() as conn:
        stored = conn.execute(select(contacts).where(contacts.c.customer_id == customer)).all()
        refusals = conn.execute(select(contact_refusals.c.rules)).scalars().all()
        task = conn.execute(
            select(tasks.c.status, tasks.c.done_by).where(
                tasks.c.kind == "contact", tasks.c.customer_id == customer
            )
        ).one()
    engine.dispose()
    assert len(stored) == 1 and stored[0].promise_amount == 12050
    assert refusals == ["quiet_hours"]
    assert tuple(task) == ("done", "collector")
    # the compliance report (admin: all customers) lists the refusal
    report = client.get("/api/collections/compliance", headers=world.headers("admin")).json()
    assert [r["rules"] for r in report["refused"]] == [["quiet_hours"]]
    assert report["week_ending"] == str(AS_OF)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "promise_to_pay"}, "promise_amount"),
        ({"promise_amount": "10.00", "promise_date": "2026-07-09"}, "outcome"),
        ({"outcome": "promise_to_pay", "promise_amount": "ten", "promise_date": "2026-07-09"},
         "promise_amount"),
        ({"at": "2026-07-01T10:00:00"}, "at"),
        ({"account_id": "NOT-MINE"}, "account_id"),
    ],
)  # fmt: skip
def test_bad_contacts_name_the_field(
    fresh: tuple[World, TestClient], change: dict[str, str], field: str
) -> None:
    world, client = fresh
    customer = world.customer_ids[0]
    body = {"customer_id": customer, "channel": "phone", "outcome": "no_answer",
            "at": BEIJING_NOON.isoformat(), **change}  # fmt: skip
    r = client.post("/api/collections/contacts", json=body, headers=world.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_out_of_scope_customer_is_404(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    other = world.assigned["collector2"][0]
    body = {"customer_id": other, "channel": "sms", "outcome": "sent",
            "at": BEIJING_NOON.isoformat()}  # fmt: skip
    for path in ("/api/collections/contacts", "/api/collections/contacts/check"):
        r = client.post(path, json=body, headers=world.headers("collector"))
        assert r.status_code == 404 and r.json()["error"]["field"] == "customer_id"


def test_kpis_by_scope(fresh: tuple[World, TestClient]) -> None:
    world, client = fresh
    admin = client.get(
        f"/api/collections/kpis?from={AS_OF}&to={AS_OF}", headers=world.headers("admin")
    )
    assert admin.status_code == 200, admin.text
    body = admin.json()
    assert body["closing"] == str(AS_OF) and body["from"] == str(AS_OF)
    levels = {r["level"] for r in body["rows"]}
    assert "portfolio" in levels
    portfolio = next(r for r in body["rows"] if r["level"] == "portfolio")
    assert portfolio["cases"] > 0  # the store's open cases were open in the period
    mine = client.get("/api/collections/kpis", headers=world.headers("collector")).json()
    assert all(r["level"] == "collector" and r["key"] == "collector" for r in mine["rows"])
    bad = client.get(
        f"/api/collections/kpis?from={AS_OF}&to=2020-01-01", headers=world.headers("admin")
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "to"
    none = client.get(
        "/api/collections/kpis?from=2020-01-01&to=2020-01-31", headers=world.headers("admin")
    )
    assert none.status_code == 422 and "no stored status" in none.json()["error"]["message"]
