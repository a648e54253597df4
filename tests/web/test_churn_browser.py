"""Churn's workbench in a real browser (Debian's Chromium via Playwright, as
`test_browser.py`): a credit officer, in Chinese, opens the pool, filters it by a rule, opens a
customer's churn card on the 360° page, sees the rule's evidence and records a reason (htmx:
the card answers in place); in English the same card reads in English; the KPI page draws its
charts (options as data under the CSP).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postloan.store.db import ready
from tests.web.conftest import PASSWORD
from tests.web.live import chromium, login, serving, workbench_page
from tests.web.test_browser import pytestmark, sync_api
from tests.web.test_churn_pages import ChurnStore, build_store, make_app

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1
SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ChurnStore:
    folder = tmp_path_factory.mktemp("churn-browser")
    return build_store(ready(f"sqlite:///{folder / 'store.sqlite'}"), folder / "files")


@pytest.fixture(scope="module")
def server(store: ChurnStore) -> Iterator[str]:
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


def test_pool_filter_card_evidence_and_reason(page: Any, store: ChurnStore) -> None:
    customer = store.evidence_customer
    _login(page, "co")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/churn']")
    page.wait_for_selector("#churn-filters")
    assert "流失客户信息库" in page.text_content("h1")
    page.select_option("#churn-filters select[name=rule]", "loan_overdue")
    page.click("#churn-filters button[type=submit]")
    page.wait_for_url("**rule=loan_overdue**")
    rows = page.query_selector_all("#churn-pool tbody tr")
    assert rows and all("loan_overdue" in r.get_attribute("data-rules") for r in rows)
    page.screenshot(path=str(SCREENSHOTS / "postloan-churn-pool.png"), full_page=True)
    page.click(f"#churn-pool a[href='/customers/{customer}#churn-card']")
    page.wait_for_url(f"**/customers/{customer}#churn-card")
    evidence = page.wait_for_selector("#churn-evidence .evidence[data-rule=loan_overdue]")
    text = evidence.text_content()
    assert "贷款逾期" in text and "连续逾期期数" in text
    assert page.query_selector("#churn-episodes tbody tr") is not None

    # the reason, confirmed in place (htmx): the card says it was recorded
    page.select_option("#churn-reason-form select[name=reason]", "macro")
    page.fill("#churn-reason-form textarea[name=note]", "所在行业经营困难，客户来电说明")
    page.click("#churn-reason-form button[type=submit]")
    page.wait_for_selector("#churn-saved")
    assert "宏观经济因素" in page.text_content("#churn-reason")
    assert page.query_selector("#churn-reasons tbody tr") is not None
    page.screenshot(path=str(SCREENSHOTS / "postloan-churn-card.png"), full_page=True)

    # in English
    page.click("#lang-switch")
    page.goto("/churn?rule=loan_overdue")
    assert "Churned-customer pool" in page.text_content("h1")
    assert "Loan overdue" in page.text_content("#churn-pool")
    page.goto(f"/customers/{customer}")
    evidence = page.wait_for_selector("#churn-evidence .evidence[data-rule=loan_overdue]")
    assert "consecutive periods overdue" in evidence.text_content()
    assert "macro-economy" in page.text_content("#churn-reason")


def test_kpi_charts_render(page: Any) -> None:
    _login(page, "risk")
    page.click("nav a[href='/churn/kpis']")
    for chart_id in ("chart-churn-flows", "chart-churn-rates"):
        page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg")
    assert page.query_selector("#churn-evaluation") is not None
    page.screenshot(path=str(SCREENSHOTS / "postloan-churn-kpis.png"), full_page=True)


def test_measures_page_records_an_outcome_and_decides_an_offer(
    page: Any, store: ChurnStore
) -> None:
    _login(page, "co")
    page.goto("/lang/en")
    page.click("nav a[href='/churn/measures']")
    page.wait_for_selector("#measure-filters")
    assert "Churn measures" in page.text_content("h1")
    page.select_option("#measure-filters select[name=kind]", "winback_followup")
    page.click("#measure-filters button[type=submit]")
    page.wait_for_url("**kind=winback_followup**")
    rows = page.query_selector_all("#churn-measures tbody tr[data-kind]")
    assert rows and all(r.get_attribute("data-kind") == "winback_followup" for r in rows)
    # the offer: declined with a reason
    offer = page.wait_for_selector(
        f"tr.offer[data-measure='{store.followup}'][data-status=proposed]"
    )
    offer.query_selector("input[name=note]").fill("already has the lowest rate")
    offer.query_selector("button[value=decline]").click()
    page.wait_for_selector("#measure-saved")
    assert (
        page.query_selector(f"tr.offer[data-measure='{store.followup}'][data-status=declined]")
        is not None
    )
    # the follow-up's outcome
    row = page.wait_for_selector(f"tr[data-measure='{store.followup}'][data-status=open]")
    row.query_selector("select[name=outcome]").select_option("interested")
    row.query_selector("button[type=submit]").click()
    page.wait_for_selector("#measure-saved")
    assert "kind=winback_followup" in page.url  # back to the filtered list
    done = page.wait_for_selector(f"tr[data-measure='{store.followup}'][data-status=done]")
    assert "interested" in done.text_content()
    page.screenshot(path=str(SCREENSHOTS / "postloan-churn-measures.png"), full_page=True)


def test_evaluation_chart_renders(page: Any) -> None:
    _login(page, "risk")
    page.goto("/churn/kpis")
    page.wait_for_selector("#chart-churn-evaluation canvas, #chart-churn-evaluation svg")
    kinds = page.eval_on_selector_all("#churn-evaluation-table tbody tr",
                                      "rows => rows.map(r => r.dataset.kind)")  # fmt: skip
    assert sorted(kinds) == ["recovery_handover", "winback_callback", "winback_followup"]
    page.screenshot(path=str(SCREENSHOTS / "postloan-churn-evaluation.png"), full_page=True)
