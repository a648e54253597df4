"""Issue 10, defect 8 — the CLI ignored a policy replaced through the API: `PUT /api/policy`
wrote `<data dir>/policy.toml` while `postloan run` read `POSTLOAN_POLICY` or the packaged
default, so two runs of one date were stored under different policies. Now every entry point
takes the policy in force from one place (`postloan.policy.loader.policy_in_force`), and
`postloan policy show` prints its version and where it came from."""

# ruff: noqa: F811 — the store fixtures imported below are requested by name as parameters.
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.roles import Role
from postloan.access.tokens import issue_token
from postloan.access.users import create_user
from postloan.api.app import create_app
from postloan.contract import write_contract_files
from postloan.policy import POLICY_ENV_VAR, default_policy, load_policy
from postloan.policy.loader import PACKAGED_DEFAULT, policy_in_force
from postloan.store.config import DATA_DIR_VAR, DATABASE_URL_VAR
from postloan.store.db import engine_for
from postloan.store.schema import runs
from postloan.synth import generate
from tests.store.conftest import AS_OF, import_all, make_store, store_url  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _postloan(data: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", DATA_DIR_VAR: str(data),
           DATABASE_URL_VAR: url}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "postloan", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv(DATA_DIR_VAR, str(data))
    monkeypatch.delenv(POLICY_ENV_VAR, raising=False)
    return data


def test_a_policy_replaced_through_the_api_is_the_one_the_cli_runs_under(
    store_url: str, data_dir: Path, tmp_path: Path
) -> None:
    write_contract_files(generate(accounts=150, seed=5, as_of=AS_OF), tmp_path / "f", fmt="csv")
    import_all(store_url, tmp_path / "f")
    engine = engine_for(store_url)
    with engine.begin() as conn:
        admin = create_user(conn, username="admin1", password="correct horse battery",
                            role=Role.ADMIN, now=datetime.now(UTC))  # fmt: skip
        token = issue_token(conn, admin.user_id, "api", datetime.now(UTC))
    engine.dispose()

    replaced = default_policy().model_dump(mode="json")
    replaced["classification"]["technical_grace_days"] = 3
    with TestClient(create_app(store_url), raise_server_exceptions=False) as client:
        put = client.put("/api/policy", json=replaced, headers={"Authorization": f"Bearer {token}"})
    assert put.status_code == 200, put.text
    version = put.json()["version"]
    assert version != default_policy().version
    assert put.json()["source"] == str(data_dir / "policy.toml")

    shown = _postloan(data_dir, store_url, "policy", "show")
    assert shown.returncode == 0, shown.stderr
    assert f"# version: {version}" in shown.stdout
    assert f"# source: {data_dir / 'policy.toml'}" in shown.stdout

    run = _postloan(data_dir, store_url, "run", "--as-of", AS_OF.isoformat())
    assert run.returncode == 0, run.stderr
    engine = engine_for(store_url)
    with engine.connect() as conn:
        recorded = conn.execute(select(runs.c.policy_version)).scalars().all()
    engine.dispose()
    assert recorded == [version]


def test_where_the_policy_in_force_comes_from(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert policy_in_force().source == PACKAGED_DEFAULT
    assert policy_in_force().version == default_policy().version
    text = (ROOT / "src/postloan/policy/default_policy.toml").read_text(encoding="utf-8")
    (data_dir / "policy.toml").write_text(
        text.replace("technical_grace_days = 7", "technical_grace_days = 2"), encoding="utf-8"
    )
    in_force = policy_in_force()
    assert in_force.source == str(data_dir / "policy.toml")
    assert in_force.policy.classification.technical_grace_days == 2
    assert in_force.version == load_policy(data_dir / "policy.toml").version
    named = tmp_path / "named.toml"
    named.write_text(text, encoding="utf-8")
    monkeypatch.setenv(POLICY_ENV_VAR, str(named))  # POSTLOAN_POLICY names the file in force
    assert policy_in_force().source == str(named)
    assert policy_in_force().version == default_policy().version
    os.utime(named, ns=(0, 0))  # another stamp: read again, the same content
    assert policy_in_force().version == default_policy().version
