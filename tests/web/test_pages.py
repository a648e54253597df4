"""Workbench pages over HTTP (TestClient): login, CSRF refusal, scope, masking, reveal, runs."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.store.db import engine_for
from tests.web.conftest import PASSWORD, Store

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    assert page.status_code == 200
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )


def test_pages_need_login(fresh_client: TestClient) -> None:
    for path in ("/", "/customers", "/runs", "/customers/CU00000001"):
        response = fresh_client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_login_without_csrf_token_is_refused(fresh_client: TestClient) -> None:
    fresh_client.get("/login")  # has the pre-session cookie, but sends no token
    response = fresh_client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 403
    assert "postloan_session" not in response.cookies


def test_login_with_forged_csrf_token_is_refused(fresh_client: TestClient) -> None:
    fresh_client.get("/login")
    response = fresh_client.post(
        "/login", data={"username": "boss", "password": PASSWORD, "csrf_token": "0" * 64}
    )
    assert response.status_code == 403


def test_login_failures(fresh_client: TestClient) -> None:
    wrong = login(fresh_client, "boss", "not the password")
    assert wrong.status_code == 401
    assert "postloan_session" not in wrong.cookies
    unknown = login(fresh_client, "nobody", "whatever")
    assert unknown.status_code == 401
    assert fresh_client.get("/").status_code == 303  # still not logged in


def test_login_sets_session_and_logout_revokes_it(fresh_client: TestClient) -> None:
    response = login(fresh_client, "boss")
    assert response.status_code == 303 and response.headers["location"] == "/"
    token = response.cookies.get("postloan_session")
    assert token
    home = fresh_client.get("/")
    assert home.status_code == 200
    assert 'id="chart-options"' in home.text
    # the POST forms of logged-in pages carry a token bound to the session
    assert fresh_client.post("/logout").status_code == 403
    out = fresh_client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303
    fresh_client.cookies.set("postloan_session", token)  # the old cookie is dead
    assert fresh_client.get("/").status_code == 303


def test_next_is_kept_but_never_offsite(fresh_client: TestClient) -> None:
    page = fresh_client.get("/login")
    ok = fresh_client.post(
        "/login",
        data={
            "username": "boss",
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert ok.headers["location"] == "/"


def test_collector_search_is_limited_to_assigned(
    fresh_client: TestClient, web_store: Store
) -> None:
    login(fresh_client, "coll")
    page = fresh_client.get("/customers")
    shown = set(re.findall(r'href="/customers/(CU\d+)"', page.text))
    assert shown == set(web_store.assigned)
    assert fresh_client.get(f"/customers/{web_store.other}").status_code == 404
    assert fresh_client.get(f"/customers/{web_store.assigned[0]}").status_code == 200
    assert fresh_client.get("/runs").status_code == 403


def test_htmx_search_returns_a_partial(fresh_client: TestClient, web_store: Store) -> None:
    login(fresh_client, "boss")
    response = fresh_client.get(
        f"/customers?q={web_store.other}", headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert web_store.other in response.text


def test_customer_page_is_masked_and_reveal_needs_csrf_and_reason(
    fresh_client: TestClient, web_store: Store
) -> None:
    login(fresh_client, "legal")
    customer = web_store.assigned[0]
    page = fresh_client.get(f"/customers/{customer}")
    assert page.status_code == 200
    masked = re.search(r'<span class="mono masked">([^<]+)</span>', page.text)
    assert masked and "*" in masked.group(1)
    token = csrf_of(page.text)
    url = f"/customers/{customer}/reveal"
    no_token = fresh_client.post(url, data={"field": "id_number", "reason": "court filing"})
    assert no_token.status_code == 403
    short = fresh_client.post(url, data={"field": "id_number", "reason": "x", "csrf_token": token})
    assert short.status_code == 200 and 'class="revealed' not in short.text
    shown = fresh_client.post(
        url, data={"field": "id_number", "reason": "court filing 2026", "csrf_token": token}
    )
    assert shown.status_code == 200
    value = re.search(r'class="mono revealed"[^>]*>([^<]+)<', shown.text)
    assert value and "*" not in value.group(1)


def test_manager_may_not_reveal(fresh_client: TestClient, web_store: Store) -> None:
    login(fresh_client, "boss")
    customer = web_store.assigned[0]
    page = fresh_client.get(f"/customers/{customer}")
    assert "/reveal" not in page.text
    refused = fresh_client.post(
        f"/customers/{customer}/reveal",
        data={"field": "phone", "reason": "just curious", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403


def test_runs_page_lists_runs(fresh_client: TestClient) -> None:
    login(fresh_client, "boss")
    page = fresh_client.get("/runs")
    assert page.status_code == 200
    assert 'id="run-1"' in page.text
    row = fresh_client.get("/runs/1/row")
    assert row.status_code == 200 and "hx-trigger" not in row.text  # finished: no polling


def test_language_switch_sets_cookie(fresh_client: TestClient) -> None:
    login(fresh_client, "boss")
    fresh_client.get("/lang/en")
    assert "Balance by DPD bucket" in fresh_client.get("/").text
    fresh_client.get("/lang/zh-CN")
    assert "逾期分档" in fresh_client.get("/").text


def test_audit_has_no_reveal_without_reason(web_store: Store) -> None:
    engine = engine_for(web_store.url)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.detail)).all()
    engine.dispose()
    for action, detail in rows:
        if action == "customer.reveal":
            assert '"reason"' in detail


def test_customer_page_shows_the_ledger_like_the_api(
    fresh_client: TestClient, web_store: Store
) -> None:
    """Schedules, statements, payments and status history on the page are the API's 360° view
    (one ledger view behind both), in the chosen language."""
    login(fresh_client, "boss")
    token = fresh_client.post(
        "/api/auth/login", json={"username": "boss", "password": PASSWORD}
    ).json()["token"]
    seen = set()
    for customer in web_store.assigned:
        api = fresh_client.get(
            f"/api/customers/{customer}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        page = fresh_client.get(f"/customers/{customer}").text
        # The page states each long table's size (without computing it) before it is opened.
        for section, rows in (("schedules", len(api["schedules"])),
                              ("statements", len(api["statements"])),
                              ("payments", api["payments_total"])):  # fmt: skip
            summary = re.search(
                rf'id="ledger-{section}".*?<small>\((\d+)\)</small>', page, flags=re.S
            )
            assert (int(summary.group(1)) if summary else 0) == rows, (customer, section)
        for section in ("schedules", "statements", "payments"):  # the sections htmx loads
            opened = fresh_client.get(f"/customers/{customer}/ledger/{section}")
            assert opened.status_code == 200 and "<html" not in opened.text
            page += opened.text
        for inst in api["schedules"]:
            table = page.split(f'id="schedule-{inst["account_id"]}"')[1].split("</table>")[0]
            row = (
                f'<td class="num">{inst["period"]}</td><td>{inst["due_date"]}</td>'
                f'<td class="num">{inst["principal_due"]}</td>'
                f'<td class="num">{inst["interest_due"]}</td>'
                f'<td class="num">{inst["covered_principal"]}</td>'
                f'<td class="num">{inst["covered_interest"]}</td>'
            )
            assert row in table, (customer, inst)
            seen.add("schedule")
        for st in api["statements"]:
            assert f'id="statements-{st["account_id"]}"' in page
            assert f'<td class="num">{st["minimum_covered"]}</td>' in page
            seen.add("statement")
        for p in api["payments"][:50]:
            assert f'<td>{p["value_date"]}</td><td class="mono">{p["account_id"]}</td>' in page
            seen.add("payment")
        if api["status_history"]:
            assert 'id="status-history"' in page and api["as_of"] in page
            assert _history_grid(page) == _expected_grid(api, "zh-CN"), customer
            seen.add("history")
    assert {"schedule", "payment", "history"} <= seen
    fresh_client.get("/lang/zh-CN")
    zh = fresh_client.get(f"/customers/{web_store.assigned[0]}").text
    assert "还款计划" in zh or "信用卡账单" in zh


def test_ledger_sections_follow_scope_and_permission(
    fresh_client: TestClient, web_store: Store
) -> None:
    login(fresh_client, "coll")
    mine, other = web_store.assigned[0], web_store.other
    assert fresh_client.get(f"/customers/{mine}/ledger/payments").status_code == 200
    assert fresh_client.get(f"/customers/{other}/ledger/payments").status_code == 404
    assert fresh_client.get(f"/customers/{mine}/ledger/secrets").status_code == 404
    page = fresh_client.get(f"/customers/{mine}").text
    assert f'hx-get="/customers/{mine}/ledger/schedules"' in page or "ledger-payments" in page


def test_status_history_grid_matches_the_api(fresh_client: TestClient, web_store: Store) -> None:
    """The page's status-history grid (prepared in Python) is the API's status history: DPD
    and bucket per account and date, overdue cells marked — in both languages."""
    from postloan.store.schema import account_status

    engine = engine_for(web_store.url)
    with engine.connect() as conn:
        overdue = conn.execute(
            select(account_status.c.customer_id).where(account_status.c.dpd > 0)
            .group_by(account_status.c.customer_id).order_by(account_status.c.customer_id)
            .limit(6)
        ).scalars().all()  # fmt: skip
    engine.dispose()
    assert overdue
    login(fresh_client, "boss")
    token = fresh_client.post(
        "/api/auth/login", json={"username": "boss", "password": PASSWORD}
    ).json()["token"]
    marked = 0
    for lang in ("zh-CN", "en"):
        fresh_client.get(f"/lang/{lang}")
        for customer in overdue:
            api = fresh_client.get(
                f"/api/customers/{customer}", headers={"Authorization": f"Bearer {token}"}
            ).json()
            grid = _history_grid(fresh_client.get(f"/customers/{customer}").text)
            assert grid == _expected_grid(api, lang), (lang, customer)
            marked += sum(css == "overdue" for _, cells in grid for css, _ in cells)
    assert marked > 0


def _history_grid(page: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The status-history table of a page: (date, [(css class, text) per account])."""
    table = page.split('id="status-history"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [
        (day, re.findall(r'<td class="([^"]*)">([^<]*)</td>', cells))
        for day, cells in re.findall(r"<tr><td>([0-9-]+)</td>(.*?)</tr>", body)
    ]


def _expected_grid(api: dict[str, Any], lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The same grid built plainly from the API's view: newest 14 dates, accounts in order."""
    from postloan.web.i18n import bucket_label

    by_key = {(s["as_of"], s["account_id"]): s for s in api["status_history"]}
    days = sorted({s["as_of"] for s in api["status_history"]}, reverse=True)[:14]
    grid = []
    for day in days:
        cells = []
        for account in api["accounts"]:
            s = by_key.get((day, account["account_id"]))
            if s is None:
                cells.append(("", "-"))
            else:
                text = f"{s['dpd']} · {bucket_label(lang, s['bucket'])}"
                cells.append(("overdue" if s["dpd"] > 0 else "", text))
        grid.append((day, cells))
    return grid
