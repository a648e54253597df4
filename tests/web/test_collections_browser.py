"""The collections workbench in a real browser (Debian's Chromium via Playwright, as
`test_browser.py`): a collector works a case end to end in Chinese — queue, case page, a contact
refused for quiet hours (the rule named), a compliant contact with a promise that appears on
the timeline, an agreement proposed — and a collection supervisor approves it in English; the
case page then shows it approved.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postloan.collections.agreement_tables import agreements
from postloan.store.db import engine_for, ready
from tests.web.conftest import PASSWORD
from tests.web.live import chromium, login, serving, workbench_page
from tests.web.test_browser import pytestmark, sync_api
from tests.web.test_collections_pages import AS_OF, BEIJING, CollStore, build_store, make_app

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1
SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CollStore:
    folder = tmp_path_factory.mktemp("coll-browser")
    return build_store(ready(f"sqlite:///{folder / 'store.sqlite'}"), folder / "files")


@pytest.fixture(scope="module")
def server(store: CollStore) -> Iterator[str]:
    with serving(make_app(store.url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    with workbench_page(browser, server) as pg:
        yield pg


def _login(page: Any, username: str) -> None:
    login(page, username, PASSWORD)


def test_collector_works_a_case_and_a_supervisor_approves(page: Any, store: CollStore) -> None:
    customer = store.loan_customers[0]
    today = datetime.now(BEIJING).date()
    due = today + timedelta(days=7)

    # the collector's queue, in Chinese, leads to the case
    _login(page, "coll1")
    page.click("nav a[href='/work']")
    page.wait_for_selector("#queue")
    assert "我的任务" in page.text_content("h1")
    assert "尊敬的客户" in page.text_content("#queue")  # the reminder text to send
    page.screenshot(path=str(SCREENSHOTS / "postloan-queue.png"), full_page=True)
    page.click(f"#queue a:has-text('{customer}')")
    page.wait_for_url(f"**/cases/{customer}")
    assert "催收轨迹" in page.text_content("main")

    # 23:10 Beijing time: the check names the quiet-hours rule, and saving is refused
    form = "#contact"
    page.fill(f"{form} input[name=at]", f"{today}T23:10")
    page.select_option(f"{form} select[name=channel]", "sms")  # a change runs the check
    rule = page.wait_for_selector("#contact-check [data-rule=quiet_hours]")
    assert "禁止催收时段" in rule.text_content()
    page.select_option(f"{form} select[name=channel]", "letter")  # letters have no hours
    page.wait_for_selector("#contact-check [data-allowed=true]")
    page.select_option(f"{form} select[name=channel]", "phone")
    page.click("#contact-check-button")
    page.wait_for_selector("#contact-check [data-rule=quiet_hours]")
    page.click("#contact-save")
    refusal = page.wait_for_selector("#contact-refusal [data-rule=quiet_hours]")
    assert "禁止催收时段" in refusal.text_content()
    assert page.query_selector("#timeline [data-kind=contact]") is None

    # 10:00 with a promise to pay: allowed, saved, on the timeline
    page.fill(f"{form} input[name=at]", f"{today}T10:00")
    page.select_option(f"{form} select[name=outcome]", "promise_to_pay")
    page.fill(f"{form} input[name=promise_amount]", "800.00")
    page.fill(f"{form} input[name=promise_date]", due.isoformat())
    page.fill(f"{form} textarea[name=response]", "客户承诺下周还款")
    page.click("#contact-check-button")
    page.wait_for_selector("#contact-check [data-allowed=true]")
    page.click("#contact-save")
    page.wait_for_url("**?done=contact")
    contact = page.text_content("#timeline [data-kind=contact]")
    assert f"{today} 10:00" in contact and "800.00" in contact and "客户承诺下周还款" in contact
    assert page.query_selector("#promises tr[data-status=pending]") is not None

    # an agreement proposed: waiting, and the proposer is offered no approval
    page.fill("#propose-form input[name=instalments]", "6")
    page.fill("#propose-form input[name=first_due_date]", (AS_OF + timedelta(days=20)).isoformat())
    page.fill("#propose-form textarea[name=reason]", "收入下降，协商分期")
    page.click("#propose-form button[type=submit]")
    page.wait_for_url("**?done=proposed")
    page.wait_for_selector("#agreements tr[data-status=proposed]")
    assert page.query_selector("#agreements button.approve") is None
    page.screenshot(path=str(SCREENSHOTS / "postloan-case-collector.png"), full_page=True)
    page.click("button:has-text('退出')")
    page.wait_for_url("**/login")

    # the supervisor, in English, approves it
    _login(page, "sup")
    page.click("#lang-switch")
    page.goto(f"/cases/{customer}")
    assert "Timeline" in page.text_content("main")
    page.fill("#agreements form.decide input[name=note]", "income proof checked")
    page.click("#agreements button.approve")
    page.wait_for_url("**?done=approve")
    row = page.wait_for_selector("#agreements tr[data-status=approved]")
    assert "approved" in row.text_content() and "sup" in row.text_content()
    assert "Agreement approved." in page.text_content("#done")
    page.screenshot(path=str(SCREENSHOTS / "postloan-case-supervisor.png"), full_page=True)

    engine = engine_for(store.url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(agreements.c.status, agreements.c.proposed_by, agreements.c.decided_by).where(
                agreements.c.customer_id == customer
            )
        ).one()
    engine.dispose()
    assert tuple(stored) == ("approved", "coll1", "sup")


def test_kpi_charts_and_allocation_render(page: Any) -> None:
    _login(page, "sup")
    page.goto("/kpis")
    for chart_id in ("chart-kpi-rates", "chart-kpi-cure", "chart-kpi-strategies"):
        page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg")
    page.screenshot(path=str(SCREENSHOTS / "postloan-kpis.png"), full_page=True)
    page.goto("/allocation")
    page.wait_for_selector("#alloc-cases")
    page.screenshot(path=str(SCREENSHOTS / "postloan-allocation.png"), full_page=True)
    page.click("button:has-text('退出')")
    page.wait_for_url("**/login")
    _login(page, "legal")
    page.goto("/legal")
    page.wait_for_selector("#legal-proposals")
    page.screenshot(path=str(SCREENSHOTS / "postloan-legal.png"), full_page=True)
