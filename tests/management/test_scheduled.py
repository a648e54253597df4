"""The printable monthly pack (issue 16 item 5) on the hand-built history, SQLite and
PostgreSQL: the daily run's `management.pack` step stores each calendar month-end's pack in
both languages, idempotently (a re-run writes the same documents, a deleted date drops its
month's), and last among the steps; the document's figures equal a plain recomputation, its
charts are inline SVG, it carries no script and prints with page breaks; the workbench serves
it under a CSP naming its one style element; the stored packs are listed and downloaded
(audited) by roles with `management.export` only, on the pages and the API."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from postloan import areas
from postloan.access.tables import audit_log
from postloan.area import StepContext
from postloan.management import packs
from postloan.management.tables import management_packs
from postloan.policy.loader import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import runs
from tests.management import reference
from tests.management.conftest import MID_MONTH, MONTH_ENDS, History
from tests.management.test_pages import app, as_user  # noqa: F401

NOW = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)


def _step(history: History, first: date, dates: list[date], run_id: int = 2) -> None:
    engine = engine_for(history.url)
    with engine.begin() as conn:
        if conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id)).first() is None:
            conn.execute(
                insert(runs).values(run_id=run_id, kind="daily", date_from=first,
                                    date_to=first, policy_version=default_policy().version,
                                    status="succeeded", started_at=NOW, finished_at=NOW)
            )  # fmt: skip
        packs.run_step(StepContext(conn, first, dates, default_policy(), run_id, NOW))
    engine.dispose()


def _stored(history: History) -> dict[tuple[str, str], Any]:
    engine = engine_for(history.url)
    with engine.connect() as conn:
        rows = conn.execute(select(management_packs)).all()
    engine.dispose()
    return {(r.month, r.lang): r for r in rows}


def _all_dates() -> list[date]:
    return sorted([*MONTH_ENDS, MID_MONTH])


def test_the_step_is_the_runs_last() -> None:
    assert [s.name for s in areas.daily_steps()][-1] == "management.pack"


def test_month_ends_get_a_pack_in_each_language_idempotently(history: History) -> None:
    _step(history, MONTH_ENDS[0], _all_dates())
    first = _stored(history)
    months = {d.strftime("%Y-%m") for d in MONTH_ENDS}
    assert set(first) == {(m, lang) for m in months for lang in ("zh-CN", "en")}
    assert first[("2026-06", "en")].as_of in (MONTH_ENDS[-1], str(MONTH_ENDS[-1]))
    assert not packs.is_month_end(MID_MONTH) and all(packs.is_month_end(d) for d in MONTH_ENDS)
    _step(history, MONTH_ENDS[0], _all_dates())  # the same run again: the same documents
    again = _stored(history)
    assert {k: r.html for k, r in again.items()} == {k: r.html for k, r in first.items()}
    # A run from 1 June (June's dates): June rewritten by run 3, the months before kept.
    _step(history, date(2026, 6, 1), [MID_MONTH, MONTH_ENDS[-1]], run_id=3)
    later = _stored(history)
    assert later[("2026-06", "zh-CN")].run_id == 3 and later[("2026-05", "zh-CN")].run_id == 2
    # The latest date deleted (no dates left from it): its month's pack goes with it.
    _step(history, MONTH_ENDS[-1], [])
    assert {m for m, _ in _stored(history)} == months - {"2026-06"}


def test_the_document_shows_the_months_figures_as_recomputed(history: History) -> None:
    _step(history, MONTH_ENDS[0], _all_dates())
    html = _stored(history)[("2026-06", "en")].html
    definitions = default_policy().management.kpis
    ends = reference.month_ends(history, date(2025, 7, 1), MONTH_ENDS[-1])
    for kpi in ("npl_ratio", "overdue_rate", "dpd30_ratio"):
        cells = reference.kpi_cells(history, definitions[kpi].model_dump(), "portfolio", ends)
        numerator, denominator = cells[(MONTH_ENDS[-1], "all")]
        assert denominator
        row = re.search(rf'<tr data-kpi="{kpi}"><td>[^<]*</td><td class="num">([^<]+)<', html)
        assert row is not None, kpi
        assert row.group(1) == f"{numerator / denominator:.2%}", kpi
    assert html.count("<svg") >= 3  # trend, roll matrix, vintages: drawn on the server
    assert "<script" not in html and "style=" not in html  # nothing the CSP would refuse
    assert "break-before: page" in html and "@page" in html
    assert "Monthly management pack · 2026-06" in html
    zh = _stored(history)[("2026-06", "zh-CN")].html
    assert "月度管理报表" in zh and "不良率" in zh


def _csp_matches_style(response: Any) -> None:
    policy = response.headers["content-security-policy"]
    style = re.search(r"<style>(.*?)</style>", response.text, re.S).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy


def test_the_print_page_and_the_stored_packs_in_the_workbench(
    as_user: Any,  # noqa: F811
    history: History,
) -> None:
    boss = as_user("boss")
    boss.get("/lang/en")
    live = boss.get("/management/print?month=2026-06")
    assert live.status_code == 200, live.text
    assert "Monthly management pack · 2026-06" in live.text
    _csp_matches_style(live)
    page = boss.get("/management?from=2026-01-01&to=2026-06-30")
    assert 'href="/management/print?month=2026-06"' in page.text
    assert boss.get("/management/print?month=2031-01").status_code == 404
    assert boss.get("/management/print?month=June").status_code == 422
    officer = as_user("officer")  # management.pack in branch B2: the print page, scoped
    scoped = officer.get("/management/print?month=2026-06")
    assert scoped.status_code == 200
    branches = re.findall(r'id="print-branch".*?</section>', scoped.text, re.S)[0]
    assert "B2" in branches and "B1" not in branches
    assert officer.get("/management/packs").status_code == 403  # whole book: export only
    assert as_user("coll").get("/management/print").status_code == 403
    empty = boss.get("/management/packs")
    assert empty.status_code == 200 and 'id="management-packs-empty"' in empty.text
    _step(history, MONTH_ENDS[0], _all_dates())
    listed = boss.get("/management/packs")
    assert 'data-month="2026-06" data-lang="en"' in listed.text
    stored = boss.get("/management/packs/2026-06?lang=en&download=1")
    assert stored.status_code == 200
    assert "attachment" in stored.headers["content-disposition"]
    assert stored.text == _stored(history)[("2026-06", "en")].html
    _csp_matches_style(stored)
    assert boss.get("/management/packs/2031-01?lang=en").status_code == 404
    engine = engine_for(history.url)
    with engine.connect() as conn:
        targets = conn.execute(
            select(audit_log.c.target_id).where(audit_log.c.target_type == "management_pack")
        ).scalars()
        assert "2026-06/en" in list(targets)
    engine.dispose()


@pytest.mark.parametrize("who", ["boss", "officer"])
def test_the_api_lists_and_hands_out_stored_packs(as_user: Any, history: History, who: str) -> None:  # noqa: F811
    _step(history, MONTH_ENDS[0], _all_dates())
    client = as_user(who)
    listed = client.get("/api/management/packs")
    if who == "officer":
        assert listed.status_code == 403
        assert client.get("/api/management/packs/2026-06").status_code == 403
        return
    assert listed.status_code == 200
    assert {(p["month"], p["lang"]) for p in listed.json()} == {
        (d.strftime("%Y-%m"), lang) for d in MONTH_ENDS for lang in ("zh-CN", "en")
    }
    got = client.get("/api/management/packs/2026-06", params={"lang": "zh-CN"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert got.text == _stored(history)[("2026-06", "zh-CN")].html
    assert client.get("/api/management/packs/2031-01").status_code == 404
    assert client.get("/api/management/packs/2026-13").status_code == 422
    assert client.get("/api/management/packs/2026-06", params={"lang": "fr"}).status_code == 422
