"""The collections workbench over HTTP (TestClient): each page per role (allowed, refused 403,
out of scope 404), the CSRF token on every POST, the queue against a plain recomputation, the
contact form's policy check and its refusal naming the rule, promises on the timeline,
agreements (the proposer is never offered, nor allowed, the approval), reassignment, legal
matters and the KPI page against the API.

One store per backend (SQLite; PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set): a synthetic
portfolio run for five dates; the customers of a few open cases moved to branch BR01, where a
supervisor and two collectors work; five failed letters to a legal-review customer and the last
date run again, so the daily run proposes legal action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from postloan import areas
from postloan.access import create_user
from postloan.access.tables import assignments, audit_log, users
from postloan.collections.agreement_tables import agreements
from postloan.collections.allocation import collector_of, reassign
from postloan.collections.contacts import Contact, record_contact
from postloan.collections.legal_tables import legal_matters, legal_proposals
from postloan.collections.tables import cases, contact_refusals, contacts, promises, tasks
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers, loans
from postloan.synth import generate
from postloan.web.routes import router as pages_router
from tests.store.conftest import BACKENDS, import_all
from tests.web.conftest import PASSWORD
from tests.web.stores import backend_store, make_app
from tests.web.test_pages import csrf_of

AS_OF = date(2026, 6, 30)
BRANCH, OTHER_BRANCH = "BR01", "BR02"
BEIJING = ZoneInfo("Asia/Shanghai")
ROLES = {
    "coll1": "collector",
    "coll2": "collector",
    "sup": "collection_supervisor",
    "sup2": "collection_supervisor",
    "boss": "manager",
    "legal": "legal_officer",
    "risk": "risk_manager",
    "cs": "customer_service",
}
JUNE = datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
TEAMS = {"coll1": "T1", "coll2": "T1"}
BRANCHES = {"coll1": BRANCH, "coll2": BRANCH, "sup": BRANCH, "sup2": OTHER_BRANCH, "cs": BRANCH}


@dataclass
class CollStore:
    url: str
    loan_customers: list[str]  # open cases with a loan at ≥ 31 DPD, in BR01, coll1's
    loans: dict[str, str]  # customer -> that loan
    reminder_customer: str  # an open reminder task's customer, coll1's
    legal_customer: str  # legal review, five failed letters: a legal proposal
    outsider: str  # a customer of another branch, nobody's
    assigned: list[str] = field(default_factory=list)


def build_store(url: str, folder: Path) -> CollStore:
    """The store described in the module doc (shared with the browser test)."""
    write_contract_files(generate(accounts=300, seed=7, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    policy = default_policy()
    run_dates(url, [AS_OF - timedelta(days=d) for d in (60, 30, 14, 7, 0)], policy)
    engine = engine_for(url)  # (after the runs: see below)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        open_cases = select(cases.c.customer_id).where(cases.c.status == "open")
        rows = conn.execute(
            select(account_status.c.customer_id, account_status.c.account_id, account_status.c.dpd)
            .join(loans, loans.c.loan_id == account_status.c.account_id)
            .where(
                account_status.c.as_of == AS_OF,
                account_status.c.dpd >= 31,
                account_status.c.customer_id.in_(open_cases),
            )
            .order_by(account_status.c.dpd)
        ).all()
        by_customer: dict[str, str] = {}
        for r in rows:
            by_customer.setdefault(r.customer_id, r.account_id)
        legal_customer = max(rows, key=lambda r: r.dpd).customer_id  # legal review
        loan_customers = [c for c in by_customer if c != legal_customer][:2]
        reminder = (
            conn.execute(
                select(tasks.c.customer_id)
                .where(
                    tasks.c.kind == "reminder",
                    tasks.c.status == "open",
                    tasks.c.customer_id.not_in([*loan_customers, legal_customer]),
                )
                .order_by(tasks.c.task_id)
            )
            .scalars()
            .first()
        )
        assert len(loan_customers) == 2 and reminder is not None
        ours = [*loan_customers, reminder, legal_customer]
        conn.execute(
            update(customers).where(customers.c.customer_id.in_(ours)).values(branch_id=BRANCH)
        )
        outsider = (
            conn.execute(
                select(customers.c.customer_id)
                .where(customers.c.customer_id.not_in(ours))
                .order_by(customers.c.customer_id.desc())
            )
            .scalars()
            .first()
        )
        conn.execute(
            update(customers)
            .where(customers.c.customer_id == outsider)
            .values(branch_id=OTHER_BRANCH)
        )
        for day in range(5):  # five failed letters in the episode: legal action is proposed
            at = datetime.combine(AS_OF - timedelta(days=day + 1), time(10), tzinfo=BEIJING)
            record_contact(
                conn,
                Contact(legal_customer, at, "letter", ("system",), "delivery_failed"),
                policy,
                recorded_by="legal",
            )
    # The runs use ADBC, which bundles its own SQLite: no connection of ours may be open
    # meanwhile (two SQLite libraries locking one file corrupt it).
    engine.dispose()
    run_dates(url, [AS_OF], policy)
    engine = engine_for(url)
    with engine.begin() as conn:
        made = {}
        for name, role in ROLES.items():
            made[name] = create_user(
                conn,
                username=name,
                password=PASSWORD,
                role=role,
                branch_id=BRANCHES.get(name),
                team=TEAMS.get(name),
                display_name=name,
            )
        # The supervisor gives coll1 the two cases early in June (so the KPIs of June count
        # them as coll1's); the reminder's customer, whose case is closed, is assigned as is.
        for customer in loan_customers:
            reassign(conn, customer, "coll1", "opening allocation", made["sup"], JUNE, policy)
        conn.execute(
            assignments.insert().values(
                user_id=made["coll1"].user_id, customer_id=reminder, assigned_at=now
            )
        )
        assigned = [*loan_customers, reminder]
    engine.dispose()
    return CollStore(
        url=url,
        loan_customers=loan_customers,
        loans=by_customer,
        reminder_customer=reminder,
        legal_customer=legal_customer,
        outsider=outsider,
        assigned=assigned,
    )


@pytest.fixture(scope="module", params=BACKENDS)
def coll(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CollStore]:
    folder = tmp_path_factory.mktemp(f"coll-{request.param}")
    with backend_store(request.param, folder, "coll") as url:
        yield build_store(url, folder / "files")


@pytest.fixture(scope="module")
def app(coll: CollStore) -> FastAPI:
    return make_app(coll.url)


def _query(coll: CollStore, statement: Any) -> list[Any]:
    engine = engine_for(coll.url)
    with engine.connect() as conn:
        rows = list(conn.execute(statement).all())
    engine.dispose()
    return rows


def _token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


# --- pages per role ---------------------------------------------------------------------------


def test_pages_need_login(app: FastAPI, coll: CollStore) -> None:
    with TestClient(app, follow_redirects=False) as client:
        for path in ("/work", f"/cases/{coll.loan_customers[0]}", "/allocation", "/legal", "/kpis"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/login?next="
            )


def test_each_page_per_role(as_user: Any, coll: CollStore) -> None:
    mine, outsider = coll.loan_customers[0], coll.outsider
    expected = {
        "coll1": {
            "/work": 200,
            "/allocation": 403,
            "/legal": 200,
            "/kpis": 200,
            f"/cases/{mine}": 200,
            f"/cases/{outsider}": 404,
        },
        "sup": {
            "/work": 200,
            "/allocation": 200,
            "/legal": 200,
            "/kpis": 200,
            f"/cases/{mine}": 200,
            f"/cases/{outsider}": 404,
        },
        "sup2": {"/allocation": 200, f"/cases/{mine}": 404, f"/cases/{outsider}": 200},
        "boss": {"/work": 200, "/allocation": 403, "/kpis": 200, f"/cases/{outsider}": 200},
        "legal": {"/legal": 200, "/allocation": 403, f"/cases/{mine}": 200},
        "cs": {
            "/work": 403,
            "/allocation": 403,
            "/legal": 403,
            "/kpis": 403,
            f"/cases/{mine}": 403,
        },
    }
    for name, pages in expected.items():
        client = as_user(name)
        for path, status in pages.items():
            assert client.get(path).status_code == status, (name, path)
    assert as_user("coll1").get("/cases/NO-SUCH-CUSTOMER").status_code == 404


def test_nav_links_follow_the_role(as_user: Any) -> None:
    links = {
        name: set(
            re.findall(r'<a href="(/[a-z]+)" class="[a-z]*">', as_user(name).get("/customers").text)
        )
        for name in ("coll1", "sup", "cs", "legal")
    }
    assert {"/work", "/legal", "/kpis"} <= links["coll1"] and "/allocation" not in links["coll1"]
    assert {"/work", "/allocation", "/legal", "/kpis"} <= links["sup"]
    assert not {"/work", "/allocation", "/legal", "/kpis"} & links["cs"]
    assert {"/legal", "/kpis"} <= links["legal"]


# --- my queue ---------------------------------------------------------------------------------


def test_queue_is_the_scoped_open_tasks_by_priority(as_user: Any, coll: CollStore) -> None:
    """The queue equals a plain recomputation: the open tasks of coll1's customers whose
    window has begun, by case priority (highest first), then due date, then id."""
    page = as_user("coll1").get("/work").text
    shown = [int(n) for n in re.findall(r'<tr id="task-(\d+)"', page)]
    priority = {
        r.customer_id: r.priority
        for r in _query(
            coll, select(cases.c.customer_id, cases.c.priority).where(cases.c.status == "open")
        )
    }
    wanted = []
    for t in _query(coll, select(tasks)):
        due = t.due_by if isinstance(t.due_by, date) else date.fromisoformat(str(t.due_by))
        start = (
            t.window_start
            if isinstance(t.window_start, date)
            else date.fromisoformat(str(t.window_start))
        )
        if t.status == "open" and t.customer_id in coll.assigned and start <= AS_OF:
            wanted.append((-priority.get(t.customer_id, 0), due, t.task_id))
    assert shown == [w[2] for w in sorted(wanted)]
    assert len(shown) >= 3
    assert "尊敬的客户" in page  # the reminder text to send (zh-CN by default)


def test_complete_a_reminder_inline(as_user: Any, coll: CollStore) -> None:
    client = as_user("coll1")
    token = _token(client, "/work")
    reminder = _query(
        coll,
        select(tasks.c.task_id).where(
            tasks.c.customer_id == coll.reminder_customer,
            tasks.c.kind == "reminder",
            tasks.c.status == "open",
        ),
    )[0].task_id
    url = f"/work/tasks/{reminder}/complete"
    htmx = {"HX-Request": "true"}
    assert client.post(url, data={"channel": "sms"}, headers=htmx).status_code == 403
    assert _query(coll, select(tasks.c.status).where(tasks.c.task_id == reminder))[0][0] == "open"
    bad = client.post(url, data={"channel": "visit"}, headers={**htmx, "X-CSRF-Token": token})
    assert bad.status_code == 422 and "channel" in bad.text
    done = client.post(url, data={"channel": "sms"}, headers={**htmx, "X-CSRF-Token": token})
    assert done.status_code == 200 and "<html" not in done.text
    assert f'id="task-{reminder}" class="done"' in done.text
    row = _query(coll, select(tasks).where(tasks.c.task_id == reminder))[0]
    assert (row.status, row.done_by, row.channel) == ("done", "coll1", "sms")
    again = client.post(url, data={"channel": "sms"}, headers={**htmx, "X-CSRF-Token": token})
    assert again.status_code == 409
    others = _query(coll, select(tasks.c.task_id).where(tasks.c.customer_id.not_in(coll.assigned)))
    outside = client.post(
        f"/work/tasks/{others[0].task_id}/complete",
        data={"channel": "sms"},
        headers={**htmx, "X-CSRF-Token": token},
    )
    assert outside.status_code == 404
    contact_task = _query(
        coll,
        select(tasks.c.task_id).where(
            tasks.c.kind == "contact", tasks.c.customer_id.in_(coll.assigned)
        ),
    )
    if contact_task:
        refused = client.post(
            f"/work/tasks/{contact_task[0].task_id}/complete",
            data={"channel": "sms"},
            headers={**htmx, "X-CSRF-Token": token},
        )
        assert refused.status_code == 409


# --- the contact form -------------------------------------------------------------------------


def _contact(at: str, **kw: str) -> dict[str, str]:
    return {"channel": "phone", "at": at, "outcome": "connected", **kw}


def test_contact_check_refusal_and_a_promise(as_user: Any, coll: CollStore) -> None:
    customer = coll.loan_customers[0]
    client = as_user("coll1")
    token = _token(client, f"/cases/{customer}")
    day = datetime.now(BEIJING).date()
    night, morning = f"{day}T23:10", f"{day}T10:00"

    # the check (htmx, nothing stored) names the rule
    check = client.post(
        f"/cases/{customer}/contacts/check",
        data=_contact(night),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert check.status_code == 200 and "<html" not in check.text
    assert 'data-rule="quiet_hours"' in check.text and "禁止催收时段" in check.text
    # the rule's detail is worded in the page's language, with the figures of the check
    assert "当地时间 23:10" in check.text and "处于禁止催收时段 22:00–08:00" in check.text
    assert "within the quiet hours" not in check.text
    fine = client.post(
        f"/cases/{customer}/contacts/check", data=_contact(morning), headers={"X-CSRF-Token": token}
    )
    assert 'data-allowed="true"' in fine.text
    assert (
        _query(
            coll,
            select(func.count())
            .select_from(contact_refusals)
            .where(contact_refusals.c.customer_id == customer),
        )[0][0]
        == 0
    )

    # saving at night: refused, the rule shown, the refusal kept, no contact
    no_token = client.post(f"/cases/{customer}/contacts", data=_contact(night))
    assert no_token.status_code == 403
    refused = client.post(
        f"/cases/{customer}/contacts", data={**_contact(night), "csrf_token": token}
    )
    assert refused.status_code == 409
    assert 'id="contact-refusal"' in refused.text and 'data-rule="quiet_hours"' in refused.text
    assert 'value="' + night + '"' in refused.text  # the form keeps what was typed
    kept = _query(coll, select(contact_refusals).where(contact_refusals.c.customer_id == customer))
    assert [r.rules for r in kept] == ["quiet_hours"]
    assert not _query(coll, select(contacts).where(contacts.c.customer_id == customer))

    # a promise without its amount names the field; with it, it is saved
    missing = client.post(
        f"/cases/{customer}/contacts",
        data={**_contact(morning, outcome="promise_to_pay"), "csrf_token": token},
    )
    assert missing.status_code == 422 and 'data-field="promise_amount"' in missing.text
    due = day + timedelta(days=7)
    for amount, when in (
        ("-5.00", due),
        ("1" * 20, due),
        ("12.345", due),
        ("100.00", day - timedelta(days=1)),
    ):
        wrong = client.post(
            f"/cases/{customer}/contacts",
            data={
                **_contact(
                    morning,
                    outcome="promise_to_pay",
                    promise_amount=amount,
                    promise_date=when.isoformat(),
                ),
                "csrf_token": token,
            },
        )
        assert wrong.status_code == 422 and 'data-field="promise_amount"' in wrong.text, amount
    assert not _query(coll, select(promises).where(promises.c.customer_id == customer))
    saved = client.post(
        f"/cases/{customer}/contacts",
        data={
            **_contact(
                morning,
                outcome="promise_to_pay",
                promise_amount="1200.50",
                promise_date=due.isoformat(),
                content="讲明逾期后果",
                response="下周还款",
            ),
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303 and saved.headers["location"] == (
        f"/cases/{customer}?done=contact"
    )
    (made,) = _query(coll, select(promises).where(promises.c.customer_id == customer))
    assert (made.amount, made.status) == (120050, "pending")
    assert date.fromisoformat(str(made.due_on)[:10]) == due
    (contact,) = _query(coll, select(contacts).where(contacts.c.customer_id == customer))
    assert contact.recorded_by == "coll1" and contact.outcome == "promise_to_pay"
    page = client.get(f"/cases/{customer}").text
    timeline = page.split('id="timeline"')[1]
    assert f"{day} 10:00" in timeline and "1,200.50" in timeline and "下周还款" in timeline
    assert 'data-kind="refused"' in timeline  # the refused attempt is on the timeline too
    promises_table = page.split('id="promises"')[1].split("</table>")[0]
    assert 'data-status="pending"' in promises_table and "1,200.50" in promises_table

    # another customer's form is out of scope; a role without contact.record is refused
    outside = client.post(
        f"/cases/{coll.outsider}/contacts", data={**_contact(morning), "csrf_token": token}
    )
    assert outside.status_code == 404
    boss = as_user("boss")
    boss_token = _token(boss, f"/cases/{customer}")
    assert 'id="contact"' not in boss.get(f"/cases/{customer}").text
    assert (
        boss.post(
            f"/cases/{customer}/contacts", data={**_contact(morning), "csrf_token": boss_token}
        ).status_code
        == 403
    )


# --- agreements -------------------------------------------------------------------------------


def _propose(client: TestClient, customer: str, loan: str, token: str) -> Any:
    first = AS_OF + timedelta(days=20)
    return client.post(
        f"/cases/{customer}/agreements",
        data={
            "account_id": loan,
            "kind": "instalments",
            "instalments": "6",
            "first_due_date": first.isoformat(),
            "reason": "收入下降，分期还款",
            "csrf_token": token,
        },
    )


def _agreement(coll: CollStore, loan: str) -> Any:
    return _query(
        coll,
        select(agreements)
        .where(agreements.c.account_id == loan)
        .order_by(agreements.c.agreement_id.desc()),
    )[0]


def test_proposer_is_never_offered_nor_allowed_the_approval(as_user: Any, coll: CollStore) -> None:
    one, two = coll.loan_customers
    coll1, sup, sup2, risk = (as_user(n) for n in ("coll1", "sup", "sup2", "risk"))

    # a collector proposes; bad input names the field
    token = _token(coll1, f"/cases/{one}")
    bad = coll1.post(
        f"/cases/{one}/agreements",
        data={
            "account_id": coll.loans[one],
            "kind": "instalments",
            "instalments": "6",
            "first_due_date": "2020-01-01",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422 and "first_due_date" in bad.text
    assert (
        coll1.post(f"/cases/{one}/agreements", data={"account_id": coll.loans[one]}).status_code
        == 403
    )  # no CSRF token
    made = _propose(coll1, one, coll.loans[one], token)
    assert made.status_code == 303, made.text
    row = _agreement(coll, coll.loans[one])
    assert (row.status, row.proposed_by) == ("proposed", "coll1")
    mine = coll1.get(f"/cases/{one}").text
    assert (
        f"/agreements/{row.agreement_id}/approve" not in mine and 'class="meta maker-note"' in mine
    )
    assert (
        coll1.post(
            f"/cases/{one}/agreements/{row.agreement_id}/approve", data={"csrf_token": token}
        ).status_code
        == 403
    )  # no agreement.approve

    # the branch supervisor is offered it; another branch's does not see the customer
    assert f"/agreements/{row.agreement_id}/approve" in sup.get(f"/cases/{one}").text
    token2 = _token(sup2, "/allocation")
    assert (
        sup2.post(
            f"/cases/{one}/agreements/{row.agreement_id}/approve", data={"csrf_token": token2}
        ).status_code
        == 404
    )

    # a supervisor's own proposal: not offered to them, refused if forced, approved by another
    sup_token = _token(sup, f"/cases/{two}")
    assert _propose(sup, two, coll.loans[two], sup_token).status_code == 303
    own = _agreement(coll, coll.loans[two])
    page = sup.get(f"/cases/{two}").text
    assert f"/agreements/{own.agreement_id}/approve" not in page
    forced = sup.post(
        f"/cases/{two}/agreements/{own.agreement_id}/approve", data={"csrf_token": sup_token}
    )
    assert forced.status_code == 403 and "maker-checker" in forced.text
    assert _agreement(coll, coll.loans[two]).status == "proposed"
    risk_token = _token(risk, f"/cases/{two}")
    assert f"/agreements/{own.agreement_id}/approve" in risk.get(f"/cases/{two}").text
    done = risk.post(
        f"/cases/{two}/agreements/{own.agreement_id}/approve",
        data={"note": "核实收入证明", "csrf_token": risk_token},
    )
    assert done.status_code == 303
    assert (
        _agreement(coll, coll.loans[two]).status,
        _agreement(coll, coll.loans[two]).decided_by,
    ) == ("approved", "risk")

    # the supervisor approves the collector's; the page then shows it approved
    assert (
        sup.post(
            f"/cases/{one}/agreements/{row.agreement_id}/approve", data={"csrf_token": sup_token}
        ).status_code
        == 303
    )
    assert _agreement(coll, coll.loans[one]).status == "approved"
    shown = coll1.get(f"/cases/{one}").text
    assert f'id="agreement-{row.agreement_id}" data-status="approved"' in shown
    actions = {
        (r.actor, r.action) for r in _query(coll, select(audit_log.c.actor, audit_log.c.action))
    }
    assert {
        ("coll1", "agreement.propose"),
        ("sup", "agreement.approve"),
        ("risk", "agreement.approve"),
    } <= actions


# --- allocation -------------------------------------------------------------------------------


def test_allocation_lists_the_branch_and_reassigns_with_a_reason(
    as_user: Any, coll: CollStore
) -> None:
    sup = as_user("sup")
    page = sup.get("/allocation").text
    shown = set(re.findall(r'<tr id="alloc-([^"]+)"', page))
    branch = {
        r.customer_id
        for r in _query(
            coll,
            select(cases.c.customer_id)
            .join(customers, customers.c.customer_id == cases.c.customer_id)
            .where(cases.c.status == "open", customers.c.branch_id == BRANCH),
        )
    }
    assert shown == branch and set(coll.loan_customers) <= shown
    assert 'data-collector="coll1"' in page and 'data-collector="coll2"' in page
    load = re.search(r'data-collector="coll1">.*?<td class="num load">(\d+)</td>', page)
    assert load and int(load.group(1)) == len(
        [c for c in coll.assigned if c in branch]
    )  # coll1's open cases
    token = csrf_of(page)
    customer = coll.loan_customers[1]
    url = f"/allocation/{customer}/reassign"
    assert sup.post(url, data={"to": "coll2", "reason": "休假调整"}).status_code == 403
    short = sup.post(url, data={"to": "coll2", "reason": "x", "csrf_token": token})
    assert short.status_code == 422 and "reason" in short.text
    done = sup.post(url, data={"to": "coll2", "reason": "coll1 休假两周", "csrf_token": token})
    assert done.status_code == 303
    engine = engine_for(coll.url)
    with engine.connect() as conn:
        holder = collector_of(conn, customer)
        coll2 = conn.execute(select(users.c.user_id).where(users.c.username == "coll2")).scalar()
    engine.dispose()
    assert holder == coll2
    log = sup.get("/allocation").text.split('id="reassignment-log"')[1]
    assert customer in log and "coll1 休假两周" in log
    assert as_user("coll1").get(f"/cases/{customer}").status_code == 404  # lost the customer
    sup2 = as_user("sup2")
    token2 = _token(sup2, "/allocation")
    elsewhere = sup2.post(
        url, data={"to": "coll1", "reason": "not my branch", "csrf_token": token2}
    )
    assert elsewhere.status_code == 404


# --- legal ------------------------------------------------------------------------------------


def test_legal_proposal_accepted_and_matter_advanced(as_user: Any, coll: CollStore) -> None:
    legal = as_user("legal")
    page = legal.get("/legal").text
    (proposal,) = _query(
        coll, select(legal_proposals).where(legal_proposals.c.customer_id == coll.legal_customer)
    )
    assert f'id="proposal-{proposal.proposal_id}"' in page and proposal.failed_contacts == 5
    # scope: the collector (not their customer) does not see it; the branch supervisor sees it
    # without the legal officer's forms
    assert f'id="proposal-{proposal.proposal_id}"' not in as_user("coll1").get("/legal").text
    supervised = as_user("sup").get("/legal").text
    assert f'id="proposal-{proposal.proposal_id}"' in supervised
    assert f"/legal/proposals/{proposal.proposal_id}/accept" not in supervised
    assert f"/legal/proposals/{proposal.proposal_id}/accept" in page
    token = csrf_of(page)
    accept = f"/legal/proposals/{proposal.proposal_id}/accept"
    assert legal.post(accept, data={"on": AS_OF.isoformat()}).status_code == 403  # no token
    collector = as_user("coll1")
    assert (
        collector.post(accept, data={"csrf_token": _token(collector, "/legal")}).status_code == 403
    )  # no legal.manage
    assert (
        legal.post(accept, data={"on": AS_OF.isoformat(), "csrf_token": token}).status_code == 303
    )
    (matter,) = _query(
        coll, select(legal_matters).where(legal_matters.c.proposal_id == proposal.proposal_id)
    )
    assert matter.stage == "lawyer_letter"
    base = f"/legal/matters/{matter.matter_id}"
    early = legal.post(f"{base}/advance", data={"to": "lawsuit", "csrf_token": token})
    assert early.status_code == 409
    assert "loan_contract" in early.text and "evidence missing" in early.text
    for item in ("loan_contract", "id_document", "statement_of_account", "lawyer_letter"):
        added = legal.post(
            f"{base}/evidence",
            data={
                "item": item,
                "name": f"{item}.pdf",
                "reference": f"ARCH-{item}",
                "csrf_token": token,
            },
        )
        assert added.status_code == 303
    moved = legal.post(
        f"{base}/advance",
        data={"to": "lawsuit", "reference": "(2026)京0105民初1号", "csrf_token": token},
    )
    assert moved.status_code == 303
    cost = legal.post(
        f"{base}/costs", data={"category": "court_fee", "amount": "1050.00", "csrf_token": token}
    )
    assert cost.status_code == 303
    bad = legal.post(
        f"{base}/costs", data={"category": "bribe", "amount": "1", "csrf_token": token}
    )
    assert bad.status_code == 422 and "category" in bad.text
    shown = (
        legal.get("/legal").text.split(f'id="matter-{matter.matter_id}"')[1].split("</section>")[0]
    )
    assert "起诉" in shown and "1,050.00" in shown and "(2026)京0105民初1号" in shown
    assert 'class="missing"' in shown  # later stages' evidence still missing
    (now_matter,) = _query(
        coll, select(legal_matters.c.stage).where(legal_matters.c.matter_id == matter.matter_id)
    )
    assert now_matter.stage == "lawsuit"


# --- KPIs -------------------------------------------------------------------------------------


def test_kpi_page_matches_the_api(as_user: Any, coll: CollStore) -> None:
    spells: dict[str, int] = {}
    for name in ("sup", "boss", "coll1"):
        client = as_user(name)
        client.get("/lang/en")
        page = client.get("/kpis").text
        api = client.get("/api/collections/kpis").json()  # the same session cookie
        assert 'action="/kpis"' in page and 'name="from"' in page and "kpi.from" not in page
        rows = re.findall(r'<tr data-level="([a-z]+)" data-key="([^"]*)">(.*?)</tr>', page, re.S)
        assert [(level, key) for level, key, _ in rows] == [
            (r["level"], r["key"])
            for r in sorted(
                api["rows"],
                key=lambda r: ({"portfolio": 0, "team": 1, "collector": 2}[r["level"]], r["key"]),
            )
        ]
        for (_, _, cells), r in zip(
            rows,
            sorted(
                api["rows"],
                key=lambda r: ({"portfolio": 0, "team": 1, "collector": 2}[r["level"]], r["key"]),
            ),
            strict=True,
        ):
            rate = r["recovery_rate"]
            assert (f"{100 * rate:.2f}%" if rate is not None else "-") in cells
        wanted = {
            "sup": {("team", "T1"), ("collector", "coll1")},
            "coll1": {("collector", "coll1")},
        }.get(name, {("portfolio", "all")})
        assert wanted <= {(level, key) for level, key, _ in rows}  # not vacuous
        options = json.loads(page.split('id="chart-options">')[1].split("</script>")[0])
        assert set(options) == {"chart-kpi-rates", "chart-kpi-cure", "chart-kpi-strategies"}
        cure = [
            None if b["cure_rate"] is None else round(100 * b["cure_rate"], 2)
            for b in api["cure_by_bucket"]
        ]
        assert options["chart-kpi-cure"]["series"][0]["data"] == cure
        # the strategy comparison over the user's scope, as the API's
        plans = client.get(
            f"/api/strategies/results?date_from={api['from']}&date_to={api['to']}"
        ).json()["items"]
        series = options["chart-kpi-strategies"]["series"]
        assert series[0]["data"] == [round(100 * p["cure_rate"], 2) for p in plans]
        assert len(re.findall(r"<tr data-strategy=", page)) == len(plans)
        spells[name] = sum(p["spells"] for p in plans)
        assert "Recovery rate" in page
    assert spells["boss"] > spells["coll1"]  # the collector's comparison is their customers'
    boss_levels = {
        level
        for level, _, _ in re.findall(
            r'<tr data-level="([a-z]+)" data-key="([^"]*)">(.*?)</tr>',
            as_user("boss").get("/kpis").text,
            re.S,
        )
    }
    assert "portfolio" in boss_levels
    zh = as_user("sup")
    zh.get("/lang/zh-CN")
    assert "清收率" in zh.get("/kpis").text
    bad = as_user("sup").get("/kpis?from=2026-07-01&to=2026-06-01")
    assert bad.status_code == 422


# --- CSRF on every POST -----------------------------------------------------------------------


def test_every_post_needs_the_csrf_token(as_user: Any, coll: CollStore) -> None:
    client = as_user("coll1")
    customer = coll.loan_customers[0]
    posts = [
        "/work/tasks/1/complete",
        f"/cases/{customer}/contacts/check",
        f"/cases/{customer}/contacts",
        f"/cases/{customer}/agreements",
        f"/cases/{customer}/agreements/1/approve",
        f"/cases/{customer}/agreements/1/reject",
        f"/cases/{customer}/agreements/1/withdraw",
        f"/allocation/{customer}/reassign",
        "/legal/proposals/1/accept",
        "/legal/proposals/1/decline",
        "/legal/matters/1/advance",
        "/legal/matters/1/evidence",
        "/legal/matters/1/costs",
        f"/churn/customers/{customer}/reason",  # and in test_churn_pages.py with every refusal
        "/churn/measures/1/complete",  # these three also in test_churn_pages.py and
        "/churn/offers/1/decide",  # tests/collections/test_handovers_http.py
        "/handovers/1/accept",
        "/handovers/1/decline",
        "/risk/tasks/1/outcome",  # and in test_risk_pages.py with its refusals
        f"/risk/customers/{customer}/override",
        "/risk/overrides/1/decision",
        "/complaints",  # relationship's; the intake also in test_relationship_pages.py
        "/complaints/1/assign",
        "/hardship",
        "/hardship/1/approve",
        f"/loyalty/{customer}/redeem",
        f"/loyalty/{customer}/goodwill",
        "/surveys/responses",
        "/surveys/followup",
        "/contact-plans",
        "/contact-plans/contacts/1/complete",
        "/tiering/tree/proposals",  # tiering's; both also in test_tiering_pages.py
        "/tiering/tree/proposals/1/decision",
        "/management/whatif",  # and in tests/management/test_whatif.py
    ]
    # Every state-changing page route of the app is in this list or tested in test_pages.py
    # (login, logout, look-up, reveal): a route added without a CSRF test fails here.
    elsewhere = {"/login", "/logout", "/customers/lookup", "/customers/{customer_id}/reveal"}
    writes = [
        route
        for web_router in (pages_router, *areas.web_routers())  # the core's and every area's
        for route in web_router.routes
        if isinstance(route, APIRoute) and route.methods - {"GET", "HEAD", "OPTIONS"}
    ]
    untested = [
        route.path
        for route in writes
        if route.path not in elsewhere and not any(route.path_regex.match(p) for p in posts)
    ]
    assert writes and not untested, untested
    before = _query(coll, select(func.count()).select_from(audit_log))[0][0]
    for path in posts:
        for headers in ({}, {"X-CSRF-Token": "0" * 64}):
            assert client.post(path, data={"channel": "sms"}, headers=headers).status_code == 403, (
                path
            )
    assert _query(coll, select(func.count()).select_from(audit_log))[0][0] == before
