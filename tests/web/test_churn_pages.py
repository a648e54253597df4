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
from postloan.churn.tables import churn_identified, churn_reasons
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
        conn.execute(
            update(customers).where(customers.c.customer_id.in_(ours)).values(branch_id=BRANCH)
        )
        conn.execute(
            update(customers)
            .where(customers.c.customer_id == outsider)
            .values(branch_id=OTHER_BRANCH)
        )
        for name, role in ROLES.items():
            create_user(conn, username=name, password=PASSWORD, role=role,
                        branch_id=BRANCHES.get(name), display_name=name)  # fmt: skip
    engine.dispose()
    return ChurnStore(url=url, ours=ours, outsider=outsider, evidence_customer=overdue[0])


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
    assert set(charts) == {"chart-churn-flows", "chart-churn-rates"}
    months = charts["chart-churn-flows"]["xAxis"]["data"]
    assert "2026-06" in months
    size = charts["chart-churn-flows"]["series"][0]["data"][months.index("2026-06")]
    assert size == len(_stored(store))
    assert len(charts["chart-churn-rates"]["series"]) == 6  # five rules and "any"
    assert 'id="churn-evaluation"' in risk.text  # where the measures' evaluation goes
    assert "<script>" not in risk.text  # the CSP: options are data, not script
    co = as_user("co").get("/churn/kpis").text
    holder = re.search(r'id="chart-options">(.*?)</script>', co, re.S)
    assert holder
    flows = json.loads(holder.group(1))["chart-churn-flows"]
    assert flows["series"][0]["data"][flows["xAxis"]["data"].index("2026-06")] == len(store.ours)
    mkt = as_user("mkt").get("/churn/kpis").text
    assert "churn.rate_balance" not in mkt and ("按余额" not in mkt and "(balance)" not in mkt)
    bad = as_user("risk").get("/churn/kpis", params={"from": "2026-07-01", "to": "2026-06-01"})
    assert bad.status_code == 422 and 'id="churn-kpi-error"' in bad.text
