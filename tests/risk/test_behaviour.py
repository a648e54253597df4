"""The behaviour scorecard on a real store (SQLite, and PostgreSQL with the env var): a small
synthetic portfolio run at 26 month ends. The training data from the store against plain
reads of account status; a retrain on the same data is the same model id; only an approved
model scores in the daily run, every score names its model id and equals the model's own
prediction; retiring it removes the scores of re-run dates."""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, select, text

from postloan.policy import default_policy
from postloan.risk import registry
from postloan.risk.behaviour import fit_behaviour, training_data
from postloan.risk.behaviour_tables import risk_behaviour_scores
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status
from tests.risk.conftest import AS_OF
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all

NOW = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def _ends(months: int) -> list[date]:
    out, y, m = [], AS_OF.year, AS_OF.month
    for _ in range(months):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return sorted(out)


@pytest.fixture(scope="module", params=BACKENDS)
def history(
    request: pytest.FixtureRequest, risk_files: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{tmp_path_factory.mktemp('behaviour') / 's.sqlite'}")
    else:
        schema = f"b_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    import_all(url, risk_files)
    run_dates(url, _ends(26), default_policy())
    yield url
    if schema is not None:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _data(url: str) -> pl.DataFrame:
    engine = engine_for(url)
    with engine.connect() as conn:
        data = training_data(conn, default_policy())
    engine.dispose()
    return data


def test_training_data_against_plain_reads(history: str) -> None:
    data = _data(history)
    engine = engine_for(history)
    with engine.connect() as conn:
        rows = conn.execute(
            select(account_status.c.as_of, account_status.c.customer_id, account_status.c.dpd)
        ).all()
    engine.dispose()
    worst: dict[tuple[date, str], int] = {}
    for day, customer, dpd in rows:
        key = (date.fromisoformat(str(day)[:10]), customer)
        worst[key] = max(worst.get(key, 0), int(dpd))
    ends = _ends(26)
    # observations: month ends whose 12-month outcome the history covers, not already 90+
    assert set(data["as_of"].unique()) == set(ends[: len(ends) - 12])
    for r in data.iter_rows(named=True):
        t, c = r["as_of"], r["customer_id"]
        i = ends.index(t)
        window = [worst[(d, c)] for d in ends[max(i - 2, 0) : i + 1] if (d, c) in worst]
        assert r["worst_dpd_3m"] == max(window)
        assert r["times_late_3m"] == sum(1 for x in window if x > 0)
        after = [worst[(d, c)] for d in ends[i + 1 : i + 13] if (d, c) in worst]
        assert r["bad"] == int(max(after, default=0) >= 90)
        assert worst[(t, c)] < 90
    assert 0 < data["bad"].sum() < data.height


def test_retraining_on_the_same_history_gives_the_same_model(history: str) -> None:
    policy = default_policy()
    first = fit_behaviour(_data(history), policy)
    again = fit_behaviour(_data(history), policy)
    assert registry.model_id(first) == registry.model_id(again)
    assert "oot_auc" in first.metrics and first.metrics["oot_rows"] > 0
    assert first.data_window is not None and first.data_window.endswith("2025-03-31")


def _scores(url: str, day: date) -> list[Any]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(risk_behaviour_scores).where(risk_behaviour_scores.c.as_of == day)
            .order_by(risk_behaviour_scores.c.customer_id)
        ).all()  # fmt: skip
    engine.dispose()
    return list(rows)


def _write(url: str, work: Any) -> Any:
    # An engine per write, disposed before the next run: the run's ADBC driver bundles its
    # own SQLite, which must not meet an open connection of Python's (api.workers).
    engine = engine_for(url)
    with engine.begin() as conn:
        out = work(conn)
    engine.dispose()
    return out


def test_only_an_approved_model_scores_and_scores_name_it(history: str) -> None:
    policy = default_policy()
    day = AS_OF + timedelta(days=1)
    run_dates(history, [day], policy)
    assert _scores(history, day) == []  # nothing approved yet
    model = fit_behaviour(_data(history), policy)

    def register(conn: Any) -> str:
        mid = registry.register(conn, model, "behaviour", "b", "fit", "maker", NOW).model_id
        registry.validate(conn, policy, mid, "oot", "maker", NOW)
        return mid

    mid = _write(history, register)
    run_dates(history, [day], policy)
    assert _scores(history, day) == []  # validated is not approved
    _write(history, lambda conn: registry.approve(conn, mid, "committee", "checker", NOW))
    run_dates(history, [day], policy)
    scored = _scores(history, day)

    def read(conn: Any) -> tuple[set[str], pl.DataFrame]:
        from postloan.risk.behaviour_queries import feature_frame
        from postloan.risk.queries import stored_dates

        customers = set(conn.execute(
            select(account_status.c.customer_id).where(account_status.c.as_of == day)
        ).scalars())  # fmt: skip
        return customers, feature_frame(conn, [day], stored_dates(conn))[0]

    customers, frame = _write(history, read)
    assert {r.customer_id for r in scored} == customers
    assert {r.model_id for r in scored} == {mid}
    expected = model.predict(frame.sort("customer_id").to_pandas())
    assert [round(r.score, 6) for r in scored] == [round(s, 6) for s in expected["score"]]
    assert [r.reason_1 for r in scored] == list(expected["reason_1"])
    assert all(0 < r.pd < 1 for r in scored)

    # expected loss and the class: the floor is the worst five-category class on the date
    def floors(conn: Any) -> dict[str, tuple[int, str]]:
        rows = conn.execute(
            select(account_status.c.customer_id, account_status.c.risk_class,
                   account_status.c.outstanding_principal, account_status.c.overdue_interest)
            .where(account_status.c.as_of == day)
        ).all()  # fmt: skip
        out: dict[str, tuple[int, str]] = {}
        order = ("normal", "special_mention", "substandard", "doubtful", "loss")
        for c, cls, principal, interest in rows:
            ead, worst = out.get(c, (0, "normal"))
            out[c] = (ead + principal + interest, max(worst, cls, key=order.index))
        return out

    floor = _write(history, floors)
    order = ("normal", "special_mention", "substandard", "doubtful", "loss")
    for r in scored:
        assert r.ead == floor[r.customer_id][0]
        assert order.index(r.risk_class) >= order.index(floor[r.customer_id][1])
        assert r.el == int(r.pd * r.lgd * r.ead + 0.5) if r.lgd is not None else r.el == 0
    # the review pack monitors the model on the stored history after its training window
    from postloan.risk.model_review import review

    pack = _write(history, lambda conn: review(conn, policy, mid))
    watch = pack["monitoring"]
    assert model.data_window is not None
    trained_to = model.data_window.split("..")[1]
    assert [r["month"] for r in watch["stability"]] == [
        str(d) for d in [*_ends(26), day] if str(d) > trained_to
    ]
    assert {r["characteristic"] for r in watch["characteristics"]} == set(model.features)
    judged = [r for r in watch["ranking"] if r["out_of_training"]]
    assert judged and all(r["month"] > trained_to for r in judged)
    _write(history, lambda conn: registry.retire(conn, mid, "drift", "maker", NOW))
    run_dates(history, [day], policy)
    assert _scores(history, day) == []


def test_the_fit_behaviour_command(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from postloan.cli.main import make_app
    from postloan.modelling.model_dir import load_model

    monkeypatch.setenv("POSTLOAN_DATABASE_URL", history)
    out = CliRunner().invoke(make_app(), ["model", "fit-behaviour", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    saved = load_model(tmp_path)
    expected = fit_behaviour(_data(history), default_policy())
    assert registry.model_id(saved) == registry.model_id(expected)
    assert f"id {registry.model_id(saved)}" in out.output
    again = CliRunner().invoke(make_app(), ["model", "fit-behaviour", "--out", str(tmp_path)])
    assert again.exit_code == 2  # no silent overwrite


def test_churn_propensity_on_the_history(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from postloan.cli.main import make_app
    from postloan.modelling.model_dir import load_model
    from postloan.risk.behaviour import churn_training_data, fit_churn

    engine = engine_for(history)
    with engine.connect() as conn:
        data = churn_training_data(conn, 6)
        identified = {
            (date.fromisoformat(str(r[0])[:10]), r[1])
            for r in conn.execute(text("SELECT as_of, customer_id FROM churn_identified"))
        }
    engine.dispose()
    assert 0 < data["bad"].sum() < data.height
    # nobody already identified on the observation date is observed
    assert not any((r[0], r[1]) in identified for r in data.select("as_of", "customer_id").rows())
    model = fit_churn(data, default_policy(), 6)
    assert "oot_auc" in model.metrics
    # validated on the store's churn history, the months after its training window
    assert model.data_window is not None
    last = date.fromisoformat(model.data_window.split("..")[1])
    oot = data.filter(pl.col("as_of") > last)

    def validate(conn: Any) -> dict[str, Any]:
        mid = registry.register(conn, model, "churn", "c", "fit", "maker", NOW).model_id
        return registry.validate(conn, default_policy(), mid, "oot", "maker", NOW)

    evidence = _write(history, validate)
    assert (evidence["rows"], evidence["bads"]) == (oot.height, int(oot["bad"].sum()))
    assert evidence["auc"] == pytest.approx(
        _pair_auc(model.score(oot.to_pandas()), oot["bad"].to_numpy()), abs=1e-12
    )
    monkeypatch.setenv("POSTLOAN_DATABASE_URL", history)
    out = CliRunner().invoke(make_app(), ["model", "fit-churn", "--months", "6", "--out",
                                          str(tmp_path)])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert registry.model_id(load_model(tmp_path)) == registry.model_id(model)


def _pair_auc(scores: Any, bad: Any) -> float:
    # plain AUC: the share of (bad, good) pairs where the bad scores lower, ties half
    import numpy as np

    flags = np.asarray(bad)
    bads, goods = scores[flags == 1], scores[flags == 0]
    wins = (bads[:, None] < goods[None, :]).sum() + 0.5 * (bads[:, None] == goods[None, :]).sum()
    return float(wins / (len(bads) * len(goods)))


def test_the_api_validates_on_the_history_never_on_the_clients_figures(
    history: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security (issue 13): a client posting a model with invented out-of-time figures, or
    posting figures with the validation, gets none of them into the registry: the server
    measures the months after the model's training window itself — in the job `postloan model
    run-validations`, not in the request, which only records it (202) and answers the open
    request when asked again; the outcome (validated, or refused with the reason) is read
    back through the API."""
    import json
    from dataclasses import replace

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from postloan.access.roles import Role
    from postloan.access.tables import audit_log
    from postloan.access.tokens import issue_token
    from postloan.access.users import create_user
    from postloan.api.app import create_app
    from postloan.cli.main import make_app
    from postloan.modelling.model_dir import to_json
    from postloan.risk.model_tables import risk_models

    policy = default_policy()
    data = _data(history)
    model = fit_behaviour(data, policy, seed=7)
    assert model.data_window is not None
    forged = replace(model, metrics={**model.metrics, "auc": 0.999, "oot_auc": 0.999,
                                     "oot_ks": 0.99})  # fmt: skip
    first, last = (date.fromisoformat(d) for d in model.data_window.split(".."))
    # a model that lies about its window (trained on months it claims are out of time)
    shifted = replace(model, data_window=f"{first}..{last - timedelta(days=40)}")

    def users(conn: Any) -> dict[str, str]:
        user = create_user(conn, username="rm_val", password="correct horse battery",
                           role=Role.RISK_MANAGER, now=NOW)  # fmt: skip
        token = issue_token(conn, user.user_id, "api", datetime.now(UTC))
        return {"Authorization": f"Bearer {token}"}

    def audits(conn: Any) -> list[Any]:
        return conn.execute(select(audit_log.c.actor, audit_log.c.action, audit_log.c.target_id,
                                   audit_log.c.detail)
                            .where(audit_log.c.action.like("risk.model.validate%"))
                            .order_by(audit_log.c.seq)).all()  # fmt: skip

    headers = _write(history, users)
    app = create_app(history, policy_path=tmp_path / "policy.toml")
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = []
        for fitted in (forged, shifted):
            made = client.post("/api/risk/models", headers=headers,
                               json={"kind": "behaviour", "name": "b", "note": "fit",
                                     "model": to_json(fitted)})  # fmt: skip
            assert made.status_code == 200, made.text
            ids.append(made.json()["model_id"])
        mid, lying = ids
        sent = client.post(f"/api/risk/models/{mid}/validate", headers=headers,
                           json={"note": "ok", "auc": 0.999})  # fmt: skip
        assert sent.status_code == 422, sent.text
        asked = {}
        for model_id in (lying, mid):
            queued = client.post(f"/api/risk/models/{model_id}/validate", headers=headers,
                                 json={"note": "ok"})  # fmt: skip
            assert queued.status_code == 202, queued.text
            assert queued.json()["created"] is True
            assert queued.json()["request"]["status"] == "queued"
            asked[model_id] = queued.json()["request"]["request_id"]
        again = client.post(f"/api/risk/models/{mid}/validate", headers=headers,
                            json={"note": "again"})  # fmt: skip
        assert again.status_code == 202 and again.json()["created"] is False
        assert again.json()["request"]["request_id"] == asked[mid]
        # nothing measured yet: the model is still a draft with no metrics
        pending = client.get(f"/api/risk/models/{mid}/validations", headers=headers).json()
        assert pending["status"] == "draft" and pending["items"][0]["status"] == "queued"
        assert _write(history, audits)[-1].action == "risk.model.validate_request"
        # the job (as the local operator), then the outcome through the API
        monkeypatch.setenv("POSTLOAN_DATABASE_URL", history)
        ran = CliRunner().invoke(make_app(), ["model", "run-validations"])
        assert ran.exit_code == 0, ran.output
        assert "band counts" in ran.output and "validated, out-of-time AUC" in ran.output
        refused = client.get(f"/api/risk/models/{lying}/validations", headers=headers).json()
        assert refused["status"] == "draft"
        assert refused["items"][0]["status"] == "failed"
        assert "band counts" in refused["items"][0]["error"]
        done = client.get(f"/api/risk/models/{mid}/validations", headers=headers).json()
        assert done["status"] == "validated" and done["items"][0]["status"] == "done"
        assert done["items"][0]["run_by"].startswith("cli:")
        # asked again once validated: refused at once, nothing queued
        late = client.post(f"/api/risk/models/{mid}/validate", headers=headers,
                           json={"note": "ok"})  # fmt: skip
        assert late.status_code == 409, late.text
    # the plain recomputation: the observations after the training window, scored
    oot = data.filter(pl.col("as_of") > last)
    scores = model.score(oot.to_pandas())
    expected = _pair_auc(scores, oot["bad"].to_numpy())
    stored = _write(history, lambda conn: conn.execute(
        select(risk_models).where(risk_models.c.model_id == mid)).one())  # fmt: skip
    validation, metrics = json.loads(stored.validation), json.loads(stored.metrics)
    assert validation["source"] == "store_history"
    assert validation["rows"] == oot.height and validation["bads"] == int(oot["bad"].sum())
    assert validation["auc"] == pytest.approx(expected, abs=1e-12)
    assert metrics["auc"] == pytest.approx(expected, abs=1e-12)
    assert done["items"][0]["validation"]["auc"] == validation["auc"]
    assert stored.validated_by == "rm_val" and stored.note == "ok"
    assert 0.999 not in metrics.values() and 0.999 not in validation.values()
    assert "0.999" not in stored.model_json
    assert json.loads(stored.model_json)["metrics"] == {}
    # audited: the request, the refusal with its reason, the validation in the requester's name
    trail = [(a.action, a.target_id, a.actor) for a in _write(history, audits)
             if a.target_id in (mid, lying)]  # fmt: skip
    assert trail == [("risk.model.validate_request", lying, "rm_val"),
                     ("risk.model.validate_request", mid, "rm_val"),
                     ("risk.model.validate_failed", lying, "rm_val"),
                     ("risk.model.validate", mid, "rm_val")]  # fmt: skip
