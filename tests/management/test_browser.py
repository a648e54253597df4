"""The management pack in a real browser (Debian's Chromium via Playwright, as
`tests/web/test_browser.py`): a manager opens the pack from the nav, sees the charts drawn,
drills from a branch's NPL ratio to its accounts (the list sums to the cell) and exports the
workbook, whose figures equal the API's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from postloan.store.db import ready
from tests.management.conftest import History, build
from tests.management.test_pages import add_users
from tests.web.conftest import PASSWORD
from tests.web.live import chromium, serving
from tests.web.test_browser import pytestmark, sync_api

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> History:
    folder = tmp_path_factory.mktemp("mgmt-browser")
    history = build(ready(f"sqlite:///{folder / 'store.sqlite'}"))
    add_users(history.url)
    return history


@pytest.fixture(scope="module")
def server(store: History, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(store.url, policy_path=tmp_path_factory.mktemp("p") / "policy.toml")
    mount(app)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    with chromium(sync_api) as browser:
        context = browser.new_context(
            base_url=server,
            viewport={"width": 1400, "height": 1000},
            locale="zh-CN",
            accept_downloads=True,
        )
        pg = context.new_page()
        pg.set_default_timeout(15000)
        yield pg
        context.close()


def test_manager_drills_from_a_branch_npl_ratio_and_exports(page: Any, tmp_path: Path) -> None:
    page.goto("/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/management']")
    page.wait_for_selector("#management-period")
    page.fill("#management-period input[name=from]", "2026-01-01")
    page.fill("#management-period input[name=to]", "2026-06-30")
    page.select_option("#management-period select[name=dimension]", "branch")
    page.select_option("#management-period select[name=view]", "risk")
    page.click("#management-period button[type=submit]")
    page.wait_for_selector("#management-figures")
    for chart_id in ("chart-trend", "chart-roll", "chart-vintage"):
        page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg")
    assert "不良率" in page.text_content("#management-figures thead")
    # The API's figure for the cell the manager will open.
    api = page.request.get("/api/management/pack?from=2026-01-01&to=2026-06-30&dimension=branch")
    figures = {(r["as_of"], r["value"]): r for r in api.json()["figures"]}
    cell = page.locator("#management-figures tr[data-month='2026-06'] td[data-kpi=npl_ratio] a")
    assert cell.count() >= 1
    row = cell.first.locator("xpath=ancestor::tr")
    branch = row.get_attribute("data-value")
    cell.first.click()
    page.wait_for_selector("#drill-accounts")
    numerator = int(page.text_content("#drill-numerator") or "0")
    counted = [int(c.get_attribute("data-counted")) for c in page.locator("[data-counted]").all()]
    assert numerator == sum(counted) == figures[("2026-06-30", branch)]["npl_ratio_numerator"]
    assert branch in (page.text_content("#drill-cell") or "")
    page.go_back()
    page.wait_for_selector("#management-export")
    with page.expect_download() as waiting:
        page.click("#management-export")
    saved = tmp_path / "pack.xlsx"
    waiting.value.save_as(saved)
    sheet = load_workbook(saved)["branch"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    got = next(r for r in rows if r["as_of"] == "2026-06-30" and r["value"] == branch)
    assert got["npl_ratio"] == pytest.approx(figures[("2026-06-30", branch)]["npl_ratio"])


def test_the_printable_pack_prints_in_chromium(page: Any, tmp_path: Path) -> None:
    """The print page under its own CSP: no violation (no script, the one style allowed),
    the SVG charts drawn, each part on a new page in print media, and Chromium's PDF of it
    runs to several A4 pages."""
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto("/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
    page.goto("/lang/en")
    page.goto("/management?from=2026-01-01&to=2026-06-30")
    page.click("#management-print")
    page.wait_for_selector("#print-title")
    assert "2026-06" in (page.text_content("#print-title") or "")
    assert page.locator("svg.chart").count() >= 3
    assert page.locator("#print-summary svg polyline").count() >= 1
    page.emulate_media(media="print")
    breaks = page.evaluate(
        "() => [...document.querySelectorAll('section.part')]"
        ".map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks and set(breaks) == {"page"}
    # The style was applied (a computed value only the embedded CSS sets): the CSP let it in.
    assert page.evaluate("() => getComputedStyle(document.querySelector('th')).textAlign") == "left"
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and pages >= len(breaks) + 1  # a page per part at least
    assert refused == []
