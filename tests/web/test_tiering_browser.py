"""Tiering's workbench in a real browser (Debian's Chromium via Playwright, as
`test_browser.py`): a risk manager, in Chinese, opens the tier page from the nav, asks for the
transitions between two dates, sees both charts drawn (options as data under the CSP) and the
matrix; a customer service officer sees a customer's tier card on the 360° page, in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from postloan.store.db import ready
from tests.tiering.conftest import AS_OF, DATES
from tests.web.conftest import PASSWORD
from tests.web.live import chromium, login, serving, workbench_page
from tests.web.test_browser import pytestmark, sync_api
from tests.web.test_tiering_pages import TierStore, build_store

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1
SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> TierStore:
    folder = tmp_path_factory.mktemp("tier-browser")
    return build_store(ready(f"sqlite:///{folder / 'store.sqlite'}"), folder / "files")


@pytest.fixture(scope="module")
def server(store: TierStore) -> Iterator[str]:
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


def test_tier_page_draws_distribution_and_transitions(page: Any) -> None:
    _login(page, "risk")
    page.goto("/lang/zh-CN")
    page.click("nav a[href='/tiering']")
    page.wait_for_selector("#tier-distribution")
    assert "客户分层" in page.text_content("h1")
    page.fill("#tiering-period input[name=from]", DATES[0].isoformat())
    page.fill("#tiering-period input[name=to]", AS_OF.isoformat())
    page.click("#tiering-period button[type=submit]")
    page.wait_for_selector("#tier-transitions")
    for chart_id in ("chart-tier-distribution", "chart-tier-transitions"):
        page.wait_for_selector(f"#{chart_id} canvas, #{chart_id} svg")
    assert "高风险" in page.text_content("#tier-transitions")
    page.screenshot(path=str(SCREENSHOTS / "postloan-tiering.png"), full_page=True)


def test_tier_card_on_the_360_page(page: Any, store: TierStore) -> None:
    _login(page, "cs")
    page.goto("/lang/en")
    page.goto(f"/customers/{store.ours[0]}")
    card = page.wait_for_selector("#tier-card")
    text = card.text_content()
    assert "Tier card" in text and "Strategy" in text and "Repayment capacity" in text


def test_review_what_if_form(page: Any) -> None:
    """A risk manager types a stricter DPD cut-off and a shorter hysteresis on the review
    page, replays them, and reads per tier the customers under the policy in force and under
    the candidate — the figures `POST /api/tiering/whatif` gives for the same candidate."""
    from postloan.policy import default_policy
    from postloan.tiering.candidate import candidate_of

    _login(page, "risk")
    page.goto("/lang/en")
    page.goto(f"/tiering/review?from={DATES[0].isoformat()}&to={AS_OF.isoformat()}")
    form = page.wait_for_selector("#whatif-form")
    assert form.query_selector("input[name='credit.poor_min_dpd']").input_value() == "31"
    typed = {"credit.poor_min_dpd": "1", "upgrade_after_dates": "2"}
    for name, value in typed.items():
        page.fill(f"#whatif-form input[name='{name}']", value)
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#whatif-counts")
    shown = {
        row.get_attribute("data-tier"): (
            int(row.query_selector("[data-stored]").text_content()),
            int(row.query_selector("[data-candidate]").text_content()),
        )
        for row in page.query_selector_all("#whatif-counts tbody tr")
    }
    candidate, _ = candidate_of(default_policy(), typed)
    token = page.get_attribute("input[name=csrf_token]", "value")
    answer = page.context.request.post(
        "/api/tiering/whatif",
        data={"from": DATES[0].isoformat(), "to": AS_OF.isoformat(),
              "tiering": candidate.model_dump(mode="json")["tiering"]},
        headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert answer.ok, answer.text()
    cells = answer.json()["transitions"]
    assert shown == {
        t: (sum(c["customers"] for c in cells if c["stored"] == t),
            sum(c["customers"] for c in cells if c["candidate"] == t))
        for t in ("premium", "low", "medium", "high")
    }  # fmt: skip
    assert any(a != b for a, b in shown.values())  # the stricter cut-off moves customers
    assert "“Poor credit: DPD from” 31 → 1" in page.text_content("#whatif-changed")
    assert page.get_attribute("#review-export", "href").startswith("/api/tiering/review.xlsx?")
    page.screenshot(path=str(SCREENSHOTS / "postloan-tiering-whatif.png"), full_page=True)
