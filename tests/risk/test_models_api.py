"""The model registry's API on the API test world (SQLite, and PostgreSQL with the env var):
register (the same content twice is one model; the file's metrics are dropped), validation
never takes a client's metrics (a body carrying them is refused; a model with no store history
to be measured on answers 409), approve by a second risk manager only (403 for the one who
registered/validated it), retire; bad input answers 4xx, never 500; the session cookie
needs the CSRF token."""

# ruff: noqa: F811 — the API world's fixtures imported below are requested by name.
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from postloan.access.roles import Role
from postloan.access.tokens import issue_token
from postloan.access.users import create_user
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.modelling import FitParams, fit_scorecard
from postloan.modelling.model_dir import to_json
from postloan.risk import registry
from postloan.store.db import engine_for
from tests.api.conftest import PASSWORD, World, app, client, world  # noqa: F401


def _model_json(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, 400)
    frame = pd.DataFrame({"dpd": x, "bad": (rng.uniform(0, 70, 400) < x).astype(int)})
    model = fit_scorecard(frame, "bad", params=FitParams(max_ratios=0))
    held = _held(seed)
    measured = registry.measure(model, held)
    model.metrics.update({f"oot_{k}": float(measured[k]) for k in ("auc", "ks", "gini")})
    return to_json(model)


def _held(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1000)
    x = rng.integers(0, 60, 400)
    return pd.DataFrame({"dpd": x, "bad": (rng.uniform(0, 70, 400) < x).astype(int)})


def _pair_auc(scores: Any, bad: Any) -> float:
    # plain AUC: the share of (bad, good) pairs where the bad scores lower, ties half
    flags = np.asarray(bad)
    bads, goods = scores[flags == 1], scores[flags == 0]
    wins = (bads[:, None] < goods[None, :]).sum() + 0.5 * (bads[:, None] == goods[None, :]).sum()
    return float(wins / (len(bads) * len(goods)))


def effective_default() -> Any:
    from postloan.policy import default_policy

    return default_policy()


def _second_risk_manager(world: World) -> dict[str, str]:
    if "risk_manager2" not in world.tokens:
        engine = engine_for(world.url)
        with engine.begin() as conn:
            user = create_user(conn, username="risk_manager2", password=PASSWORD,
                               role=Role.RISK_MANAGER, now=datetime.now(UTC))  # fmt: skip
            world.tokens["risk_manager2"] = issue_token(conn, user.user_id, "api",
                                                        datetime.now(UTC))  # fmt: skip
        engine.dispose()
    return world.headers("risk_manager2")


def test_the_lifecycle_through_the_api(client: TestClient, world: World) -> None:
    risk = world.headers("risk_manager")
    doc = _model_json(21)
    doc["metrics"].update(auc=0.999, oot_auc=0.999, oot_ks=0.99)  # forged by the client
    body = {"kind": "behaviour", "name": "behaviour 2026", "note": "fit on 2025", "model": doc}
    made = client.post("/api/risk/models", json=body, headers=risk)
    assert made.status_code == 200, made.text
    mid = made.json()["model_id"]
    assert made.json() == {"model_id": mid, "status": "draft", "created": True}
    assert mid == registry.model_id(registry.parse_model(json.dumps(doc)))
    again = client.post("/api/risk/models", json={**body, "name": "again"}, headers=risk)
    assert again.json() == {"model_id": mid, "status": "draft", "created": False}
    one = client.get(f"/api/risk/models/{mid}", headers=world.headers("auditor"))
    assert one.status_code == 200
    assert one.json()["model"]["characteristics"][0]["name"] == "dpd"
    assert one.json()["status"] == "draft" and one.json()["registered_by"] == "risk_manager"
    # the forged figures are nowhere in the registry
    assert one.json()["metrics"] == {} and one.json()["model"]["metrics"] == {}
    note = {"note": "reviewed"}
    assert (
        client.post(
            f"/api/risk/models/{mid}/approve", json=note, headers=_second_risk_manager(world)
        ).status_code
        == 409
    )  # a draft
    forged = client.post(f"/api/risk/models/{mid}/validate",
                         json={**note, "auc": 0.999, "validation": {"auc": 0.999}},
                         headers=risk)  # fmt: skip
    assert forged.status_code == 422, forged.text
    # the API measures on the store's history only: this world has no training window for it
    unmeasured = client.post(f"/api/risk/models/{mid}/validate", json=note, headers=risk)
    assert unmeasured.status_code == 409 and "training window" in unmeasured.text
    assert client.get(f"/api/risk/models/{mid}", headers=risk).json()["status"] == "draft"
    # validated on held-out data measured by the registry (what `model validate --data` does)
    held = _held(21)
    engine = engine_for(world.url)
    with engine.begin() as conn:
        model = registry.stored_model(registry.row(conn, mid))
        measured = registry.measure(model, held)
        registry.validate(conn, effective_default(), mid, "held out", "risk_manager",
                          datetime.now(UTC), measured)  # fmt: skip
    engine.dispose()
    card = client.get(f"/api/risk/models/{mid}", headers=risk).json()
    assert card["validation"]["auc"] == measured["auc"] != 0.999
    assert card["metrics"]["auc"] == pytest.approx(_pair_auc(model.score(held), held["bad"]))
    own = client.post(f"/api/risk/models/{mid}/approve", json=note, headers=risk)
    assert own.status_code == 403 and "maker-checker" in own.text
    approved = client.post(f"/api/risk/models/{mid}/approve", json=note,
                           headers=_second_risk_manager(world))  # fmt: skip
    assert approved.status_code == 200, approved.text
    listed = client.get("/api/risk/models?kind=behaviour&status=approved", headers=risk).json()
    assert [m["model_id"] for m in listed["items"]] == [mid]
    assert listed["items"][0]["approved_by"] == "risk_manager2"
    retired = client.post(f"/api/risk/models/{mid}/retire", json=note, headers=risk)
    assert retired.status_code == 200
    assert client.post(f"/api/risk/models/{mid}/retire", json=note,
                       headers=risk).status_code == 409  # fmt: skip


def test_bad_input_is_refused_not_a_500(client: TestClient, world: World) -> None:
    risk = world.headers("risk_manager")
    for body in ({"kind": "behaviour", "name": "x", "note": "x", "model": {"format": "nope"}},
                 {"kind": "lottery", "name": "x", "note": "x", "model": {}},
                 {"kind": "generic", "name": "", "note": "x", "model": {}}):  # fmt: skip
        r = client.post("/api/risk/models", json=body, headers=risk)
        assert r.status_code == 422, r.text
    assert client.get("/api/risk/models/nothex", headers=risk).status_code == 422
    assert client.get(f"/api/risk/models/{'a' * 64}", headers=risk).status_code == 404
    assert client.get("/api/risk/models?status=live", headers=risk).status_code == 422
    doc = _model_json(22)
    doc["metrics"].pop("oot_auc")
    mid = client.post(
        "/api/risk/models",
        json={"kind": "generic", "name": "g", "note": "g", "model": doc},
        headers=risk,
    ).json()["model_id"]
    no_oot = client.post(f"/api/risk/models/{mid}/validate", json={"note": "x"}, headers=risk)
    assert no_oot.status_code == 409 and "held-out data" in no_oot.text


def test_a_cookie_write_needs_the_csrf_token(app: Any, world: World) -> None:
    engine = engine_for(world.url)
    with engine.begin() as conn:
        session = issue_token(conn, world.users["risk_manager"].user_id, "session",
                              datetime.now(UTC))  # fmt: skip
    engine.dispose()
    body = {"kind": "churn", "name": "churn", "note": "fit", "model": _model_json(23)}
    with TestClient(app, raise_server_exceptions=False) as browser:
        browser.cookies.set(SESSION_COOKIE, session)
        forged = browser.post("/api/risk/models", json=body)
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_failed"
        ok = browser.post("/api/risk/models", json=body,
                          headers={CSRF_HEADER: csrf_token(app, session)})  # fmt: skip
        assert ok.status_code == 200, ok.text
