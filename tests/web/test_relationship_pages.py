"""The relationship workbench over HTTP (TestClient), on SQLite and PostgreSQL: the complaints
page per role (customer service with the intake form, management read-only, collectors
refused), the intake form (CSRF, refusals shown in the form with 422, out-of-scope customers
refused, audited through the API's service), the complaint listed with its clock, and the
relationship card on the 360° page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.collections.tables import tasks
from postloan.relationship import surveys
from postloan.relationship.api import today
from postloan.relationship.rules.surveys import csat
from postloan.relationship.tables import survey_responses
from postloan.store.db import engine_for
from postloan.store.schema import customers, loans
from tests.api.conftest import PASSWORD, World, populate
from tests.store.conftest import BACKENDS, make_store  # noqa: F401
from tests.web.conftest import make_app
from tests.web.test_pages import csrf_of


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, make_store: Any, tmp_path: Path) -> World:  # noqa: F811
    return populate(make_store(request.param), tmp_path / "files")


@pytest.fixture
def web(world: World) -> Iterator[TestClient]:
    with TestClient(make_app(world.url), follow_redirects=False) as client:
        yield client


def _login(client: TestClient, who: str) -> None:
    page = client.get("/login")
    r = client.post(
        "/login", data={"username": who, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 303, r.text


def _branch_customer(world: World, branch: str) -> str:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        found = conn.execute(
            select(customers.c.customer_id)
            .where(customers.c.branch_id == branch)
            .order_by(customers.c.customer_id)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return str(found)


def test_the_complaints_page_per_role(web: TestClient, world: World) -> None:
    _login(web, "collector")
    assert web.get("/complaints").status_code == 403
    web.cookies.clear()
    _login(web, "manager")
    page = web.get("/complaints")
    assert page.status_code == 200 and 'id="complaint-form"' not in page.text
    web.cookies.clear()
    _login(web, "customer_service")
    page = web.get("/complaints")
    assert page.status_code == 200 and 'id="complaint-form"' in page.text


def test_taking_a_complaint_in_from_the_workbench(web: TestClient, world: World) -> None:
    _login(web, "customer_service")
    page = web.get("/complaints")
    mine = _branch_customer(world, world.branch)
    form = {
        "customer_id": mine,
        "received_on": today().isoformat(),
        "channel": "counter",
        "business_type": "loans",
        "reason": "service",
        "summary": "柜面等候时间过长",
        "complained_about": "",
    }
    assert web.post("/complaints", data=form).status_code == 403  # no CSRF token
    token = csrf_of(page.text)
    other = web.post(
        "/complaints",
        data=form
        | {"csrf_token": token, "customer_id": _branch_customer(world, world.other_branch)},
    )
    assert other.status_code == 422 and 'id="complaint-error"' in other.text
    bad = web.post("/complaints", data=form | {"csrf_token": token, "channel": "pigeon"})
    assert bad.status_code == 422 and "channel" in bad.text
    ok = web.post("/complaints", data=form | {"csrf_token": token})
    assert ok.status_code == 303
    listed = web.get("/complaints").text
    assert 'data-status="open"' in listed and mine in listed
    engine = engine_for(world.url)
    with engine.connect() as conn:
        actions = list(
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.action == "complaint.received")
            ).scalars()
        )
    engine.dispose()
    assert actions == ["complaint.received"]
    card = web.get(f"/customers/{mine}")
    assert card.status_code == 200 and 'id="relationship-card"' in card.text
    assert 'data-status="open"' in card.text


def test_a_complaint_through_its_clock_on_its_page(web: TestClient, world: World) -> None:
    _login(web, "customer_service")
    token = csrf_of(web.get("/complaints").text)
    mine = _branch_customer(world, world.branch)
    form = {
        "customer_id": mine,
        "received_on": today().isoformat(),
        "channel": "phone",
        "business_type": "collection",
        "reason": "collection_conduct",
        "summary": "深夜催收",
        "complained_about": "collector",
        "csrf_token": token,
    }
    assert web.post("/complaints", data=form).status_code == 303
    listed = web.get("/complaints").text
    cid = int(listed.split('data-complaint="')[1].split('"')[0])
    url = f"/complaints/{cid}"
    page = web.get(url)
    assert page.status_code == 200 and 'data-limit="15"' in page.text
    recused = web.post(f"{url}/assign", data={"handler": "collector", "csrf_token": token})
    assert recused.status_code == 403 and 'data-code="recusal"' in recused.text
    assert (
        web.post(
            f"{url}/assign", data={"handler": "customer_service", "csrf_token": token}
        ).status_code
        == 303
    )
    assert (
        web.post(f"{url}/complex", data={"reason": "调录音", "csrf_token": token}).status_code
        == 303
    )
    assert 'data-limit="30"' in web.get(url).text
    assert web.post(f"{url}/extend", data={"csrf_token": token}).status_code == 403  # no action
    web.cookies.clear()
    _login(web, "manager")
    boss = csrf_of(web.get(url).text)
    no_notice = web.post(f"{url}/extend", data={"csrf_token": boss})
    assert no_notice.status_code == 403 and 'data-code="no_notice"' in no_notice.text
    assert (
        web.post(
            f"{url}/extend", data={"notice_on": today().isoformat(), "csrf_token": boss}
        ).status_code
        == 303
    )
    assert 'data-limit="60"' in web.get(url).text
    web.cookies.clear()
    _login(web, "customer_service")
    token = csrf_of(web.get(url).text)
    assert (
        web.post(
            f"{url}/decide",
            data={
                "decided_on": today().isoformat(),
                "outcome": "upheld",
                "decision": "致歉",
                "csrf_token": token,
            },
        ).status_code
        == 303
    )
    assert (
        web.post(
            f"{url}/trace",
            data={"root_cause": "外呼未限时", "fix": "22点锁定", "csrf_token": token},
        ).status_code
        == 303
    )
    done = web.get(url).text
    assert 'data-status="decided"' in done and 'id="complaint-fix"' in done
    kinds = [k.split('"')[0] for k in done.split('data-kind="')[1:]]
    assert kinds == ["received", "assigned", "complex", "extended", "decided", "traced"]
    assert web.post(f"{url}/nonsense", data={"csrf_token": token}).status_code == 404
    assert web.get("/complaints/999999").status_code == 404


def test_a_hardship_plan_signed_and_broken_on_the_page(web: TestClient, world: World) -> None:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        customer, loan = conn.execute(
            select(loans.c.customer_id, loans.c.loan_id)
            .join(customers, customers.c.customer_id == loans.c.customer_id)
            .where(
                customers.c.branch_id == world.branch,
                loans.c.customer_id.in_(
                    select(tasks.c.customer_id).where(tasks.c.status == "open")
                ),
            )
            .order_by(loans.c.loan_id)
            .limit(1)
        ).one()
    engine.dispose()
    _login(web, "credit_officer")
    token = csrf_of(web.get("/hardship").text)
    form = {
        "customer_id": customer,
        "account_id": loan,
        "kind": "loan_deferral",
        "months": "9",
        "form": "oral",
        "oral_record": "REC-1",
        "reason": "失业",
        "csrf_token": token,
    }
    over = web.post("/hardship", data=form)
    assert over.status_code == 403 and 'data-code="over_limit"' in over.text
    assert web.post("/hardship", data=form | {"months": "3"}).status_code == 303
    page = web.get("/hardship").text
    plan = int(page.split('data-plan="')[1].split('"')[0])
    assert 'data-status="proposed"' in page and f'id="approve-{plan}"' not in page  # own plan
    own = web.post(f"/hardship/{plan}/approve", data={"csrf_token": token})
    assert own.status_code == 403 and 'data-code="maker_checker"' in own.text
    web.cookies.clear()
    _login(web, "risk_manager")
    risk = csrf_of(web.get("/hardship").text)
    assert web.post(f"/hardship/{plan}/approve", data={"csrf_token": risk}).status_code == 303
    assert 'data-status="approved"' in web.get("/hardship").text
    assert f'<li data-status="approved">#{plan}' in web.get(f"/customers/{customer}").text
    web.cookies.clear()
    _login(web, "credit_officer")
    token = csrf_of(web.get("/hardship").text)
    broken = web.post(
        f"/hardship/{plan}/broken", data={"note": "未按计划还款", "csrf_token": token}
    )
    assert broken.status_code == 303 and 'data-status="broken"' in web.get("/hardship").text
    assert web.post("/hardship/1/nonsense", data={"csrf_token": token}).status_code == 404


def test_the_loyalty_page(web: TestClient, world: World) -> None:
    mine = _branch_customer(world, world.branch)
    _login(web, "customer_service")
    assert web.get("/loyalty").status_code == 200
    page = web.get(f"/loyalty?customer_id={mine}")
    assert page.status_code == 200 and 'id="loyalty-balance"' in page.text
    other = _branch_customer(world, world.other_branch)
    assert web.get(f"/loyalty?customer_id={other}").status_code == 404
    token = csrf_of(page.text)
    poor = web.post(f"/loyalty/{mine}/redeem", data={"csrf_token": token})
    assert poor.status_code == 409 and 'id="loyalty-error"' in poor.text  # too few points
    assert web.post(f"/loyalty/{mine}/redeem", data={}).status_code == 403  # no CSRF token
    assert web.post(f"/loyalty/{other}/redeem", data={"csrf_token": token}).status_code == 404
    web.cookies.clear()
    _login(web, "collector")
    assert web.get("/loyalty").status_code == 403


def test_surveys_entry_import_and_results(web: TestClient, world: World) -> None:
    engine = engine_for(world.url)
    with engine.begin() as conn:
        version = surveys.add_version(
            conn, "2026", surveys.DEFAULT_QUESTIONS, actor="marketing", now=datetime.now(UTC)
        )
        mine = list(
            conn.execute(
                select(customers.c.customer_id)
                .where(customers.c.branch_id == world.branch)
                .order_by("customer_id")
                .limit(3)
            ).scalars()
        )
    engine.dispose()
    other = _branch_customer(world, world.other_branch)
    day = today().isoformat()
    _login(web, "customer_service")
    token = csrf_of(web.get("/surveys").text)
    entry = {
        "version_id": str(version),
        "customer_id": mine[0],
        "answered_on": day,
        "csat": "5",
        "nps": "10",
        "csrf_token": token,
    }
    assert web.post("/surveys/responses", data=entry).status_code == 303
    assert web.post("/surveys/responses", data=entry | {"nps": "11"}).status_code == 422
    assert web.post("/surveys/responses", data=entry | {"customer_id": other}).status_code == 422
    bad = f"customer_id,answered_on,csat,nps,attitude\n{mine[1]},{day},4,9,5\n{other},{day},3,5,\n"
    refused = web.post(
        "/surveys/import",
        data={"version_id": str(version), "csrf_token": token},
        files={"file": ("r.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422 and "line 3" in refused.text
    good = f"customer_id,answered_on,csat,nps\n{mine[1]},{day},4,9\n{mine[2]},{day},2,3\n"
    assert (
        web.post(
            "/surveys/import",
            data={"version_id": str(version), "csrf_token": token},
            files={"file": ("r.csv", good.encode(), "text/csv")},
        ).status_code
        == 303
    )
    page = web.get("/surveys").text
    assert f'data-branch="{world.branch}" data-n="3"' in page  # 1 entered + 2 imported, not 3
    want = csat([5, 4, 2], 4, 0.95)
    assert want.value is not None and f"{want.value:.1f}" in page
    engine = engine_for(world.url)
    with engine.connect() as conn:
        sources = sorted(conn.execute(select(survey_responses.c.source)).scalars())
    engine.dispose()
    assert sources == ["import", "import", "workbench"]


def test_contact_plans_page_plans_contacts_and_the_timeline(web: TestClient, world: World) -> None:
    from postloan.relationship import contact_plans
    from postloan.relationship.tables import planned_contacts
    from tests.api.conftest import AS_OF

    _login(web, "collector")
    assert web.get("/contact-plans").status_code == 403
    web.cookies.clear()
    _login(web, "customer_service")
    page = web.get("/contact-plans")
    assert page.status_code == 200 and 'id="contact-plan-form"' in page.text
    token = csrf_of(page.text)
    form = {"name": "关怀回访", "branch_id": world.branch, "tier": "", "channel": "phone",
            "purpose": "service", "cadence_days": "1", "starts_on": AS_OF.isoformat()}  # fmt: skip
    assert web.post("/contact-plans", data=form).status_code == 403  # no CSRF token
    other = web.post("/contact-plans", data=form | {"csrf_token": token,
                                                     "branch_id": world.other_branch})  # fmt: skip
    assert other.status_code == 422 and "own branch" in other.text
    bad = web.post("/contact-plans", data=form | {"csrf_token": token, "tier": "gold"})
    assert bad.status_code == 422 and "tier" in bad.text
    assert web.post("/contact-plans", data=form | {"csrf_token": token}).status_code == 303
    assert "关怀回访" in web.get("/contact-plans").text
    engine = engine_for(world.url)
    with engine.begin() as conn:  # another branch's plan, by marketing (head office)
        contact_plans.create_plan(
            conn, name="他行", branch_id=world.other_branch, channel="sms", purpose="service",
            cadence_days=1, starts_on=AS_OF, actor="marketing", now=datetime.now(UTC),
        )  # fmt: skip
        contact_plans.derive_for_dates(conn, AS_OF, [AS_OF])
        c = planned_contacts.c
        rows = conn.execute(select(c.contact_id, c.customer_id, c.plan_id)).all()
    engine.dispose()
    mine = [r for r in rows if r.plan_id == min(x.plan_id for x in rows)]
    theirs = [r for r in rows if r.plan_id != mine[0].plan_id]
    assert mine and theirs
    day = web.get(f"/contact-plans?day={AS_OF.isoformat()}")
    assert day.status_code == 200 and f'data-contact="{mine[0].contact_id}"' in day.text
    assert f'data-contact="{theirs[0].contact_id}"' not in day.text  # out of scope: not listed
    token = csrf_of(day.text)
    done = web.post(f"/contact-plans/contacts/{mine[0].contact_id}/complete",
                    data={"csrf_token": token, "outcome": "reached"})  # fmt: skip
    assert done.status_code == 303
    again = web.post(f"/contact-plans/contacts/{mine[0].contact_id}/complete",
                     data={"csrf_token": token, "outcome": "reached"})  # fmt: skip
    assert again.status_code == 409
    out = web.post(f"/contact-plans/contacts/{theirs[0].contact_id}/complete",
                   data={"csrf_token": token, "outcome": "reached"})  # fmt: skip
    assert out.status_code == 404
    assert web.get("/contact-plans?day=2026-02-30").status_code == 422
    card = web.get(f"/customers/{mine[0].customer_id}")
    assert 'id="relationship-contacts"' in card.text and 'data-status="done"' in card.text
    engine = engine_for(world.url)
    with engine.connect() as conn:
        logged = set(conn.execute(select(audit_log.c.action)).scalars())
        assert {"contact.plan", "contact.done"} <= logged
    engine.dispose()


def test_goodwill_for_a_complaint_on_the_loyalty_page(web: TestClient, world: World) -> None:
    from postloan.policy import default_policy
    from postloan.relationship import complaints
    from postloan.relationship.tables import loyalty_ledger

    mine = _branch_customer(world, world.branch)
    engine = engine_for(world.url)
    with engine.begin() as conn:
        cid = complaints.receive(
            conn, default_policy(), customer_id=mine, received_on=today(), channel="phone",
            business_type="loans", reason="service", summary="慢", complained_about=[],
            account_id=None, actor="customer_service", today=today(), now=datetime.now(UTC),
        )  # fmt: skip
    engine.dispose()
    _login(web, "customer_service")
    page = web.get(f"/loyalty?customer_id={mine}")
    assert 'id="loyalty-goodwill"' in page.text
    token = csrf_of(page.text)
    form = {"csrf_token": token, "complaint_id": str(cid), "points": "500", "note": "致歉补偿"}
    over = web.post(f"/loyalty/{mine}/goodwill", data=form)
    assert over.status_code == 422 and "points" in over.text
    assert web.post(f"/loyalty/{mine}/goodwill", data=form | {"points": "x"}).status_code == 422
    assert web.post(f"/loyalty/{mine}/goodwill", data=form | {"points": "150"}).status_code == 303
    twice = web.post(f"/loyalty/{mine}/goodwill", data=form | {"points": "10"})
    assert twice.status_code == 422 and "already" in twice.text
    other = _branch_customer(world, world.other_branch)
    assert web.post(f"/loyalty/{other}/goodwill", data=form).status_code == 404
    engine = engine_for(world.url)
    with engine.connect() as conn:
        got = conn.execute(
            select(loyalty_ledger.c.kind, loyalty_ledger.c.points).where(
                loyalty_ledger.c.customer_id == mine
            )
        ).all()
    engine.dispose()
    assert [tuple(r) for r in got if r[0] == "goodwill"] == [("goodwill", 150)]


def test_surveys_page_feeds_back_to_the_departments(web: TestClient, world: World) -> None:
    """A low attitude score imported with a comment: the customer-service department's section
    shows the comment (the phone number masked) and its follow-up, which the branch closes with
    a note (CSRF-checked; another branch's follow-up answers like a missing one)."""
    from postloan.policy import default_policy
    from postloan.relationship.tables import survey_followups

    engine = engine_for(world.url)
    with engine.begin() as conn:
        version = surveys.add_version(
            conn, "2026", surveys.DEFAULT_QUESTIONS, actor="marketing", now=datetime.now(UTC)
        )
        other = _branch_customer(world, world.other_branch)
        theirs = surveys.record_response(
            conn, version_id=version, customer_id=other, answered_on=today(), csat_score=1,
            nps_score=0, answers={"attitude": 1}, source="workbench", actor="marketing",
            today=today(), policy=default_policy(), now=datetime.now(UTC), comment="差",
        )  # fmt: skip
    engine.dispose()
    mine = _branch_customer(world, world.branch)
    day = today().isoformat()
    _login(web, "customer_service")
    token = csrf_of(web.get("/surveys").text)
    text = (
        "customer_id,answered_on,csat,nps,attitude,comment\n"
        f'{mine},{day},2,3,1,"请回电 13912345678"\n'
    )
    done = web.post(
        "/surveys/import",
        data={"version_id": str(version), "csrf_token": token},
        files={"file": ("r.csv", text.encode(), "text/csv")},
    )
    assert done.status_code == 303, done.text
    page = web.get("/surveys").text
    assert 'data-department="customer_service"' in page and "139****5678" in page
    assert "13912345678" not in page
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = {r.customer_id: r for r in conn.execute(select(survey_followups))}
    engine.dispose()
    ours, foreign = rows[mine], rows[other]
    assert (ours.department, ours.dimensions, ours.lowest) == ("customer_service", "attitude", 1)
    assert f'data-followup="{ours.followup_id}"' in page
    assert f'data-followup="{foreign.followup_id}"' not in page  # another branch's
    form = {"followup_id": str(ours.followup_id), "note": "已回电致歉"}
    assert web.post("/surveys/followup", data=form).status_code == 403  # no CSRF token
    outside = {"followup_id": str(foreign.followup_id), "note": "x", "csrf_token": token}
    assert web.post("/surveys/followup", data=outside).status_code == 404
    assert web.post("/surveys/followup", data=form | {"csrf_token": token}).status_code == 303
    assert f'data-followup="{ours.followup_id}"' not in web.get("/surveys").text
    engine = engine_for(world.url)
    with engine.connect() as conn:
        closed = conn.execute(select(survey_followups).where(
            survey_followups.c.followup_id == ours.followup_id)).one()  # fmt: skip
        logged = conn.execute(select(audit_log.c.action).where(
            audit_log.c.action == "survey.followup_closed")).all()  # fmt: skip
    engine.dispose()
    assert (closed.status, closed.closed_by, closed.note) == ("closed", "customer_service",
                                                              "已回电致歉")  # fmt: skip
    assert len(logged) == 1 and theirs
