"""Runs (background, progress, one at a time), imports (upload, rejects, audit), policy
replacement (file, version, audit)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.access.users import create_user
from postloan.api.app import create_app
from postloan.contract import write_contract_files
from postloan.policy import load_policy
from postloan.store.db import engine_for
from postloan.store.schema import policy_versions
from postloan.synth import generate
from tests.api.conftest import AS_OF, PASSWORD, World


def _wait(client: TestClient, run_id: int, headers: dict[str, str]) -> dict[str, Any]:
    for _ in range(600):
        run = client.get(f"/api/runs/{run_id}", headers=headers).json()
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError("run did not finish")


def test_daily_run_and_history(client: TestClient, world: World) -> None:
    h = world.headers("risk_manager")
    r = client.post("/api/runs", headers=h, json={"as_of": AS_OF.isoformat()})
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    run = _wait(client, run_id, h)
    assert run["status"] == "succeeded", run
    assert run["progress"] == {"dates_done": 1, "dates_total": 1}
    assert run["rows"] > 0 and run["date_from"] == run["date_to"] == AS_OF.isoformat()
    listed = client.get("/api/runs", headers=h, params={"page_size": 1}).json()
    assert listed["items"][0]["run_id"] == run_id and listed["total"] >= 2


def test_backfill_progress_and_one_run_at_a_time(world: World, tmp_path: Path) -> None:
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    h = world.headers("admin")
    with TestClient(app) as client:
        r = client.post("/api/runs", headers=h, json={"from": "2026-05-21", "to": "2026-06-30"})
        assert r.status_code == 202 and r.json()["dates"] == 41
        run_id = r.json()["run_id"]
        busy = client.post("/api/runs", headers=h, json={"as_of": "2026-06-30"})
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"
        seen = []
        for _ in range(1200):
            run = client.get(f"/api/runs/{run_id}", headers=h).json()
            seen.append(run["progress"]["dates_done"])
            assert run["progress"]["dates_total"] == 41
            if run["status"] != "running":
                break
            time.sleep(0.05)
        assert run["status"] == "succeeded", run
        assert seen == sorted(seen) and seen[-1] == 41
        assert run["rows"] > 0


@pytest.fixture
def fresh(store_url: str) -> dict[str, Any]:
    """An empty store with an admin and a risk manager."""
    engine = engine_for(store_url)
    with engine.begin() as conn:
        admin = create_user(conn, username="admin", password=PASSWORD, role="admin")
        clerk = create_user(conn, username="clerk", password=PASSWORD, role="credit_officer",
                            branch_id="BR01")  # fmt: skip
        tokens = {
            "admin": issue_token(conn, admin.user_id, "api", datetime.now(UTC)),
            "clerk": issue_token(conn, clerk.user_id, "api", datetime.now(UTC)),
        }
    engine.dispose()
    return {"url": store_url, "tokens": tokens}


def test_import_upload(fresh: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "files"
    write_contract_files(generate(accounts=30, seed=3, as_of=AS_OF), folder, fmt="csv")
    app = create_app(fresh["url"], policy_path=tmp_path / "policy.toml")
    h = {"Authorization": f"Bearer {fresh['tokens']['admin']}"}
    content = (folder / "customers.csv").read_bytes()
    with TestClient(app) as client:
        r = client.post("/api/imports/customers", headers=h,
                        files={"file": ("customers.csv", content, "text/csv")})  # fmt: skip
        assert r.status_code == 200, r.text
        first = r.json()
        assert first["accepted"] == first["rows"] > 0 and first["rejected"] == 0
        files = {"file": ("customers.csv", content, "text/csv")}
        again = client.post("/api/imports/customers", headers=h, files=files).json()
        assert again["accepted"] == 0 and again["unchanged"] == first["rows"]
        # loans referring to an unknown customer are rejected with reasons
        loans = (folder / "loans.csv").read_text().splitlines()
        header, row = loans[0], loans[1].split(",")
        row[header.split(",").index("customer_id")] = "NO-SUCH-CUSTOMER"
        bad = "\n".join([header, ",".join(row)]) + "\n"
        files = {"file": ("loans.csv", bad.encode(), "text/csv")}
        rejected = client.post("/api/imports/loans", headers=h, files=files).json()
        assert rejected["rejected"] == 1 and rejected["accepted"] == 0
        reject = rejected["rejects"][0]
        assert reject["reject_column"] == "customer_id" and reject["reject_reason"]
        wrong = client.post("/api/imports/loans", headers=h,
                            files={"file": ("loans.txt", b"x", "text/plain")})  # fmt: skip
        assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "file"
        garbage = client.post("/api/imports/payments", headers=h,
                              files={"file": ("p.parquet", b"not parquet", "x/y")})  # fmt: skip
        assert garbage.status_code == 400
        kind = client.post("/api/imports/nonsense", headers=h,
                           files={"file": ("x.csv", b"a\n", "text/csv")})  # fmt: skip
        assert kind.status_code == 422 and kind.json()["error"]["field"] == "kind"
        clerk = {"Authorization": f"Bearer {fresh['tokens']['clerk']}"}
        refused = client.post("/api/imports/customers", headers=clerk,
                              files={"file": ("customers.csv", content, "text/csv")})  # fmt: skip
        assert refused.status_code == 403
    engine = engine_for(fresh["url"])
    with engine.connect() as conn:
        actions = conn.execute(select(audit_log.c.action, audit_log.c.target_id)).all()
    engine.dispose()
    assert [a for a in actions if a.action == "import.run"][:1] == [("import.run", "customers")]


def test_policy_replace(fresh: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "data" / "policy.toml"
    app = create_app(fresh["url"], policy_path=path)
    h = {"Authorization": f"Bearer {fresh['tokens']['admin']}"}
    with TestClient(app) as client:
        current = client.get("/api/policy", headers=h).json()
        assert current["source"] == "default"
        policy = current["policy"]
        policy["classification"]["technical_grace_days"] = 5
        r = client.put("/api/policy", headers=h, json=policy)
        assert r.status_code == 200, r.text
        new = r.json()
        assert new["version"] != current["version"]
        assert load_policy(path).version == new["version"]
        assert client.get("/api/policy", headers=h).json()["version"] == new["version"]
        clerk = {"Authorization": f"Bearer {fresh['tokens']['clerk']}"}
        assert client.put("/api/policy", headers=clerk, json=policy).status_code == 403
    engine = engine_for(fresh["url"])
    with engine.connect() as conn:
        versions = conn.execute(select(policy_versions.c.version)).scalars().all()
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "policy.replace")).one()
    engine.dispose()
    assert new["version"] in versions
    assert entry.target_id == new["version"] and current["version"] in entry.detail
