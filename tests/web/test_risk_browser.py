"""Risk's workbench in a real browser (Debian's Chromium via Playwright, as `test_browser.py`):
a credit officer, in Chinese, opens the watch list, sees their branch's customers and the
signal queue, records a task's outcome, and opens a customer's risk card on the 360° page,
whose score history chart is drawn (options as data under the CSP); in English the card reads
in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postloan.store.db import ready
from tests.web.conftest import PASSWORD
from tests.web.live import chromium, login, serving, workbench_page
from tests.web.test_browser import pytestmark, sync_api
from tests.web.test_risk_pages import RiskStore, build_store

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1
SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RiskStore:
    folder = tmp_path_factory.mktemp("risk-browser")
    return build_store(ready(f"sqlite:///{folder / 'store.sqlite'}"), folder / "files")


@pytest.fixture(scope="module")
def server(store: RiskStore) -> Iterator[str]:
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(store.url)
    mount(app)
    with serving(app) as url:
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


def test_watch_list_queue_outcome_and_risk_card(page: Any, store: RiskStore) -> None:
    _login(page, "co")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/risk/watch']")
    page.wait_for_selector("#risk-watch")
    assert "预警与关注名单" in page.text_content("h1")
    shown = [
        r.get_attribute("data-customer") for r in page.query_selector_all("#risk-watch tbody tr")
    ]
    assert sorted(shown) == sorted(store.ours)
    row = page.query_selector("#risk-tasks tbody tr")
    assert row is not None
    task = row.get_attribute("data-task")
    page.select_option(f"tr[data-task='{task}'] select[name=outcome]", "risk_confirmed")
    page.fill(f"tr[data-task='{task}'] input[name=note]", "电话核实:客户失业")
    page.click(f"tr[data-task='{task}'] button[type=submit]")
    page.wait_for_selector("#risk-saved")
    assert page.query_selector(f"tr[data-task='{task}']") is None  # done: off the queue
    page.screenshot(path=str(SCREENSHOTS / "postloan-risk-watch.png"), full_page=True)

    customer = store.ours[0]
    page.goto(f"/customers/{customer}")
    page.wait_for_selector("#risk-card")
    assert "风险评估" in page.text_content("#risk-card h2")
    assert "信用状况" in page.text_content("#risk-current")
    page.wait_for_selector("#risk-history-chart canvas, #risk-history-chart svg")
    page.screenshot(path=str(SCREENSHOTS / "postloan-risk-card.png"), full_page=True)

    page.click("#lang-switch")
    page.goto(f"/customers/{customer}")
    assert "Risk assessment" in page.text_content("#risk-card h2")
    assert "Credit status" in page.text_content("#risk-current")
