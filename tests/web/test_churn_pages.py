"""Churn's workbench over HTTP (TestClient), on SQLite and PostgreSQL: the pool page per role
(allowed, refused 403), its scope and filters against the stored pool (the API's read model),
amounts withheld from roles without account access, the churn card on the 360° page (evidence,
episodes) and on its own page (out of scope 404), the reason form (CSRF, validation and
refusals shown in the form, audited through the API's service, out of scope 404) and the KPI
page with its charts' options.

One store per backend: a synthetic portfolio run for five dates (churn identified on each);
some pool customers moved to a branch of their own, where a credit officer and customer
service work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from postloan.access import create_user
from postloan.access.tables import audit_log
from postloan.churn.tables import churn_identified, churn_measures, churn_offers, churn_reasons
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import customers
from postloan.synth import generate
from tests.store.conftest import BACKENDS, import_all
from tests.web.conftest import PASSWORD
from tests.web.stores import backend_store, make_app
from tests.web.test_pages import csrf_of

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 31), AS_OF]
BRANCH, OTHER_BRANCH = "CHURN1", "CHURN2"  # branches of their own
ROLES = {
    "risk": "risk_manager",
    "co": "credit_officer",
    "cs": "customer_service",
    "mkt": "marketing",
    "boss": "manager",
    "aud": "auditor",
    "coll": "collector",
    "sup": "collection_supervisor",
    "legal": "legal_officer",
}
BRANCHES = {"co": BRANCH, "cs": BRANCH, "coll": BRANCH, "sup": BRANCH}


@dataclass(frozen=True)
class ChurnStore:
    url: str
    ours: list[str]  # pool customers on AS_OF moved to BRANCH
    outsider: str  # a pool customer on AS_OF in another branch
    evidence_customer: str  # a BRANCH pool customer identified by rule (a) loan_overdue
    followup: int  # an open follow-up with a proposed offer, its customer moved to BRANCH
    callback: int  # an open phone callback, its customer moved to BRANCH
    outside_followup: int  # an open follow-up with an offer, its customer in OTHER_BRANCH


def build_store(url: str, folder: Path) -> ChurnStore:
    """The store described in the module doc (shared with the browser test)."""
    write_contract_files(generate(accounts=300, seed=12, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        pool = conn.execute(
            select(churn_identified.c.customer_id, churn_identified.c.loan_overdue)
            .where(churn_identified.c.as_of == AS_OF)
            .order_by(churn_identified.c.customer_id)
        ).all()
        overdue = [r.customer_id for r in pool if r.loan_overdue]
        others = [r.customer_id for r in pool if not r.loan_overdue]
        assert len(overdue) >= 2 and len(others) >= 3, pool
        ours = [overdue[0], *others[:2]]
        outsider = others[-1]
        # Measure tasks: a follow-up (with an offer) and a callback of two more customers moved
        # to BRANCH, another follow-up's customer to OTHER_BRANCH.
        m, o = churn_measures.c, churn_offers.c
        taken = {*ours, outsider}
        followups = [r for r in conn.execute(
            select(m.measure_id, m.customer_id)
            .where(m.kind == "winback_followup", m.status == "open",
                   m.measure_id.in_(select(o.measure_id).where(o.status == "proposed")))
            .order_by(m.customer_id)) if r.customer_id not in taken]  # fmt: skip
        assert len(followups) >= 2
        taken |= {followups[0].customer_id, followups[1].customer_id}
        callback = next(r for r in conn.execute(
            select(m.measure_id, m.customer_id)
            .where(m.kind == "winback_callback", m.status == "open", m.channel == "phone")
            .order_by(m.customer_id)) if r.customer_id not in taken)  # fmt: skip
        movers = [followups[0].customer_id, callback.customer_id]
        in_pool = {r.customer_id for r in pool}
        ours += [c for c in movers if c in in_pool]  # the branch's pool grows with them
        conn.execute(
            update(customers)
            .where(customers.c.customer_id.in_([*ours, *movers]))
            .values(branch_id=BRANCH)
        )
        conn.execute(
            update(customers)
            .where(customers.c.customer_id.in_([outsider, followups[1].customer_id]))
            .values(branch_id=OTHER_BRANCH)
        )
        for name, role in ROLES.items():
            create_user(conn, username=name, password=PASSWORD, role=role,
                        branch_id=BRANCHES.get(name), display_name=name)  # fmt: skip
    engine.dispose()
    return ChurnStore(url=url, ours=ours, outsider=outsider, evidence_customer=overdue[0],
                      followup=followups[0].measure_id, callback=callback.measure_id,
                      outside_followup=followups[1].measure_id)  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChurnStore]:
    folder = tmp_path_factory.mktemp(f"churn-web-{request.param}")
    with backend_store(request.param, folder, "churnweb") as url:
        yield build_store(url, folder / "files")


@pytest.fixture(scope="module")
def app(store: ChurnStore) -> FastAPI:
    return make_app(store.url)


def _query(store: ChurnStore, statement: Any) -> list[Any]:
    engine = engine_for(store.url)
    with engine.connect() as conn:
        rows = list(conn.execute(statement).all())
    engine.dispose()
    return rows


def _pool_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-customer="([^"]+)"', html)


def _all_pages(client: TestClient, **params: str) -> list[str]:
    ids, page = [], 1
    while True:
        r = client.get("/churn", params={**params, "page": str(page)})
        assert r.status_code == 200, r.text
        ids += _pool_ids(r.text)
        if 'id="churn-next"' not in r.text:
            return ids
        page += 1


def _stored(store: ChurnStore, day: date = AS_OF) -> list[Any]:
    return _query(
        store,
        select(churn_identified, customers.c.branch_id.label("home"))
        .join(customers, customers.c.customer_id == churn_identified.c.customer_id)
        .where(churn_identified.c.as_of == day),
    )


# --- the pool ---------------------------------------------------------------------------------


def test_pool_page_per_role(as_user: Any, store: ChurnStore) -> None:
    stored = _stored(store)
    for name in ("risk", "boss", "mkt", "aud"):
        assert sorted(_all_pages(as_user(name))) == sorted(r.customer_id for r in stored), name
    for name in ("co", "cs"):  # branch roles: their branch
        assert sorted(_all_pages(as_user(name))) == sorted(store.ours), name
    for name in ("coll", "sup", "legal"):
        client = as_user(name)
        assert client.get("/churn").status_code == 403, name
        assert client.get("/churn/kpis").status_code == 403, name
        assert client.get(f"/churn/customers/{store.ours[0]}").status_code == 403, name
        assert 'href="/churn"' not in client.get("/").text, name
    with TestClient(as_user("risk").app, follow_redirects=False) as anonymous:
        assert anonymous.get("/churn").status_code in (302, 303)
    page = as_user("risk").get("/churn").text
    assert 'href="/churn"' in page and 'href="/churn/kpis"' in page  # the nav entries


def test_pool_masks_amounts_for_roles_without_account_access(
    as_user: Any, store: ChurnStore
) -> None:
    risk = as_user("risk").get("/churn").text
    assert "churn.balance" not in risk
    header = re.search(r"<thead>(.*?)</thead>", risk, re.S)
    assert header and ("Balance" in header.group(1) or "余额" in header.group(1))
    for name in ("mkt", "aud"):
        page = as_user(name).get("/churn").text
        header = re.search(r"<thead>(.*?)</thead>", page, re.S)
        assert header and "余额" not in header.group(1) and "Balance" not in header.group(1)
        assert 'class="num"' not in page.split("<tbody>")[1].split("</tbody>")[0]


def test_pool_filters_match_the_stored_pool(as_user: Any, store: ChurnStore) -> None:
    stored = _stored(store)
    client = as_user("risk")
    for rule in ("loan_overdue", "inactive", "closed_not_reapplied"):
        assert sorted(_all_pages(client, rule=rule)) == sorted(
            r.customer_id for r in stored if r._mapping[rule]
        ), rule
    for grade in (1, 2, 3):
        assert sorted(_all_pages(client, grade=str(grade))) == sorted(
            r.customer_id for r in stored if r.grade == grade
        )
    for degree in ("light", "moderate", "severe"):
        assert sorted(_all_pages(client, degree=degree)) == sorted(
            r.customer_id for r in stored if r.degree == degree
        )
    assert sorted(_all_pages(client, branch=BRANCH)) == sorted(store.ours)
    reasons = {r.suggested_reason for r in stored}
    for reason in reasons - {None}:
        assert sorted(_all_pages(client, reason=str(reason))) == sorted(
            r.customer_id for r in stored if r.suggested_reason == reason
        )
    earlier = _stored(store, DATES[1])
    assert sorted(_all_pages(client, as_of=DATES[1].isoformat())) == sorted(
        r.customer_id for r in earlier
    )
    # Bad filters: the page names the field.
    for params, status in (({"rule": "nope"}, 422), ({"grade": "4"}, 422),
                           ({"as_of": "2026-02-30"}, 422), ({"as_of": "2026-06-29"}, 404),
                           ({"page": "0"}, 422)):  # fmt: skip
        r = client.get("/churn", params=params)
        assert r.status_code == status, params
        assert 'id="churn-error"' in r.text and next(iter(params)) in r.text


def test_pool_links_to_the_card_on_the_360_page(as_user: Any, store: ChurnStore) -> None:
    client = as_user("co")
    page = client.get("/churn", params={"rule": "loan_overdue"}).text
    assert f'href="/customers/{store.evidence_customer}#churn-card"' in page
    card = client.get(f"/customers/{store.evidence_customer}")
    assert card.status_code == 200
    section = card.text.split('id="churn-card"')[1]
    assert 'data-rule="loan_overdue"' in section and 'id="churn-evidence"' in section
    assert 'id="churn-episodes"' in section and 'id="churn-reason-form"' in section
    assert card.text.count('id="churn-card"') == 1


# --- the card ---------------------------------------------------------------------------------


def test_card_scope_and_masking(as_user: Any, store: ChurnStore) -> None:
    co = as_user("co")
    assert co.get(f"/churn/customers/{store.outsider}").status_code == 404
    assert co.get("/churn/customers/NOBODY").status_code == 404
    own = co.get(f"/churn/customers/{store.ours[0]}")
    assert own.status_code == 200 and 'id="churn-evidence"' in own.text
    phone = _query(store, select(customers.c.phone).where(
        customers.c.customer_id == store.ours[0]))[0][0]  # fmt: skip
    assert phone and phone not in own.text  # masked
    mkt = as_user("mkt")
    page = mkt.get(f"/churn/customers/{store.evidence_customer}")
    assert page.status_code == 200 and 'id="churn-current"' in page.text
    assert 'id="churn-evidence"' not in page.text and 'id="churn-signals"' not in page.text
    assert 'id="churn-reason-form"' not in page.text  # marketing reads, does not decide
    on_360 = mkt.get(f"/customers/{store.evidence_customer}").text
    assert 'id="churn-card"' in on_360 and 'id="churn-evidence"' not in on_360
    # Roles without churn.view get no card on the 360° page.
    legal = as_user("legal").get(f"/customers/{store.evidence_customer}")
    assert legal.status_code == 200 and 'id="churn-card"' not in legal.text


def _token(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def _reasons(store: ChurnStore, customer: str) -> list[Any]:
    return _query(store, select(churn_reasons).where(churn_reasons.c.customer_id == customer))


def _audits(store: ChurnStore) -> int:
    rows = _query(store, select(func.count()).select_from(audit_log).where(
        audit_log.c.action == "churn.reason"))  # fmt: skip
    return int(rows[0][0])


def test_reason_form(as_user: Any, store: ChurnStore) -> None:
    customer = store.ours[1]
    client = as_user("co")
    url = f"/churn/customers/{customer}/reason"
    token = _token(client, f"/customers/{customer}")
    before = _audits(store)
    form = {"reason": "competition", "note": "moved to another bank for a lower rate",
            "as_of": AS_OF.isoformat()}  # fmt: skip
    # Without the token, or a forged one: refused, nothing recorded.
    assert client.post(url, data=form).status_code == 403
    assert client.post(url, data=form, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    # Refusals shown in the form (htmx: the card again with the message).
    htmx = {"HX-Request": "true", "X-CSRF-Token": token}
    bad = client.post(url, data={**form, "reason": "weather"}, headers=htmx)
    assert bad.status_code == 422 and 'id="churn-reason-error"' in bad.text
    assert "reason" in bad.text and 'id="churn-reason-form"' in bad.text
    empty = client.post(url, data={**form, "note": "  "}, headers=htmx)
    assert empty.status_code == 422 and "note" in empty.text
    not_stored = client.post(url, data={**form, "as_of": "2026-06-29"}, headers=htmx)
    assert not_stored.status_code == 404 and 'id="churn-reason-error"' in not_stored.text
    assert _reasons(store, customer) == [] and _audits(store) == before
    # Saved (htmx): the card again, the reason confirmed; recorded and audited.
    done = client.post(url, data=form, headers=htmx)
    assert done.status_code == 200 and 'id="churn-saved"' in done.text
    assert 'data-reason="competition"' in done.text and "<html" not in done.text
    (saved,) = _reasons(store, customer)
    assert saved.reason == "competition" and saved.confirmed_by == "co"
    assert _audits(store) == before + 1
    # Without htmx: back to the card's page, which says so.
    again = client.post(url, data={**form, "reason": "service", "csrf_token": token})
    assert again.status_code == 303
    assert again.headers["location"] == f"/churn/customers/{customer}?done=1"
    shown = client.get(again.headers["location"]).text
    assert 'id="churn-saved"' in shown and 'data-reason="service"' in shown
    assert _audits(store) == before + 2
    # A refusal without htmx: the card's page with the message in the form.
    refused = client.post(url, data={**form, "note": "", "csrf_token": token})
    assert refused.status_code == 422 and "<html" in refused.text
    assert 'id="churn-reason-error"' in refused.text
    # Out of scope: 404 like a missing customer; roles that may not confirm: 403.
    outside = client.post(f"/churn/customers/{store.outsider}/reason", data=form, headers=htmx)
    assert outside.status_code == 404
    mkt = as_user("mkt")
    mkt_token = _token(mkt, "/churn")
    assert mkt.post(url, data=form, headers={"X-CSRF-Token": mkt_token}).status_code == 403
    assert _audits(store) == before + 2


def test_reason_refused_for_a_customer_not_in_the_pool(as_user: Any, store: ChurnStore) -> None:
    pool = {r.customer_id for r in _stored(store)}
    everyone = [r[0] for r in _query(store, select(customers.c.customer_id))]
    outside_pool = next(c for c in sorted(everyone) if c not in pool)
    client = as_user("risk")
    token = _token(client, "/churn")
    r = client.post(f"/churn/customers/{outside_pool}/reason",
                    data={"reason": "service", "note": "asked"},
                    headers={"HX-Request": "true", "X-CSRF-Token": token})  # fmt: skip
    assert r.status_code == 409 and 'id="churn-reason-error"' in r.text
    assert 'id="churn-not-in-pool"' in r.text


# --- KPIs -------------------------------------------------------------------------------------


def test_kpi_page(as_user: Any, store: ChurnStore) -> None:
    risk = as_user("risk").get("/churn/kpis")
    assert risk.status_code == 200
    holder = re.search(r'<script type="application/json" id="chart-options">(.*?)</script>',
                       risk.text, re.S)  # fmt: skip
    assert holder
    charts = json.loads(holder.group(1))
    assert set(charts) == {"chart-churn-flows", "chart-churn-rates", "chart-churn-evaluation"}
    months = charts["chart-churn-flows"]["xAxis"]["data"]
    assert "2026-06" in months
    size = charts["chart-churn-flows"]["series"][0]["data"][months.index("2026-06")]
    assert size == len(_stored(store))
    assert len(charts["chart-churn-rates"]["series"]) == 6  # five rules and "any"
    assert 'id="churn-evaluation"' in risk.text  # where the measures' evaluation goes
    assert "<script>" not in risk.text  # the CSP: options are data, not script
    # The period picker (a shared partial), its labels translated.
    assert 'action="/churn/kpis"' in risk.text and 'name="from"' in risk.text
    assert 'name="to"' in risk.text and "churn.from" not in risk.text
    co = as_user("co").get("/churn/kpis").text
    holder = re.search(r'id="chart-options">(.*?)</script>', co, re.S)
    assert holder
    flows = json.loads(holder.group(1))["chart-churn-flows"]
    assert flows["series"][0]["data"][flows["xAxis"]["data"].index("2026-06")] == len(store.ours)
    mkt = as_user("mkt").get("/churn/kpis").text
    assert "churn.rate_balance" not in mkt and ("按余额" not in mkt and "(balance)" not in mkt)
    bad = as_user("risk").get("/churn/kpis", params={"from": "2026-07-01", "to": "2026-06-01"})
    assert bad.status_code == 422 and 'id="churn-kpi-error"' in bad.text


# --- measure tasks and offers -----------------------------------------------------------------


def _measure_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr data-measure="(\d+)" data-customer', html)]


def _all_measures(client: TestClient, **params: str) -> list[int]:
    ids, page = [], 1
    while True:
        r = client.get("/churn/measures", params={**params, "page": str(page)})
        assert r.status_code == 200, r.text
        ids += _measure_ids(r.text)
        if 'id="measure-next"' not in r.text:
            return ids
        page += 1


def _measures(store: ChurnStore) -> list[Any]:
    return _query(
        store,
        select(churn_measures, customers.c.branch_id.label("home"), customers.c.phone).join(
            customers, customers.c.customer_id == churn_measures.c.customer_id
        ),
    )


def _measure_row(store: ChurnStore, measure_id: int) -> Any:
    (row,) = _query(store, select(churn_measures).where(
        churn_measures.c.measure_id == measure_id))  # fmt: skip
    return row


def _count(store: ChurnStore, action: str, target: int) -> int:
    rows = _query(store, select(func.count()).select_from(audit_log).where(
        audit_log.c.action == action, audit_log.c.target_id == str(target)))  # fmt: skip
    return int(rows[0][0])


def test_measures_page_per_role_scope_and_filters(as_user: Any, store: ChurnStore) -> None:
    stored = _measures(store)
    for name in ("risk", "boss", "mkt", "aud"):
        assert sorted(_all_measures(as_user(name))) == sorted(r.measure_id for r in stored), name
    mine = sorted(r.measure_id for r in stored if r.home == BRANCH)
    assert store.followup in mine and store.callback in mine
    for name in ("co", "cs"):
        assert sorted(_all_measures(as_user(name))) == mine, name
    for name in ("coll", "sup", "legal"):
        client = as_user(name)
        assert client.get("/churn/measures").status_code == 403, name
        assert 'href="/churn/measures"' not in client.get("/").text
    risk = as_user("risk")
    assert 'href="/churn/measures"' in risk.get("/churn/measures").text  # the nav entry
    for params, keep in (
        ({"status": "refused"}, lambda r: r.status == "refused"),
        ({"kind": "winback_callback"}, lambda r: r.kind == "winback_callback"),
        ({"grade": "1"}, lambda r: r.grade == 1),
        ({"branch": OTHER_BRANCH}, lambda r: r.home == OTHER_BRANCH),
    ):
        assert sorted(_all_measures(risk, **params)) == sorted(
            r.measure_id for r in stored if keep(r)), params  # fmt: skip
    refused = risk.get("/churn/measures", params={"status": "refused"}).text
    assert 'data-rule="marketing_consent"' in refused  # the rule named on the row
    for params in ({"status": "lost"}, {"kind": "visit"}, {"grade": "4"}, {"page": "0"},
                   {"branch": "x" * 33}):  # fmt: skip
        r = risk.get("/churn/measures", params=params)
        assert r.status_code == 422 and 'id="measure-error"' in r.text, params
        assert next(iter(params)) in r.text


def test_measures_page_masks_and_offers_forms_per_role(as_user: Any, store: ChurnStore) -> None:
    row = next(r for r in _measures(store) if r.measure_id == store.callback)
    co = as_user("co").get("/churn/measures").text
    assert row.phone and row.phone not in co  # masked: first 3 and last 4 digits only
    assert f"{row.phone[:3]}****{row.phone[-4:]}" in co
    forms = re.findall(r'action="/churn/measures/(\d+)/complete"', co)
    assert str(store.followup) in forms and str(store.callback) not in forms  # co: follow-ups
    assert 'class="inline offer-form"' in co
    cs = as_user("cs").get("/churn/measures").text
    forms = re.findall(r'action="/churn/measures/(\d+)/complete"', cs)
    assert str(store.callback) in forms and str(store.followup) not in forms  # cs: callbacks
    assert "offer-form" not in cs
    for name in ("boss", "aud"):  # management reads only
        page = as_user(name).get("/churn/measures").text
        assert "outcome-form" not in page and "offer-form" not in page, name


def test_measure_forms(as_user: Any, store: ChurnStore) -> None:
    co = as_user("co")
    token = _token(co, "/churn/measures")
    url = f"/churn/measures/{store.followup}/complete"
    form = {"outcome": "interested", "note": "will visit the branch",
            "back": "status=open&kind=winback_followup&page=1"}  # fmt: skip
    # CSRF: without the token, or a forged one, nothing happens.
    assert co.post(url, data=form).status_code == 403
    assert co.post(url, data={**form, "csrf_token": "0" * 64}).status_code == 403
    assert _measure_row(store, store.followup).status == "open"
    # Bad input: a page saying what is wrong, never a 500.
    bad = co.post(url, data={**form, "outcome": "delighted", "csrf_token": token})
    assert bad.status_code == 422 and 'id="measure-error"' in bad.text and "outcome" in bad.text
    long = co.post(url, data={**form, "note": "x" * 2001, "csrf_token": token})
    assert long.status_code == 422 and "note" in long.text
    for path in ("/churn/measures/abc/complete", "/churn/measures/99999999999/complete",
                 "/churn/measures/2000000000/complete",
                 f"/churn/measures/{store.outside_followup}/complete"):  # fmt: skip
        assert co.post(path, data={**form, "csrf_token": token}).status_code == 404, path
    # A role that does not work this kind of task: 403 (customer service, a follow-up).
    cs = as_user("cs")
    cs_token = _token(cs, "/churn/measures")
    assert cs.post(url, data={**form, "csrf_token": cs_token}).status_code == 403
    assert _count(store, "churn.measure.done", store.followup) == 0
    # Recorded: back to the list with its filters, the task done and audited.
    done = co.post(url, data={**form, "csrf_token": token})
    assert done.status_code == 303
    assert done.headers["location"] == (
        "/churn/measures?status=open&kind=winback_followup&page=1&done=1"
    )
    assert 'id="measure-saved"' in co.get(done.headers["location"]).text
    row = _measure_row(store, store.followup)
    assert (row.status, row.outcome, row.done_by) == ("done", "interested", "co")
    assert _count(store, "churn.measure.done", store.followup) == 1
    again = co.post(url, data={**form, "csrf_token": token})
    assert again.status_code == 409 and 'id="measure-error"' in again.text


def test_refused_contact_names_the_rule(as_user: Any, store: ChurnStore) -> None:
    from datetime import UTC, datetime

    from postloan.access.consent import record_consent

    row = _measure_row(store, store.callback)
    engine = engine_for(store.url)
    with engine.begin() as conn:
        record_consent(conn, row.customer_id, "marketing", False, datetime.now(UTC), "test")
    engine.dispose()
    cs = as_user("cs")
    token = _token(cs, "/churn/measures")
    r = cs.post(f"/churn/measures/{store.callback}/complete",
                data={"outcome": "reached", "csrf_token": token})  # fmt: skip
    assert r.status_code == 409, r.text
    error = r.text.split('id="measure-error"')[1].split("</div>")[0]
    assert 'data-rule="marketing_consent"' in error and "marketing_consent" in error
    assert _measure_row(store, store.callback).status == "open"
    assert _count(store, "churn.measure.refused", store.callback) == 1


def test_offer_forms(as_user: Any, store: ChurnStore) -> None:
    (offer,) = _query(
        store,
        select(churn_offers.c.offer_id)
        .where(churn_offers.c.measure_id == store.followup)
        .order_by(churn_offers.c.offer_id)
        .limit(1),
    )
    url = f"/churn/offers/{offer.offer_id}/decide"  # fmt: skip
    co = as_user("co")
    token = _token(co, "/churn/measures")
    assert co.post(url, data={"decision": "accept", "note": "ok"}).status_code == 403  # CSRF
    for data, status in (({"decision": "accept", "note": " "}, 422),
                         ({"decision": "maybe", "note": "ok"}, 422),
                         ({"decision": "accept", "note": "y" * 2001}, 422)):  # fmt: skip
        r = co.post(url, data={**data, "csrf_token": token})
        assert r.status_code == status and 'id="measure-error"' in r.text, data
    (outside,) = _query(store, select(churn_offers.c.offer_id).where(
        churn_offers.c.measure_id == store.outside_followup).limit(1))  # fmt: skip
    for path in (f"/churn/offers/{outside.offer_id}/decide", "/churn/offers/2000000000/decide",
                 "/churn/offers/x/decide"):  # fmt: skip
        r = co.post(path, data={"decision": "accept", "note": "ok", "csrf_token": token})
        assert r.status_code == 404, path
    mkt = as_user("mkt")  # reads offers, does not decide them
    mkt_token = _token(mkt, "/churn/measures")
    r = mkt.post(url, data={"decision": "accept", "note": "ok", "csrf_token": mkt_token})
    assert r.status_code == 403
    assert _count(store, "churn.offer.accept", offer.offer_id) == 0
    done = co.post(url, data={"decision": "decline", "note": "rate already the lowest",
                              "csrf_token": token})  # fmt: skip
    assert done.status_code == 303
    (decided,) = _query(store, select(churn_offers).where(
        churn_offers.c.offer_id == offer.offer_id))  # fmt: skip
    assert (decided.status, decided.decided_by, decided.note) == (
        "declined", "co", "rate already the lowest")  # fmt: skip
    assert _count(store, "churn.offer.decline", offer.offer_id) == 1
    shown = co.get("/churn/measures").text
    assert f'data-offer="{offer.offer_id}" data-measure="{store.followup}" data-status="declined"' \
        in shown  # fmt: skip


def test_kpi_page_evaluation(as_user: Any, store: ChurnStore) -> None:
    risk = as_user("risk")
    page = risk.get("/churn/kpis").text
    api = risk.get("/api/churn/evaluation", params={"as_of": AS_OF.isoformat()}).json()
    expected = {i["kind"]: i for i in api["items"]}
    rows = re.findall(r'<tr data-kind="(\w+)" data-flag="(\w+)">\s*<td>[^<]*</td>\s*'
                      r'<td>[^<]*</td>\s*<td class="num">(\d+) / (\d+)</td>', page)  # fmt: skip
    assert {k for k, *_ in rows} == set(expected)
    for kind, flag, treated, holdout in rows:
        assert flag == expected[kind]["flag"]
        assert (int(treated), int(holdout)) == (expected[kind]["treated_n"],
                                                expected[kind]["holdout_n"])  # fmt: skip
    holder = re.search(r'id="chart-options">(.*?)</script>', page, re.S)
    assert holder
    chart = json.loads(holder.group(1))["chart-churn-evaluation"]
    assert [s["type"] for s in chart["series"]] == ["bar", "bar", "candlestick"]
    assert len(chart["xAxis"]["data"]) == 3
    handover = expected["recovery_handover"]["effects"]["repaid"]
    i = [k for k, *_ in rows].index("recovery_handover")
    assert chart["series"][0]["data"][i] == round(100 * handover["treated_rate"], 2)
    co = as_user("co").get("/churn/kpis").text  # scoped: the branch's episodes only
    mine = re.findall(r'<td class="num">(\d+) / (\d+)</td>', co.split('id="churn-evaluation"')[1])
    assert sum(int(a) + int(b) for a, b in mine) < sum(
        i["treated_n"] + i["holdout_n"] for i in api["items"])  # fmt: skip
