"""A decision tree into the policy (LY-3), maker-checker, over the API on SQLite and
PostgreSQL: proposed by one risk manager, refused to its proposer and to roles without
`tiering.adopt`, shown with its what-if, approved by a second risk manager — which writes the
new policy version (file, `policy_versions`, audit) — and then applied by the daily run: a
customer the adopted rules label npl is at least the policy's `npl_floor`. A proposal against
a policy since replaced is refused. The what-if route validates its candidate (422)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access import create_user
from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.api.app import create_app
from postloan.policy import default_policy, load_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import policy_versions
from postloan.tiering.rules.tree import adopted_rules, apply_rules, features_of
from postloan.tiering.tables import tier_assignments
from tests.tiering.conftest import AS_OF, DATES, filled

POLICY = default_policy()
RANK = {"premium": 0, "low": 1, "medium": 2, "high": 3}
ROLES = {"risk1": "risk_manager", "risk2": "risk_manager", "co": "credit_officer",
         "aud": "auditor", "boss": "manager"}  # fmt: skip


def test_tree_adoption(make_store: Any, backend: str, tier_files: Path, tmp_path: Path) -> None:
    url = filled(make_store, backend, tier_files)
    run_dates(url, DATES, POLICY)
    engine = engine_for(url)
    headers = {}
    with engine.begin() as conn:
        for name, role in ROLES.items():
            user = create_user(conn, username=name, password="correct horse battery",
                               role=role, branch_id="B001" if name == "co" else None,
                               now=datetime.now(UTC))  # fmt: skip
            token = issue_token(conn, user.user_id, "api", datetime.now(UTC))
            headers[name] = {"Authorization": f"Bearer {token}"}
    engine.dispose()
    policy_file = tmp_path / "policy.toml"
    window = {"from": DATES[0].isoformat(), "to": AS_OF.isoformat()}
    with TestClient(create_app(url, policy_path=policy_file)) as client:
        body = {**window, "note": "NPL next month from DPD and times late", "max_depth": 3}
        for name in ("co", "aud", "boss"):  # no tiering.adopt
            assert client.post("/api/tiering/tree/proposals", json=body,
                               headers=headers[name]).status_code == 403  # fmt: skip
        made = client.post("/api/tiering/tree/proposals", json=body, headers=headers["risk1"])
        assert made.status_code == 201, made.text
        proposal = made.json()
        assert proposal["rules"] and proposal["base_version"] == POLICY.version
        second = client.post("/api/tiering/tree/proposals", json=body, headers=headers["risk1"])
        pid, stale = proposal["proposal_id"], second.json()["proposal_id"]
        decision = {"approve": True, "note": "checked the what-if"}
        own = client.post(f"/api/tiering/tree/proposals/{pid}/decision", json=decision,
                          headers=headers["risk1"])  # fmt: skip
        assert own.status_code == 403  # maker-checker
        shown = client.get(f"/api/tiering/tree/proposals/{pid}", headers=headers["boss"])
        assert shown.status_code == 200
        what_if = shown.json()["what_if"]
        assert [m["as_of"] for m in what_if["moved"]] == [d.isoformat() for d in DATES]
        assert not policy_file.exists()  # nothing adopted yet
        done = client.post(f"/api/tiering/tree/proposals/{pid}/decision", json=decision,
                           headers=headers["risk2"])  # fmt: skip
        assert done.status_code == 200, done.text
        version = done.json()["version"]
        again = client.post(f"/api/tiering/tree/proposals/{pid}/decision", json=decision,
                            headers=headers["risk2"])  # fmt: skip
        assert again.status_code == 409
        # proposed against the policy the approval just replaced: refused
        late = client.post(f"/api/tiering/tree/proposals/{stale}/decision", json=decision,
                           headers=headers["risk2"])  # fmt: skip
        assert late.status_code == 409
        listed = client.get("/api/tiering/tree/proposals", headers=headers["aud"]).json()
        assert [(p["proposal_id"], p["status"]) for p in listed] == [(stale, "proposed"),
                                                                     (pid, "adopted")]  # fmt: skip
        # the what-if validates its candidate
        bad = POLICY.model_dump(mode="json")["tiering"]
        bad["credit"]["poor_min_dpd"] = 0
        refused = client.post("/api/tiering/whatif", json={**window, "tiering": bad},
                              headers=headers["risk1"])  # fmt: skip
        assert refused.status_code == 422
        assert client.post("/api/tiering/whatif", json={**window, "tiering": bad},
                           headers=headers["co"]).status_code == 403  # fmt: skip
    adopted = load_policy(policy_file)
    assert adopted.version == version != POLICY.version
    assert [r.model_dump() for r in adopted.tiering.tree.rules] == proposal["rules"]
    engine = engine_for(url)
    with engine.connect() as conn:
        assert conn.execute(select(policy_versions.c.version)
                            .where(policy_versions.c.version == version)).first()  # fmt: skip
        actions = [r[0] for r in conn.execute(select(audit_log.c.action))]
    engine.dispose()
    assert actions.count("tiering.tree.propose") == 2 and "tiering.tree.adopted" in actions
    # the daily run under the adopted policy: the tree's npl customers are at least the floor
    run_dates(url, [AS_OF], adopted)
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = pl.DataFrame([dict(r._mapping) for r in conn.execute(
            select(tier_assignments).where(tier_assignments.c.as_of == AS_OF))])  # fmt: skip
    engine.dispose()
    labels = apply_rules(adopted_rules(adopted.tiering.tree), features_of(rows))
    floor = RANK[adopted.tiering.tree.npl_floor]
    for qualified, label in zip(rows["qualified_tier"], labels, strict=True):
        if label == "npl":
            assert RANK[qualified] >= floor
    assert (labels == "npl").sum() > 0, "the fitted tree labels some customers npl"
