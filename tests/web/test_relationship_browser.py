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
from tests.web.live import chromium, login, serving, workbench_page
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
    with workbench_page(browser, server) as pg:
        yield pg


def _login(page: Any, username: str) -> None:
    login(page, username, PASSWORD, forget=True)


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


def test_a_survey_entered_and_its_results(page: Any, world: World) -> None:
    """Customer service enters four answers on the surveys page; the results table shows n, CSAT
    and NPS equal to a plain count: CSAT 5,4,2,5 → 3 of 4 satisfied (≥ 4) = 75.0 %; NPS
    10,9,3,7 → 2 promoters − 1 detractor of 4 = 25.0."""
    from datetime import UTC, datetime

    from postloan.relationship import surveys

    engine = engine_for(world.url)
    with engine.begin() as conn:
        surveys.add_version(conn, "2026 服务满意度", surveys.DEFAULT_QUESTIONS,
                            actor="marketing", now=datetime.now(UTC))  # fmt: skip
        people = list(conn.execute(
            select(customers.c.customer_id).where(customers.c.branch_id == world.branch)
            .order_by("customer_id").limit(4)).scalars())  # fmt: skip
    engine.dispose()
    answers = [(5, 10), (4, 9), (2, 3), (5, 7)]
    satisfied = sum(c >= 4 for c, _ in answers) / len(answers) * 100
    promoters = sum(n >= 9 for _, n in answers) - sum(n <= 6 for _, n in answers)
    net = promoters / len(answers) * 100
    _login(page, "customer_service")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/surveys']")
    for customer, (c, n) in zip(people, answers, strict=True):
        page.wait_for_selector("#survey-response")
        page.fill("#survey-response input[name=customer_id]", customer)
        page.fill("#survey-response input[name=csat]", str(c))
        page.fill("#survey-response input[name=nps]", str(n))
        page.click("#survey-response button[type=submit]")
    row = page.wait_for_selector("#survey-results tr[data-branch='*'][data-n='4']")
    cells = [c.text_content().strip() for c in row.query_selector_all("td")]
    assert cells[2] == "4" and cells[3] == f"{satisfied:.1f}" and cells[5] == f"{net:.1f}"
    assert "–" in cells[4] and "–" in cells[6]  # the intervals are shown
    by_tier = page.query_selector_all("#survey-tiers tbody tr")
    assert sum(int(r.get_attribute("data-n")) for r in by_tier) == 4  # every answer, by tier
    page.screenshot(path=str(Path("/tmp") / "postloan-survey.png"), full_page=True)


def test_a_hardship_plan_signed(page: Any, world: World) -> None:
    """A credit officer proposes an oral card or loan plan on the hardship page; a risk manager
    signs it (approves); the plan is kept, and the customer's card on the 360° page shows it."""
    from postloan.collections.tables import tasks
    from postloan.store.schema import loans

    engine = engine_for(world.url)
    with engine.connect() as conn:
        customer, loan = conn.execute(
            select(loans.c.customer_id, loans.c.loan_id)
            .join(customers, customers.c.customer_id == loans.c.customer_id)
            .where(customers.c.branch_id == world.branch,
                   loans.c.customer_id.in_(select(tasks.c.customer_id)))
            .order_by(loans.c.loan_id).limit(1)
        ).one()  # fmt: skip
    engine.dispose()
    _login(page, "credit_officer")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/hardship']")
    page.wait_for_selector("#hardship-form")
    page.fill("#hardship-form input[name=customer_id]", customer)
    page.fill("#hardship-form input[name=account_id]", loan)
    page.select_option("#hardship-form select[name=kind]", "loan_deferral")
    page.fill("#hardship-form input[name=months]", "3")
    page.select_option("#hardship-form select[name=form]", "oral")
    page.fill("#hardship-form input[name=oral_record]", "录音 REC-0101：客户同意延期三个月")
    page.fill("#hardship-form input[name=reason]", "住院治疗，收入中断")
    page.click("#hardship-form button[type=submit]")
    proposed = page.wait_for_selector("#plans tr[data-status=proposed]")
    plan = proposed.get_attribute("data-plan")
    assert page.query_selector(f"#approve-{plan}") is None  # not the proposer's to sign
    _login(page, "risk_manager")
    page.goto("/hardship")
    page.click(f"#approve-{plan}")
    page.wait_for_selector(f"#plans tr[data-plan='{plan}'][data-status=approved]")
    page.goto(f"/customers/{customer}")
    assert page.wait_for_selector("#relationship-plans li[data-status=approved]")
    page.screenshot(path=str(Path("/tmp") / "postloan-hardship.png"), full_page=True)
