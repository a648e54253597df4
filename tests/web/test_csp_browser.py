"""The Content-Security-Policy in a real browser (Debian's Chromium via Playwright, as
`test_browser.py`): the dashboard, a customer page with a reveal, the KPI page and the API docs
work under it — charts drawn, htmx requests done, Swagger UI rendered — with zero violations
reported, while an injected inline script is refused (the policy is in force)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from postloan.api.docs import docs_assets_missing
from tests.web.conftest import PASSWORD, Store, make_app
from tests.web.live import chromium, serving
from tests.web.test_browser import pytestmark, sync_api

__all__ = ["pytestmark"]  # skipped without Chromium unless POSTLOAN_REQUIRE_BROWSER=1

# Runs before any script of each page: every violation the browser reports is kept.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                    (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture(scope="module")
def server(web_store: Store) -> Iterator[str]:
    with serving(make_app(web_store.url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(sync_api) as b:
        yield b


class Watched:
    """A page whose CSP violations and console errors are collected across navigations."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.violations: list[str] = []
        self.console: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.console.append(message.text)

    def collect(self) -> None:
        """Take the current document's violations (call before leaving it)."""
        self.violations += self.page.evaluate("window.__csp || []")

    def goto(self, path: str) -> None:
        self.collect()
        self.page.goto(path)


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    context = browser.new_context(
        base_url=server, viewport={"width": 1360, "height": 1000}, locale="zh-CN"
    )
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield Watched(page)
    context.close()


def _login(w: Watched, username: str) -> None:
    w.goto("/login")
    w.page.fill("input[name=username]", username)
    w.page.fill("input[name=password]", PASSWORD)
    w.collect()
    w.page.click("button[type=submit]")
    w.page.wait_for_url("**/")


def _charts_drawn(w: Watched, chart_ids: tuple[str, ...]) -> None:
    for chart_id in chart_ids:
        w.page.wait_for_selector(f"#{chart_id} canvas")
        drawn = w.page.evaluate(
            """id => {
                const chart = echarts.getInstanceByDom(document.getElementById(id));
                const canvas = document.querySelector('#' + id + ' canvas');
                return !!chart && canvas.width > 100 && canvas.height > 100;
            }""",
            chart_id,
        )
        assert drawn, chart_id


def test_pages_work_under_the_csp_without_violations(watched: Watched, web_store: Store) -> None:
    w = watched
    _login(w, "boss")
    _charts_drawn(w, ("chart-bucket", "chart-class", "chart-dpd30", "chart-branch"))

    w.goto("/customers")  # htmx search as one types
    w.page.fill("#q", web_store.other)
    w.page.wait_for_selector(f"#customer-results a:has-text('{web_store.other}')")
    w.goto(f"/customers/{web_store.assigned[0]}")
    w.page.click("#ledger-payments summary")  # htmx loads the section
    w.page.wait_for_selector("#ledger-payments table#payments")

    w.goto("/kpis")
    _charts_drawn(w, ("chart-kpi-rates", "chart-kpi-cure"))
    w.collect()
    w.page.click("button:has-text('退出')")
    w.page.wait_for_url("**/login")

    _login(w, "legal")  # a reveal: an htmx POST carrying the CSRF header
    w.goto(f"/customers/{web_store.assigned[1]}")
    w.page.click("#field-id_number summary")
    w.page.fill("#field-id_number input[name=reason]", "法院立案需要核对身份")
    w.page.click("#field-id_number button[type=submit]")
    revealed = w.page.wait_for_selector("#field-id_number .revealed")
    assert "*" not in (revealed.text_content() or "")
    w.collect()

    assert w.violations == [], w.violations
    assert not [m for m in w.console if "Content Security Policy" in m], w.console
    assert not [m for m in w.console if m.startswith("pageerror")], w.console


def test_an_injected_inline_script_is_refused(watched: Watched) -> None:
    """The policy is in force (and the recorder sees violations): an inline script does not
    run, and the browser reports it."""
    w = watched
    w.goto("/login")
    ran = w.page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = 'window.__injected = true';
            document.head.appendChild(s);
            return window.__injected === true;
        }"""
    )
    assert ran is False
    w.page.wait_for_function("window.__csp.length > 0")
    w.collect()
    assert any(v.startswith("script-src") and "inline" in v for v in w.violations), w.violations


@pytest.mark.skipif(bool(docs_assets_missing()), reason="run scripts/vendor_web_assets.py")
def test_api_docs_render_from_the_package_under_the_csp(watched: Watched, server: str) -> None:
    w = watched
    requested: list[str] = []
    w.page.on("request", lambda request: requested.append(request.url))
    w.goto("/docs")
    w.page.wait_for_selector(".swagger-ui .opblock-tag")
    assert w.page.query_selector_all(".swagger-ui .opblock")
    w.collect()
    assert all(url.startswith(server) for url in requested), requested  # nothing from a CDN
    assert w.violations == [], w.violations
    assert not [m for m in w.console if m.startswith("pageerror")], w.console
