"""The model monitoring per month (EW-2) on a hand-built history (SQLite, and PostgreSQL with
the env var): account status and behaviour scores written row by row for a model registered
in the store — month ends of 2025-01 … 2026-03 with February 2026 stored only on its 1st, and
mid-month dates (January and March 2025 scored twice). Each month's AUC, KS, PSI and
calibration table against plain references computed here (a pairwise count and
scikit-learn's `roc_auc_score` on the rows, `modelling.metrics.ks`, PSI and the Jeffreys
interval by hand); months whose 12-month window has not elapsed are "not yet observable"
(None, never 0); the set-based bad rates per band equal the former implementation (Python
rows per customer, kept below as the reference); the page shows the month table and the
calibration table."""

# ruff: noqa: F811 — the store fixture imported below is requested by name.
from __future__ import annotations

import bisect
import math
import random
import re
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from fastapi.testclient import TestClient
from scipy.stats import beta
from sklearn.metrics import roc_auc_score
from sqlalchemy import insert, select

from postloan.access import create_user
from postloan.modelling import FitParams, fit_scorecard
from postloan.modelling.metrics import EMPTY_SHARE, ks
from postloan.policy import default_policy
from postloan.risk import registry
from postloan.risk.behaviour_queries import snapshot_status
from postloan.risk.behaviour_tables import risk_behaviour_scores
from postloan.risk.model_monitor import monitoring
from postloan.risk.rules import behaviour as behaviour_rules
from postloan.risk.rules.behaviour import month_index
from postloan.store.db import engine_for
from postloan.store.schema import account_status, policy_versions, runs
from postloan.store.values import as_date, rows_frame
from postloan.web.i18n import LANG_COOKIE
from tests.store.conftest import make_store  # noqa: F401
from tests.web.conftest import PASSWORD
from tests.web.test_pages import csrf_of

NOW = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
MONTH_ENDS = [date(2025, m, 28 if m == 2 else 30 if m in (4, 6, 9, 11) else 31)
              for m in range(1, 13)] + [date(2026, 1, 31), date(2026, 2, 1),
                                        date(2026, 3, 31)]  # fmt: skip
# February 2026 stored only on its 1st (a month's snapshot is its latest stored date); two
# mid-month dates that are no snapshot
STORED = sorted([*MONTH_ENDS, date(2025, 1, 15), date(2025, 3, 15), date(2025, 6, 15)])
SCORED = [date(2025, 1, 15), date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 15),
          date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)]  # fmt: skip
CUSTOMERS = [f"C{i:03d}" for i in range(60)]


def _model() -> Any:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, 400)
    frame = pd.DataFrame({"dpd": x, "bad": (rng.uniform(0, 70, 400) < x).astype(int)})
    return fit_scorecard(frame, "bad", params=FitParams(max_ratios=0))


def _history(model: Any) -> tuple[list[tuple[date, str, int]], list[tuple[date, str, float]]]:
    """(date, customer, dpd) of one account per customer, and (date, customer, score): scores
    from few values (ties), riskier customers scoring lower and going bad more often."""
    rnd = random.Random(7)
    status, scores = [], []
    values = sorted({round(float(v), 6) for v in model.band_edges} | {500.0, 520.0, 560.0})
    for c in CUSTOMERS:
        frailty = rnd.random()
        dpd = 0
        for day in STORED:
            if rnd.random() < 0.05:  # no status that day: the customer is not on the books
                continue
            dpd = dpd + 30 if rnd.random() < frailty * 0.35 else 0 if rnd.random() < 0.5 else dpd
            status.append((day, c, min(dpd, 200)))
            if day in SCORED:
                pick = int((1 - frailty) * (len(values) - 1) + rnd.choice((-1, 0, 1)))
                scores.append((day, c, values[max(0, min(len(values) - 1, pick))]))
    # the edges, by hand: 90+ only on the date named (0 elsewhere) — month 12 after January
    # (bad for January), month 13 on its 1st (not for January, for February), mid-month
    # dates (no snapshot: bad on that date only, never an outcome), the month after January
    edges = {"E12": date(2026, 1, 31), "E13": date(2026, 2, 1), "EMID": date(2025, 1, 15),
             "EMID3": date(2025, 3, 15), "EMID6": date(2025, 6, 15),
             "E1": date(2025, 2, 28)}  # fmt: skip
    for c, bad_day in edges.items():
        for day in STORED:
            status.append((day, c, 95 if day == bad_day else 0))
            if day in SCORED:
                scores.append((day, c, values[len(values) // 2]))
    return status, scores


@pytest.fixture(params=["sqlite", "postgresql"])
def hand_built(request: pytest.FixtureRequest, make_store: Any) -> tuple[str, str, Any]:
    from tests.store.conftest import BACKENDS

    if request.param not in BACKENDS:
        pytest.skip("PostgreSQL: set POSTLOAN_TEST_DATABASE_URL")
    url = make_store(request.param)
    model = _model()
    status, scores = _history(model)
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(insert(policy_versions).values(version="v", content="{}", recorded_at=NOW))
        conn.execute(insert(runs).values(run_id=1, kind="backfill", date_from=STORED[0],
                                         date_to=STORED[-1], policy_version="v",
                                         status="succeeded", started_at=NOW))  # fmt: skip
        conn.execute(insert(account_status), [
            {"as_of": d, "account_id": f"L{c}", "customer_id": c, "account_type": "loan",
             "outstanding_principal": 1000, "overdue_principal": 0, "overdue_interest": 0,
             "overdue_amount": 0, "dpd": dpd, "bucket": "C", "risk_class": "normal",
             "consecutive_overdue_periods": 0, "cumulative_overdue_periods": 0, "run_id": 1}
            for d, c, dpd in status])  # fmt: skip
        mid = registry.register(conn, model, "behaviour", "hand", "hand-built", "maker",
                                NOW).model_id  # fmt: skip
        conn.execute(insert(risk_behaviour_scores), [
            {"as_of": d, "customer_id": c, "model_id": mid, "score": s,
             "pd": float(model.scaling.pd_of(np.asarray([s]))[0]),
             "band": bisect.bisect_left(model.band_edges, s), "ead": 1000, "el": 1,
             "pd_band": 0, "exposure_band": 0, "matrix_class": "normal",
             "risk_class": "normal", "run_id": 1}
            for d, c, s in scores])  # fmt: skip
        create_user(conn, username="risk", password=PASSWORD, role="risk_manager",
                    display_name="risk")  # fmt: skip
    engine.dispose()
    return url, mid, model


def _pair_auc(rows: list[tuple[float, int]]) -> float:
    # plain AUC: the share of (bad, good) pairs where the bad scores lower, ties half
    bads = [s for s, b in rows if b]
    goods = [s for s, b in rows if not b]
    wins = sum(1.0 if b < g else 0.5 if b == g else 0.0 for b in bads for g in goods)
    return wins / (len(bads) * len(goods))


def _plain_psi(expected: list[int], actual: list[int]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        if e == 0 and a == 0:
            continue
        pe = e / sum(expected) if e else EMPTY_SHARE
        pa = a / sum(actual) if a else EMPTY_SHARE
        total += (pa - pe) * math.log(pa / pe)
    return total


def _reference(model: Any, status: list[tuple[date, str, int]],
               scores: list[tuple[date, str, float]]) -> dict[str, Any]:  # fmt: skip
    """Per month by hand: band counts, the judged (score, band, pd, bad) rows."""
    worst = {(d, c): dpd for d, c, dpd in status}
    month_end: dict[int, date] = {}
    for d in STORED:
        month_end[d.year * 12 + d.month - 1] = d
    last = STORED[-1].year * 12 + STORED[-1].month - 1
    months: dict[str, dict[str, Any]] = {}
    for d, c, s in scores:
        m = d.year * 12 + d.month - 1
        key = f"{d.year}-{d.month:02d}"
        entry = months.setdefault(
            key,
            {
                "bands": [0] * len(model.band_counts),
                "rows": [],
                "dates": set(),
                "observable": m + 12 <= last,
            },
        )
        band = bisect.bisect_left(model.band_edges, s)
        entry["bands"][band] += 1
        entry["dates"].add(d)
        if not entry["observable"] or worst.get((d, c), 0) >= 90:
            continue
        after = [worst.get((month_end[k], c), 0) for k in range(m + 1, m + 13) if k in month_end]
        pd_ = float(model.scaling.pd_of(np.asarray([s]))[0])
        entry["rows"].append((s, band, pd_, int(max(after, default=0) >= 90)))
    return months


def test_months_against_plain_references(hand_built: tuple[str, str, Any]) -> None:
    url, mid, model = hand_built
    policy = default_policy()
    engine = engine_for(url)
    with engine.connect() as conn:
        got = monitoring(conn, policy, mid)
    engine.dispose()
    status, scores = _history(model)
    expected = _reference(model, status, scores)
    assert [m["month"] for m in got["months"]] == sorted(expected)
    assert [m["month"] for m in got["months"] if m["observable"]] == [
        "2025-01", "2025-02", "2025-03"]  # fmt: skip
    for row in got["months"]:
        ref = expected[row["month"]]
        assert row["scored_dates"] == len(ref["dates"])
        assert row["customers"] == sum(ref["bands"])
        assert row["score_psi"] == pytest.approx(_plain_psi(list(model.band_counts), ref["bands"]))
        if not row["observable"]:  # the window has not elapsed: nothing measured, not 0
            assert (row["judged"], row["bads"], row["auc"], row["ks"], row["calibration"]) == (
                None, None, None, None, None)  # fmt: skip
            continue
        rows = ref["rows"]
        flags = [b for *_, b in rows]
        assert 0 < sum(flags) < len(rows), "a month with both outcomes"
        assert (row["judged"], row["bads"]) == (len(rows), sum(flags))
        pairs = [(s, b) for s, _, _, b in rows]
        assert row["auc"] == pytest.approx(_pair_auc(pairs), abs=1e-12)
        assert row["auc"] == pytest.approx(
            roc_auc_score(flags, [-s for s, *_ in rows]), abs=1e-12)  # fmt: skip
        assert row["ks"] == pytest.approx(ks(np.asarray(flags), np.asarray([s for s, *_ in rows])),
                                          abs=1e-12)  # fmt: skip
        for cal in row["calibration"]:
            mine = [(p, b) for _, band, p, b in rows if band == cal["band"]]
            assert (cal["customers"], cal["bads"]) == (len(mine), sum(b for _, b in mine))
            if not mine:
                assert cal["observed_bad_rate"] is None and cal["passed"] is None
                continue
            n, k = len(mine), sum(b for _, b in mine)
            predicted = sum(p for p, _ in mine) / n
            low = 0.0 if k == 0 else beta.ppf(0.025, k + 0.5, n - k + 0.5)
            high = 1.0 if k == n else beta.ppf(0.975, k + 0.5, n - k + 0.5)
            assert cal["observed_bad_rate"] == pytest.approx(k / n)
            assert cal["predicted_bad_rate"] == pytest.approx(predicted)
            assert (cal["jeffreys_low"], cal["jeffreys_high"]) == (
                pytest.approx(low),
                pytest.approx(high),
            )
            assert cal["passed"] == (low <= predicted <= high)
    assert got["judged_until"] == "2025-03-31"


def _previous_bands(conn: Any, policy: Any, mid: str) -> tuple[list[dict[str, Any]], int]:
    """The former bad-rate query (before the set-based one), kept as the reference: every
    judged scored row read into Python, the outcome joined per customer in polars."""
    cfg = policy.risk
    model = registry.stored_model(registry.row(conn, mid))
    s = risk_behaviour_scores
    stored = sorted({as_date(v) for v in conn.execute(
        select(account_status.c.as_of).distinct()).scalars()})  # fmt: skip
    scored_dates = sorted({as_date(v) for v in conn.execute(
        select(s.c.as_of).where(s.c.model_id == mid).distinct()).scalars()})  # fmt: skip
    last = stored[-1]
    last_month = last.year * 12 + last.month - 1
    known = [d for d in scored_dates
             if d.year * 12 + d.month - 1 + cfg.models.outcome_months <= last_month]  # fmt: skip
    rows = conn.execute(select(s.c.as_of, s.c.customer_id, s.c.band, s.c.pd)
                        .where(s.c.model_id == mid, s.c.as_of <= known[-1])).all()  # fmt: skip
    scored = rows_frame([(as_date(r[0]), r[1], int(r[2]), float(r[3])) for r in rows],
                        {"as_of": pl.Date, "customer_id": pl.String, "band": pl.Int64,
                         "pd": pl.Float64})  # fmt: skip
    now = snapshot_status(conn, known)
    snaps = snapshot_status(conn, behaviour_rules.snapshot_dates(stored))
    judged = (
        scored.join(now.select("as_of", "customer_id", pl.col("worst_dpd").alias("_now")),
                    on=["as_of", "customer_id"], how="left")
        .filter((month_index(pl.col("as_of")) + cfg.models.outcome_months
                 <= last_month) & (pl.col("_now").fill_null(0) < cfg.backtest.bad_min_dpd))
        .with_columns(month_index(pl.col("as_of")).alias("_o"))
    )  # fmt: skip
    later = (
        judged.join(snaps.select("customer_id", month_index(pl.col("as_of")).alias("_h"),
                                 "worst_dpd"), on="customer_id")
        .filter((pl.col("_h") > pl.col("_o"))
                & (pl.col("_h") <= pl.col("_o") + cfg.models.outcome_months))
        .group_by("as_of", "customer_id").agg(pl.col("worst_dpd").max().alias("_after"))
    )  # fmt: skip
    out = judged.join(later, on=["as_of", "customer_id"], how="left").with_columns(
        bad=(pl.col("_after").fill_null(0) >= cfg.backtest.bad_min_dpd).cast(pl.Int8)
    )
    per_band = out.group_by("band").agg(
        pl.len().alias("n"),
        pl.col("bad").cast(pl.Int64).sum().alias("bads"),
        pl.col("pd").mean().alias("e"),
    )
    found = {int(r["band"]): r for r in per_band.to_dicts()}
    bands = []
    for i in range(len(model.band_counts)):
        r = found.get(i)
        bands.append({"band": i, "customers": 0 if r is None else int(r["n"]),
                      "bads": 0 if r is None else int(r["bads"]),
                      "observed_bad_rate": None if r is None else r["bads"] / r["n"],
                      "expected_bad_rate": None if r is None else r["e"]})  # fmt: skip
    return bands, out.height


def test_set_based_bad_rates_equal_the_former_query(hand_built: tuple[str, str, Any]) -> None:
    url, mid, _ = hand_built
    policy = default_policy()
    engine = engine_for(url)
    with engine.connect() as conn:
        got = monitoring(conn, policy, mid)
        before, judged = _previous_bands(conn, policy, mid)
    engine.dispose()
    assert got["judged_customers"] == judged > 0
    for new, old in zip(got["bands"], before, strict=True):
        assert (new["band"], new["customers"], new["bads"]) == (old["band"], old["customers"],
                                                                old["bads"])  # fmt: skip
        for key in ("observed_bad_rate", "expected_bad_rate"):
            assert new[key] == (None if old[key] is None else pytest.approx(old[key], abs=1e-12))


def test_the_page_shows_months_and_calibration(hand_built: tuple[str, str, Any]) -> None:
    from postloan.api.app import create_app
    from postloan.web import mount

    url, mid, _ = hand_built
    engine = engine_for(url)
    with engine.connect() as conn:
        got = monitoring(conn, default_policy(), mid)
    engine.dispose()
    app = create_app(url)
    mount(app)
    with TestClient(app, follow_redirects=False) as browser:
        page = browser.get("/login")
        assert (
            browser.post(
                "/login",
                data={"username": "risk", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            ).status_code
            == 303
        )
        for lang, pending, table in (("en", "not yet observable", "Calibration, 2025-03"),
                                     ("zh-CN", "尚不可观测", "校准表（2025-03）")):  # fmt: skip
            browser.cookies.set(LANG_COOKIE, lang)
            html = browser.get(f"/risk/models/{mid}").text
            for m in got["months"]:
                row = re.search(rf'<tr data-month="{m["month"]}" '
                                r'data-observable="(\w+)">(.*?)</tr>', html)  # fmt: skip
                assert row is not None
                if m["observable"]:
                    assert f'data-figure="auc">{m["auc"]:.4f}<' in row.group(2)
                    assert f'data-figure="ks">{m["ks"]:.4f}<' in row.group(2)
                else:
                    assert pending in row.group(2) and 'data-figure="auc"' not in row.group(2)
            # the latest observable month's calibration table, each band's counts
            assert table in html and 'id="risk-model-calibration" data-month="2025-03"' in html
        chosen = browser.get(f"/risk/models/{mid}?month=2025-01").text
        january = next(m for m in got["months"] if m["month"] == "2025-01")
        assert 'data-month="2025-01"' in chosen
        for cal in january["calibration"]:
            cells = re.search(rf'id="risk-model-calibration".*?<tr data-band="{cal["band"]}">'
                              r'<td>\d+</td><td class="num">(\d+)</td><td class="num">(\d+)</td>',
                              chosen, re.S)  # fmt: skip
            assert cells is not None
            assert (int(cells.group(1)), int(cells.group(2))) == (cal["customers"], cal["bads"])
        for month in ("2025-05", "2024-13", "x"):  # not observable, no such month, not a month
            assert browser.get(f"/risk/models/{mid}?month={month}").status_code == 404
