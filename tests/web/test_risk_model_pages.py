"""The model registry page over HTTP (TestClient), on SQLite and PostgreSQL: listed for the
roles holding `risk.models`, refused to the others; zh-CN and English labels; names escaped."""

# ruff: noqa: F811 — the risk pages' fixtures imported below are requested by name.
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from postloan.modelling import FitParams, fit_scorecard
from postloan.risk import registry
from postloan.store.db import engine_for
from postloan.web.i18n import LANG_COOKIE
from tests.web.test_risk_pages import RiskStore, app, as_user, store  # noqa: F401


def _register(store: RiskStore) -> str:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, 300)
    frame = pd.DataFrame({"dpd": x, "bad": (rng.uniform(0, 70, 300) < x).astype(int)})
    model = fit_scorecard(frame, "bad", params=FitParams(max_ratios=0))
    engine = engine_for(store.url)
    with engine.begin() as conn:
        mid = registry.register(conn, model, "behaviour", "<b>bhv</b>", "fit", "risk",
                                datetime.now(UTC)).model_id  # fmt: skip
    engine.dispose()
    return mid


def test_the_registry_page(as_user: Any, store: RiskStore) -> None:
    mid = _register(store)
    page = as_user("risk").get("/risk/models")
    assert page.status_code == 200 and 'id="risk-models"' in page.text
    assert f'data-model="{mid}" data-status="draft"' in page.text
    assert "&lt;b&gt;bhv&lt;/b&gt;" in page.text and "<b>bhv</b>" not in page.text
    assert 'href="/risk/models"' in page.text  # in the nav
    for who in ("boss", "aud"):
        assert as_user(who).get("/risk/models").status_code == 200
    for who in ("co", "mkt", "legal"):
        refused = as_user(who).get("/risk/models")
        assert refused.status_code == 403
        assert 'href="/risk/models"' not in as_user(who).get("/").text
    reader = as_user("risk")
    for lang, title, kind in (("en", "Model registry", "Behaviour scorecard"),
                              ("zh-CN", "模型注册表", "行为评分卡")):  # fmt: skip
        reader.cookies.set(LANG_COOKIE, lang)
        text = reader.get("/risk/models").text
        assert f"<h1>{title}</h1>" in text and kind in text


def test_the_page_of_a_model_that_never_scored(as_user: Any, store: RiskStore) -> None:
    mid = _register(store)
    reader = as_user("risk")
    for lang, card, empty in (("en", "Model card", "has not scored in the daily run"),
                              ("zh-CN", "模型卡", "尚未在日批中评分")):  # fmt: skip
        reader.cookies.set(LANG_COOKIE, lang)
        page = reader.get(f"/risk/models/{mid}")
        assert page.status_code == 200
        assert f"<h2>{card}</h2>" in page.text and empty in page.text
        assert 'id="risk-model-unscored"' in page.text and "chart-options" not in page.text
        assert "&lt;b&gt;bhv&lt;/b&gt;" in page.text and "<b>bhv</b>" not in page.text
        assert 'data-step="registered"' in page.text and 'data-step="approved"' not in page.text
        assert 'data-characteristic="dpd"' in page.text
    assert as_user("co").get(f"/risk/models/{mid}").status_code == 403
    assert as_user("aud").get(f"/risk/models/{mid}").status_code == 200
