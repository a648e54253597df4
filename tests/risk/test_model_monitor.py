"""A model's card and monitoring (EW-2) on a real store (SQLite, and PostgreSQL with the env
var): a small synthetic portfolio run at 26 month ends, a behaviour model fitted on it,
approved by a second user, and the daily run re-run on the month ends after its training window
so the model scores them. The monitoring's figures against plain recomputations — the score's
PSI per date by hand from the stored scores' band counts and the development counts in the
model; each characteristic's bins counted by hand from the features and its PSI by hand; the
observed and expected bad rate per band by hand from the stored account status — and the page
and API route: both languages, refused to a role without `risk.models`, unknown id 404."""

from __future__ import annotations

import bisect
import calendar
import math
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from postloan.access import create_user
from postloan.modelling.metrics import EMPTY_SHARE
from postloan.policy import default_policy
from postloan.risk import registry
from postloan.risk.behaviour import fit_behaviour, training_data
from postloan.risk.behaviour_tables import risk_behaviour_bins, risk_behaviour_scores
from postloan.risk.model_monitor import monitoring
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status
from postloan.web.i18n import LANG_COOKIE
from tests.risk.conftest import AS_OF
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all
from tests.web.conftest import PASSWORD
from tests.web.test_pages import csrf_of

NOW = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def _ends(months: int) -> list[date]:
    out, y, m = [], AS_OF.year, AS_OF.month
    for _ in range(months):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


def _write(url: str, work: Any) -> Any:
    engine = engine_for(url)  # disposed before the next run (api.workers)
    with engine.begin() as conn:
        out = work(conn)
    engine.dispose()
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def scored(
    request: pytest.FixtureRequest, risk_files: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{tmp_path_factory.mktemp('monitor') / 's.sqlite'}")
    else:
        schema = f"m_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    import_all(url, risk_files)
    policy = default_policy()
    run_dates(url, _ends(26), policy)
    model = _write(url, lambda conn: fit_behaviour(training_data(conn, policy), policy))

    def approve(conn: Any) -> str:
        mid = registry.register(conn, model, "behaviour", "bhv", "fit", "maker", NOW).model_id
        registry.validate(conn, policy, mid, "oot", "maker", NOW)
        registry.approve(conn, mid, "committee", "checker", NOW)
        for name, role in (("risk", "risk_manager"), ("col", "collector")):
            create_user(conn, username=name, password=PASSWORD, role=role, display_name=name)
        return mid

    mid = _write(url, approve)
    assert model.data_window is not None
    trained_to = date.fromisoformat(model.data_window.split("..")[1])
    run_dates(url, [d for d in _ends(26) if d > trained_to], policy)
    yield url, mid
    if schema is not None:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _plain_psi(expected: list[int], actual: list[int]) -> float:
    # the project's convention: a side's empty bin counts as a share of EMPTY_SHARE, a bin empty
    # on both sides adds nothing (docs/modelling.md)
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        if e == 0 and a == 0:
            continue
        pe = e / sum(expected) if e else EMPTY_SHARE
        pa = a / sum(actual) if a else EMPTY_SHARE
        total += (pa - pe) * math.log(pa / pe)
    return total


def _day(value: Any) -> date:
    return date.fromisoformat(str(value)[:10])


def test_monitoring_equals_plain_recomputation(scored: tuple[str, str]) -> None:
    url, mid = scored
    policy = default_policy()
    cfg = policy.risk.models

    def read(conn: Any) -> Any:
        from postloan.risk.behaviour_queries import feature_frame
        from postloan.risk.queries import stored_dates

        model = registry.stored_model(registry.row(conn, mid))
        scores = conn.execute(select(risk_behaviour_scores.c.as_of, risk_behaviour_scores.c
                                     .customer_id, risk_behaviour_scores.c.score,
                                     risk_behaviour_scores.c.pd)
                              .where(risk_behaviour_scores.c.model_id == mid)).all()  # fmt: skip
        status = conn.execute(select(account_status.c.as_of, account_status.c.customer_id,
                                     account_status.c.dpd)).all()  # fmt: skip
        days = sorted({_day(r[0]) for r in scores})
        features = feature_frame(conn, days[-1:], stored_dates(conn))[0]
        stored_bins = conn.execute(select(risk_behaviour_bins)).all()
        return model, scores, status, features, stored_bins, monitoring(conn, policy, mid)

    model, scores, status, features, stored_bins, got = _write(url, read)
    assert scores, "the approved model scored the re-run dates"
    # score PSI per date: each stored score's band by hand, (a, b] on the model's edges
    by_day: dict[date, list[int]] = {}
    for day, _, score, _ in scores:
        counts = by_day.setdefault(_day(day), [0] * len(model.band_counts))
        counts[bisect.bisect_left(model.band_edges, score)] += 1
    assert [d["as_of"] for d in got["dates"]] == [str(d) for d in sorted(by_day)]
    for row in got["dates"]:
        counts = by_day[date.fromisoformat(row["as_of"])]
        assert row["customers"] == sum(counts)
        assert row["score_psi"] == pytest.approx(_plain_psi(list(model.band_counts), counts))
        light = ("alert" if row["score_psi"] >= cfg.psi_alert_pct / 100 else "warning"
                 if row["score_psi"] >= cfg.psi_warning_pct / 100 else "ok")  # fmt: skip
        assert row["level"] == light

    # each characteristic on the latest date: its bins counted by hand from the features
    latest = got["dates"][-1]
    values = model.model_frame(features.to_pandas())
    by_name = {c["characteristic"]: c for c in latest["characteristics"]}
    assert set(by_name) == set(model.features)
    for c in model.characteristics:
        counts = [0] * (c.n_bins + 2)
        for v in values[c.name]:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                counts[c.n_bins] += 1
            elif c.splits or c.kind == "numerical":
                counts[bisect.bisect_right(c.splits, float(v))] += 1
            else:
                group = [i for i, g in enumerate(c.categories) if str(v) in g]
                counts[group[0] if group else c.n_bins + 1] += 1
        stored = [0] * (c.n_bins + 2)
        for r in stored_bins:
            if str(r.as_of)[:10] == latest["as_of"] and r.characteristic == c.name:
                stored[r.bin] = r.customers
        assert stored == counts, c.name
        development = [*c.counts, model.n_rows - sum(c.counts), 0]
        assert by_name[c.name]["psi"] == pytest.approx(_plain_psi(development, counts))

    # observed and expected bad rate per band, by hand from account status
    worst: dict[tuple[date, str], int] = {}
    for day, customer, dpd in status:
        key = (_day(day), customer)
        worst[key] = max(worst.get(key, 0), int(dpd))
    stored_days = sorted({d for d, _ in worst})
    month_end: dict[int, date] = {}
    for d in stored_days:
        month_end[d.year * 12 + d.month - 1] = d  # the month's latest stored date
    last = stored_days[-1].year * 12 + stored_days[-1].month - 1
    horizon, bad_at = cfg.outcome_months, policy.risk.backtest.bad_min_dpd
    bands: dict[int, list[int | float]] = {}
    for day, customer, score, pd_ in scores:
        d = _day(day)
        m = d.year * 12 + d.month - 1
        if m + horizon > last or worst.get((d, customer), 0) >= bad_at:
            continue
        after = [worst.get((month_end[k], customer), 0)
                 for k in range(m + 1, m + horizon + 1) if k in month_end]  # fmt: skip
        band = bisect.bisect_left(model.band_edges, score)
        n, bads, pds = bands.get(band, [0, 0, 0.0])
        bands[band] = [n + 1, bads + int(max(after, default=0) >= bad_at), pds + pd_]
    assert bands, "some scored month has a known outcome"
    assert got["judged_customers"] == sum(int(v[0]) for v in bands.values())
    for row in got["bands"]:
        n, bads, pds = bands.get(row["band"], [0, 0, 0.0])
        assert (row["customers"], row["bads"]) == (n, bads)
        if n:
            assert row["observed_bad_rate"] == pytest.approx(bads / n)
            assert row["expected_bad_rate"] == pytest.approx(pds / n)
        else:
            assert row["observed_bad_rate"] is None
        assert row["development_customers"] == model.band_counts[row["band"]]


def _login(client: TestClient, name: str) -> TestClient:
    page = client.get("/login")
    done = client.post("/login", data={"username": name, "password": PASSWORD,
                                       "csrf_token": csrf_of(page.text)})  # fmt: skip
    assert done.status_code == 303, done.text
    return client


def test_the_model_page_and_its_api_route(scored: tuple[str, str]) -> None:
    from postloan.access.tokens import issue_token
    from postloan.api.app import create_app
    from postloan.web import mount

    url, mid = scored
    app = create_app(url)
    mount(app)
    with TestClient(app, follow_redirects=False) as reader, \
            TestClient(app, follow_redirects=False) as outsider:  # fmt: skip
        _login(reader, "risk")
        _login(outsider, "col")
        figures = _write(url, lambda conn: monitoring(conn, default_policy(), mid))
        for lang, title, monitor_h in (("en", "Model card", "Monitoring"),
                                       ("zh-CN", "模型卡", "模型监控")):  # fmt: skip
            reader.cookies.set(LANG_COOKIE, lang)
            page = reader.get(f"/risk/models/{mid}")
            assert page.status_code == 200
            assert f"<h2>{title}</h2>" in page.text and f"<h2>{monitor_h}</h2>" in page.text
            # every scored date is a row with its score PSI at 4 places and its light
            for d in figures["dates"]:
                row = rf'<tr data-date="{d["as_of"]}">.*?data-psi="score" '
                cell = re.search(row + r'data-level="(\w+)"><span[^>]*>([0-9.]+)<', page.text)
                assert cell is not None and cell.group(1) == d["level"]
                assert cell.group(2) == f"{d['score_psi']:.4f}"
            assert 'data-step="approved"' in page.text and "checker" in page.text
            assert 'id="risk-model-psi-chart"' in page.text and "<script>" not in page.text
        assert outsider.get(f"/risk/models/{mid}").status_code == 403
        assert reader.get(f"/risk/models/{'0' * 64}").status_code == 404
        assert reader.get("/risk/models/not-an-id").status_code == 404
        assert reader.get(f"/risk/models/{mid.upper()}").status_code == 404

        def tokens(conn: Any) -> dict[str, str]:
            from postloan.access.users import get_user

            out = {}
            for name in ("risk", "col"):
                user = get_user(conn, name)
                assert user is not None
                out[name] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
            return out

        issued = _write(url, tokens)
        api = TestClient(app, raise_server_exceptions=False)
        path = f"/api/risk/models/{mid}/monitoring"
        ok = api.get(path, headers={"Authorization": f"Bearer {issued['risk']}"})
        assert ok.status_code == 200 and ok.json() == figures
        refused = api.get(path, headers={"Authorization": f"Bearer {issued['col']}"})
        assert refused.status_code == 403
        missing = api.get(f"/api/risk/models/{'0' * 64}/monitoring",
                          headers={"Authorization": f"Bearer {issued['risk']}"})  # fmt: skip
        assert missing.status_code == 404
