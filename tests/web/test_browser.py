"""The workbench in a real browser: Debian's Chromium driven by Playwright (no downloads).

On a developer's machine without /usr/bin/chromium these are skipped, with the reason. CI
(`.ci/run`, which installs Chromium) sets POSTLOAN_REQUIRE_BROWSER=1: there a missing browser
fails every test instead of hiding them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.store.db import engine_for
from postloan.web import vendor_missing
from tests.web.conftest import PASSWORD, Store, make_app
from tests.web.live import CHROMIUM, chromium, login, serving, workbench_page

SCREENSHOT = Path("/tmp/postloan-dashboard.png")

REQUIRED = os.environ.get("POSTLOAN_REQUIRE_BROWSER", "") not in ("", "0")
pytestmark = [
    pytest.mark.skipif(
        not REQUIRED and not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed"
    ),
    pytest.mark.skipif(
        bool(vendor_missing()), reason="run scripts/vendor_web_assets.py (htmx, echarts missing)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(web_store: Store) -> Iterator[str]:
    with serving(make_app(web_store.url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    with workbench_page(browser, server, width=1360) as pg:
        yield pg


def _login(page: object, username: str) -> None:
    login(page, username, PASSWORD)


def test_dashboard_charts_render_and_screenshot(page: object) -> None:
    _login(page, "boss")
    for chart_id in ("chart-bucket", "chart-class", "chart-dpd30", "chart-branch"):
        page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg")  # type: ignore[attr-defined]
    options = json.loads(page.text_content("#chart-options"))  # type: ignore[attr-defined]
    assert len(options["chart-bucket"]["series"][0]["data"]) >= 2
    assert options["chart-bucket"]["series"][1]["yAxisIndex"] == 1  # overdue: its own scale
    page.screenshot(path=str(SCREENSHOT), full_page=True)  # type: ignore[attr-defined]
    assert SCREENSHOT.stat().st_size > 10_000


def test_language_switch(page: object) -> None:
    _login(page, "boss")
    page.goto("/lang/zh-CN")  # type: ignore[attr-defined]
    page.wait_for_selector("figcaption:has-text('逾期分档')")  # type: ignore[attr-defined]
    assert "五级分类" in page.text_content("main")  # type: ignore[attr-defined]
    page.click("#lang-switch")  # type: ignore[attr-defined]
    page.wait_for_selector("figcaption:has-text('Balance by DPD bucket')")  # type: ignore[attr-defined]
    text = page.text_content("main")  # type: ignore[attr-defined]
    assert "Five-category classification" in text and "五级分类" not in text
    assert page.get_attribute("html", "lang") == "en"  # type: ignore[attr-defined]


def test_two_roles_see_different_data(page: object, web_store: Store) -> None:
    _login(page, "coll")
    page.goto("/customers")  # type: ignore[attr-defined]
    links = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#customer-results a", "els => els.map(e => e.textContent)"
    )
    assert set(links) == set(web_store.assigned)
    assert page.query_selector("#chart-bucket") is None  # type: ignore[attr-defined]
    page.goto("/")  # type: ignore[attr-defined]
    assert page.query_selector("#chart-bucket") is None  # type: ignore[attr-defined]

    page.click("button:has-text('退出')")  # type: ignore[attr-defined]
    page.wait_for_url("**/login")  # type: ignore[attr-defined]
    _login(page, "boss")
    page.goto("/customers")  # type: ignore[attr-defined]
    page.fill("#q", web_store.other)  # type: ignore[attr-defined]
    # htmx replaces the results in place as one types
    page.wait_for_selector(f"#customer-results a:has-text('{web_store.other}')")  # type: ignore[attr-defined]
    assert page.url.endswith(f"q={web_store.other}")  # type: ignore[attr-defined]


def test_open_customer_and_reveal_id_number(page: object, web_store: Store) -> None:
    _login(page, "legal")
    customer = web_store.assigned[1]
    page.goto("/customers")  # type: ignore[attr-defined]
    page.click(f"a:has-text('{customer}')")  # type: ignore[attr-defined]
    page.wait_for_url(f"**/customers/{customer}")  # type: ignore[attr-defined]
    masked = page.text_content("#field-id_number .masked")  # type: ignore[attr-defined]
    assert masked and "*" in masked
    page.click("#field-id_number summary")  # type: ignore[attr-defined]
    page.fill("#field-id_number input[name=reason]", "法院立案需要核对身份")  # type: ignore[attr-defined]
    page.click("#field-id_number button[type=submit]")  # type: ignore[attr-defined]
    revealed = page.wait_for_selector("#field-id_number .revealed")  # type: ignore[attr-defined]
    full = revealed.text_content()
    assert full and "*" not in full and len(full) == len(masked)
    assert full[:6] == masked[:6] and full[-4:] == masked[-4:]
    engine = engine_for(web_store.url)
    with engine.connect() as conn:
        entries = conn.execute(
            select(audit_log.c.actor, audit_log.c.target_id, audit_log.c.detail).where(
                audit_log.c.action == "customer.reveal"
            )
        ).all()
    engine.dispose()
    assert any(
        actor == "legal"
        and target == customer
        and "法院立案需要核对身份" in json.loads(detail)["reason"]
        for actor, target, detail in entries
    )


def test_customer_ledger_sections_load_when_opened(page: object, web_store: Store) -> None:
    _login(page, "boss")
    page.goto(f"/customers/{web_store.assigned[0]}")  # type: ignore[attr-defined]
    assert page.query_selector("#ledger-payments table") is None  # type: ignore[attr-defined]
    page.click("#ledger-payments summary")  # type: ignore[attr-defined]
    table = page.wait_for_selector("#ledger-payments table#payments")  # type: ignore[attr-defined]
    assert len(table.query_selector_all("tbody tr")) >= 1


def test_runs_page(page: object) -> None:
    _login(page, "boss")
    page.goto("/runs")  # type: ignore[attr-defined]
    page.wait_for_selector("#run-1 .badge.succeeded")  # type: ignore[attr-defined]
