"""A complaint through its clock in a real browser (Debian's Chromium via Playwright, as
`test_browser.py`): customer service takes a complaint in from the complaints page, opens it,
is refused as the handler when named in it (回避), assigns themself and declares it complex; a
manager approves the extension with the notice date (the clock shows 60 days); customer service
decides and records the root cause and fix; the list shows it answered in time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from postloan.relationship.api import today
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from tests.api.conftest import PASSWORD, World, populate
from tests.web.conftest import make_app
from tests.web.live import chromium, serving
from tests.web.test_browser import pytestmark, sync_api

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("relationship-browser")
    return populate(ready(f"sqlite:///{folder / 'store.sqlite'}"), folder / "files")


@pytest.fixture(scope="module")
def server(world: World) -> Iterator[str]:
    with serving(make_app(world.url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as b:
        yield b


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1400, "height": 1000}, locale="zh-CN"
    )
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def _login(page: Any, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def test_a_complaint_through_its_clock(page: Any, world: World) -> None:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        customer = conn.execute(
            select(customers.c.customer_id)
            .where(customers.c.branch_id == world.branch)
            .order_by("customer_id")
            .limit(1)
        ).scalar_one()
    engine.dispose()
    _login(page, "customer_service")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/complaints']")
    page.wait_for_selector("#complaint-form")
    page.fill("#complaint-form input[name=customer_id]", customer)
    page.fill("#complaint-form input[name=received_on]", today().isoformat())
    page.select_option("#complaint-form select[name=business_type]", "collection")
    page.fill("#complaint-form textarea[name=summary]", "催收员深夜来电")
    page.fill("#complaint-form input[name=complained_about]", "collector")
    page.click("#complaint-form button[type=submit]")
    page.wait_for_selector("#complaints tbody tr[data-status=open]")
    page.click("#complaints tbody tr a")
    page.wait_for_selector("#complaint[data-limit='15']")
    page.fill("#step-assign input[name=handler]", "collector")
    page.click("#step-assign button")
    assert page.wait_for_selector("#complaint-error[data-code=recusal]")
    page.fill("#step-assign input[name=handler]", "customer_service")
    page.click("#step-assign button")
    page.wait_for_selector("#complaint-handler:has-text('customer_service')")
    page.fill("#step-complex input[name=reason]", "需调取录音核实")
    page.click("#step-complex button")
    page.wait_for_selector("#complaint[data-limit='30']")
    url = page.url
    _login(page, "manager")
    page.goto(url)
    page.click("#step-extend button")  # without the notice: refused by name
    assert page.wait_for_selector("#complaint-error[data-code=no_notice]")
    page.fill("#step-extend input[name=notice_on]", today().isoformat())
    page.click("#step-extend button")
    page.wait_for_selector("#complaint[data-limit='60']")
    _login(page, "customer_service")
    page.goto(url)
    page.fill("#step-decide input[name=decision]", "致歉并规范外呼时间")
    page.click("#step-decide button")
    page.wait_for_selector("#complaint[data-status=decided]")
    page.fill("#step-trace input[name=root_cause]", "外呼系统未限制时段")
    page.fill("#step-trace input[name=fix]", "22:00 后锁定外呼")
    page.click("#step-trace button")
    page.wait_for_selector("#complaint-fix")
    page.screenshot(path=str(Path("/tmp") / "postloan-complaint.png"), full_page=True)
    page.goto("/complaints")
    assert page.wait_for_selector("#complaints tbody tr[data-status=decided]")
    assert "已按时答复" in page.text_content("#complaints")
