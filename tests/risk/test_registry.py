"""The model registry on real stores (SQLite, and PostgreSQL with the env var): the model id is
the content (a retrain on the same data is the same id), the lifecycle draft → validated →
approved → retired with its refusals, maker-checker on approval, one approved model per kind,
the audit trail, and the CLI commands in-process."""

# ruff: noqa: F811 — store fixtures imported below are requested by name.
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from postloan.access.tables import audit_log
from postloan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from postloan.modelling import FitParams, ScorecardModel, fit_scorecard
from postloan.modelling.model_dir import save_model
from postloan.policy import default_policy
from postloan.risk import registry
from postloan.risk.model_tables import risk_models
from postloan.store.db import engine_for
from tests.store.conftest import make_store, store_url  # noqa: F401

NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


def _data(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dpd = rng.integers(0, 60, n)
    ratio = rng.uniform(0, 1, n)
    risk = 0.04 * dpd + 2.0 * ratio - 3.0
    bad = (rng.uniform(0, 1, n) < 1 / (1 + np.exp(-risk))).astype(int)
    return pd.DataFrame({"worst_dpd": dpd, "payment_ratio": ratio, "bad": bad})


def _fit(frame: pd.DataFrame, oot: pd.DataFrame | None = None) -> ScorecardModel:
    model = fit_scorecard(frame, "bad", params=FitParams(seed=42, max_ratios=0),
                          data_window="2025-01..2025-12")  # fmt: skip
    if oot is not None:  # a fit that held out its latest months records how they scored
        measured = registry.measure(model, oot)
        model.metrics.update({f"oot_{k}": float(measured[k]) for k in ("auc", "ks", "gini")})
    return model


@pytest.fixture(scope="module")
def fitted() -> ScorecardModel:
    return _fit(_data(1), oot=_data(2))


def test_retraining_on_the_same_data_gives_the_same_model_id() -> None:
    first, again = _fit(_data(1)), _fit(_data(1))
    assert registry.model_id(first) == registry.model_id(again)
    assert registry.canonical_text(first) == registry.canonical_text(again)
    other = _fit(_data(3))
    assert registry.model_id(other) != registry.model_id(first)
    # the id is the SHA-256 of the canonical model.json, which parses back to the same model
    assert registry.model_id(registry.parse_model(registry.canonical_text(first))) == (
        registry.model_id(first)
    )
    # the file's metrics are claims, not content: forging them changes neither id nor text
    forged = replace(first, metrics={"auc": 0.999, "oot_auc": 0.999})
    assert registry.model_id(forged) == registry.model_id(first)
    assert "0.999" not in registry.canonical_text(forged)


def _audits(url: str, action: str) -> list[dict[str, object]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.action == action)).all()
    engine.dispose()
    return [{"actor": r.actor, "target": r.target_id} for r in rows]


def test_the_lifecycle_with_maker_checker(store_url: str, fitted: ScorecardModel) -> None:
    policy = default_policy()
    engine = engine_for(store_url)
    with engine.begin() as conn:
        done = registry.register(conn, fitted, "behaviour", "behaviour v1", "first fit",
                                 "alice", NOW)  # fmt: skip
        assert done.created and done.status == "draft"
        mid = done.model_id
        assert mid == registry.model_id(fitted)
        # the same content again: the same row, nothing written
        again = registry.register(conn, fitted, "behaviour", "another name", "refit", "bob", NOW)
        assert (again.model_id, again.created) == (mid, False)
        with pytest.raises(ConflictError):  # not another kind either
            registry.register(conn, fitted, "churn", "x", "x", "bob", NOW)
        assert registry.approved_model(conn, "behaviour") is None
        with pytest.raises(ConflictError):  # a draft is not approved
            registry.approve(conn, mid, "ok", "carol", NOW)
        with pytest.raises(ConflictError, match="training window"):
            # the file's window is no store history: its own oot_auc is not believed
            registry.validate(conn, policy, mid, "out-of-time fine", "alice", NOW)
        held = registry.measure(fitted, _data(2))
        evidence = registry.validate(conn, policy, mid, "out-of-time fine", "alice", NOW, held)
        assert evidence["source"] == "data"
        with pytest.raises(ConflictError):  # twice
            registry.validate(conn, policy, mid, "again", "alice", NOW)
        with pytest.raises(RefusedError):  # its registrant and validator may not approve it
            registry.approve(conn, mid, "mine", "alice", NOW)
        assert registry.approve(conn, mid, "committee 2026-07", "carol", NOW) is None
        found = registry.approved_model(conn, "behaviour")
        assert found is not None and found[0] == mid
        assert registry.model_id(found[1]) == mid  # the stored model.json is the model itself
        card = registry.describe(registry.row(conn, mid))
        assert card["status"] == "approved" and card["approved_by"] == "carol"
        assert card["features"] == fitted.features and card["seed"] == 42
        assert card["data_window"] == "2025-01..2025-12"
        # the registry's metrics are the ones it measured, never the file's
        assert card["metrics"]["auc"] == pytest.approx(held["auc"])
        assert "training_auc" not in card["metrics"]
        assert json.loads(registry.row(conn, mid).model_json)["metrics"] == {}
    engine.dispose()
    assert _audits(store_url, "risk.model.register") == [{"actor": "alice", "target": mid}]
    assert _audits(store_url, "risk.model.validate") == [{"actor": "alice", "target": mid}]
    assert _audits(store_url, "risk.model.approve") == [{"actor": "carol", "target": mid}]


def test_a_new_approval_retires_the_old_and_retired_never_scores(
    store_url: str, fitted: ScorecardModel
) -> None:
    policy = default_policy()
    second = _fit(_data(5), oot=_data(6))
    engine = engine_for(store_url)
    with engine.begin() as conn:
        ids = []
        for model in (fitted, second):
            mid = registry.register(conn, model, "behaviour", "b", "fit", "alice", NOW).model_id
            registry.validate(conn, policy, mid, "fine", "bob", NOW,
                              registry.measure(model, _data(2)))  # fmt: skip
            ids.append(mid)
        registry.approve(conn, ids[0], "first", "carol", NOW)
        assert registry.approve(conn, ids[1], "better", "carol", NOW) == ids[0]
        statuses = dict(conn.execute(select(risk_models.c.model_id, risk_models.c.status)).all())
        assert statuses == {ids[0]: "retired", ids[1]: "approved"}
        registry.retire(conn, ids[1], "drifted", "alice", NOW)
        assert registry.approved_model(conn, "behaviour") is None
        with pytest.raises(ConflictError):
            registry.retire(conn, ids[1], "again", "alice", NOW)
        with pytest.raises(ConflictError):  # a retired model is not approved again
            registry.approve(conn, ids[1], "back", "carol", NOW)
    engine.dispose()
    assert {a["target"] for a in _audits(store_url, "risk.model.retire")} == set(ids)


def test_validation_needs_out_of_time_evidence_above_the_policy_minimum(
    store_url: str,
) -> None:
    policy = default_policy()
    plain = _fit(_data(7))  # no out-of-time metrics recorded
    noise = _data(8).assign(bad=np.random.default_rng(9).integers(0, 2, 600))
    engine = engine_for(store_url)
    with engine.begin() as conn:
        mid = registry.register(conn, plain, "generic", "g", "fit", "alice", NOW).model_id
        with pytest.raises(ConflictError, match="held-out data"):
            registry.validate(conn, policy, mid, "ok", "bob", NOW)
        weak = registry.measure(plain, noise)  # a target unrelated to the inputs
        assert weak["auc"] < 0.6
        with pytest.raises(ConflictError, match="below the policy's minimum"):
            registry.validate(conn, policy, mid, "ok", "bob", NOW, weak)
        with pytest.raises(InvalidError):
            registry.validate(conn, policy, mid, "   ", "bob", NOW)
        good = registry.measure(plain, _data(10))
        assert good["rows"] == 600 and good["auc"] >= 0.65
        registry.validate(conn, policy, mid, "held-out 2026", "bob", NOW, good)
        stored = json.loads(registry.row(conn, mid).validation)
        assert stored["source"] == "data" and stored["auc"] == pytest.approx(good["auc"])
        with pytest.raises(NotFoundError):
            registry.validate(conn, policy, "0" * 64, "x", "bob", NOW)
        with pytest.raises(InvalidError):
            registry.register(conn, plain, "fancy", "g", "fit", "alice", NOW)
        assert registry.resolve(conn, mid[:12]) == mid
        with pytest.raises(InvalidError):
            registry.resolve(conn, "abc")
    engine.dispose()


def test_measure_equals_a_plain_reference(fitted: ScorecardModel) -> None:
    # AUC as the share of (bad, good) pairs where the bad scores lower (ties count half)
    held = _data(11, n=300)
    scores = fitted.score(held)
    bad, good = scores[held["bad"].to_numpy() == 1], scores[held["bad"].to_numpy() == 0]
    pairs = [(b < g) + 0.5 * (b == g) for b in bad for g in good]
    assert registry.measure(fitted, held)["auc"] == pytest.approx(sum(pairs) / len(pairs))


def test_the_cli_commands(
    store_url: str, fitted: ScorecardModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from postloan.cli.main import make_app

    monkeypatch.setenv("POSTLOAN_DATABASE_URL", store_url)
    folder = tmp_path / "m"
    save_model(fitted, folder)
    runner = CliRunner()
    app = make_app()
    out = runner.invoke(app, ["model", "register", "--model", str(folder), "--kind",
                              "behaviour", "--name", "bhv", "--note", "fit"])  # fmt: skip
    assert out.exit_code == 0, out.output
    mid = registry.model_id(fitted)
    assert f"registered: {mid} (draft)" in out.output
    listed = runner.invoke(app, ["model", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [m["model_id"] for m in json.loads(listed.output)] == [mid]
    held = tmp_path / "held.csv"
    _data(12).to_csv(held, index=False)
    ok = runner.invoke(app, ["model", "validate", mid[:12], "--note", "ok", "--data", str(held)])
    assert ok.exit_code == 0, ok.output
    # the local operator registered and validated: approving as the same caller is refused
    refused = runner.invoke(app, ["model", "approve", mid[:12], "--note", "ok"])
    assert refused.exit_code == 1 and "maker-checker" in refused.output
    report = runner.invoke(app, ["report", "models", "--model", mid[:12], "--json"])
    assert report.exit_code == 0, report.output
    pack = json.loads(report.output)
    assert pack["model"]["status"] == "validated"
    assert sum(b["training_rows"] for b in pack["bands"]) == fitted.n_rows
    text = runner.invoke(app, ["report", "models", "--model", mid[:12]])
    assert text.exit_code == 0 and "Model review" in text.output
