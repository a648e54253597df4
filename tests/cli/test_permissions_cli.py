"""The permission matrix on the command line: every role × every store command.

A signed-in caller (`postloan --as USER` / POSTLOAN_USER) may run a command only when their
role holds its action with scope *all* (access.permissions.COMMANDS); otherwise exit 3 with the
role and action named, and nothing happens. The audit log names the signed-in user; failed
sign-ins are audited too. Without a user the caller is the local operator.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from postloan.access.permissions import COMMANDS, Action, Scope, all_commands, scope_for
from postloan.access.roles import Role
from postloan.access.tables import audit_log, users
from postloan.access.users import create_user
from postloan.cli.main import app
from postloan.cli.operator import authorize
from postloan.collections.compliance import compliance_report
from postloan.collections.kpis import collection_kpis
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.policy.loader import dump_policy_toml
from postloan.store.db import engine_for, ready
from postloan.synth import generate

AS_OF = date(2026, 6, 30)
PASSWORD = "correct horse battery"
runner = CliRunner()


@dataclass
class Store:
    data: Path
    files: Path
    url: str

    def env(self, username: str | None = None, password: str = PASSWORD) -> dict[str, str]:
        env = {"POSTLOAN_DATA_DIR": str(self.data), "POSTLOAN_CLI_REQUIRE_LOGIN": ""}
        env |= {"POSTLOAN_USER": username or "", "POSTLOAN_PASSWORD": password}
        return env

    def audit(self) -> list[tuple[str, str]]:
        engine = engine_for(self.url)
        with engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        engine.dispose()
        return [(r.actor, r.action) for r in rows]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("cli-permissions")
    data, files = root / "data", root / "files"
    data.mkdir()
    write_contract_files(generate(accounts=30, seed=3, as_of=AS_OF), files, fmt="csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("POSTLOAN_DATABASE_URL", raising=False)
        mp.setenv("POSTLOAN_DATA_DIR", str(data))
        url = ready()
        engine = engine_for(url)
        with engine.begin() as conn:
            for role in Role:
                create_user(
                    conn, username=role.value, password=PASSWORD, role=role,
                    branch_id="BR01", now=datetime.now(UTC),
                )  # fmt: skip
            create_user(  # what `user disable` and `user reset-password` act on
                conn, username="target", password=PASSWORD, role=Role.COLLECTOR,
                now=datetime.now(UTC),
            )  # fmt: skip
        engine.dispose()
        made = Store(data, files, url)
        for kind in ("customers", "loans", "cards", "card_statements", "payments"):
            path = files / f"{kind}.csv"
            if path.exists():
                result = invoke(made, None, "import", kind.replace("_", "-"), str(path))
                assert result.exit_code == 0, result.output
        assert invoke(made, None, "run", "--as-of", AS_OF.isoformat()).exit_code == 0
        yield made


def invoke(store: Store, username: str | None, *args: str, **env: str) -> Result:
    return runner.invoke(app, list(args), env={**store.env(username), **env})


def _commands(store: Store, role: str) -> dict[str, tuple[str, list[str]]]:
    """Every store command (serve and demo: see below) -> (its COMMANDS entry, arguments)."""
    out = store.data / "out"
    d = AS_OF.isoformat()
    user_cmd = "user create|disable|reset-password|list"
    new = ["--username", f"new-{role}", "--role", "collector", "--branch", "BR01",
           "--password", "a long password"]  # fmt: skip
    return {
        "db upgrade": ("db upgrade", ["db", "upgrade"]),
        "import": ("import", ["import", "payments", str(store.files / "payments.csv")]),
        # no Spark output there: allowed roles get exit 1 (refused, nothing written)
        "import account-status": (
            "import account-status",
            ["import", "account-status", str(out / "no-spark-output")],
        ),
        "run": ("run", ["run", "--as-of", d]),
        "runs list": ("runs list", ["runs", "list"]),
        # a date never stored: allowed roles get exit 2 (nothing to delete), nothing changes
        "runs delete-date": ("runs delete-date", ["runs", "delete-date", "--as-of", "2000-01-01"]),
        "export customers": (
            "export customers|events",
            ["export", "customers", "--out", str(out / f"{role}.csv")],
        ),
        "export account-status": (
            "export account-status|loans|…",
            ["export", "account-status", "--as-of", d, "--out", str(out / f"{role}-s.csv")],
        ),
        "user create": (user_cmd, ["user", "create", *new]),
        "user reset-password": (
            user_cmd,
            ["user", "reset-password", "target", "--password", "another long one"],
        ),
        "user disable": (user_cmd, ["user", "disable", "target"]),
        "user list": (user_cmd, ["user", "list"]),
        "audit verify": ("audit verify|anchor", ["audit", "verify"]),
        "audit anchor": ("audit verify|anchor", ["audit", "anchor"]),
        "report compliance": (
            "report compliance|collections",
            ["report", "compliance", "--as-of", d, "--json"],
        ),
        "report collections": (
            "report compliance|collections",
            ["report", "collections", "--from", d, "--to", d, "--json"],
        ),
        "report churn": ("report churn", ["report", "churn", "--from", d, "--to", d, "--json"]),
        "export churn": (
            "export churn",
            ["export", "churn", "--as-of", d, "--out", str(out / f"{role}-churn.csv")],
        ),
        "report warnings": (
            "report warnings",
            ["report", "warnings", "--from", d, "--to", d, "--json"],
        ),
        "report tiers": ("report tiers", ["report", "tiers", "--from", d, "--to", d, "--json"]),
        "report complaints": (
            "report complaints",
            ["report", "complaints", "--from", d, "--to", d, "--json"],
        ),
        "report satisfaction": (
            "report satisfaction",
            ["report", "satisfaction", "--from", d, "--to", d, "--json"],
        ),
        "export tiers": (
            "export tiers",
            ["export", "tiers", "--as-of", d, "--out", str(out / f"{role}-tiers.csv")],
        ),
        "report models": ("report models", ["report", "models", "--json"]),
        "report pack": ("report pack", ["report", "pack", "--from", d, "--to", d, "--json"]),
        "whatif": (
            "whatif",
            ["whatif", "--policy", str(_candidate(store)), "--from", d, "--to", d],
        ),
        "model list": ("model list", ["model", "list", "--json"]),
        "model register": (
            "model register",
            [
                "model",
                "register",
                "--model",
                str(_model_dir(store)),
                "--kind",
                "generic",
                "--name",
                "matrix",
                "--note",
                "permission matrix",
            ],
        ),
        # an id never registered: allowed roles get exit 1 (not found), nothing changes
        **{
            f"model {step}": (f"model {step}", ["model", step, "00000000", "--note", "x"])
            for step in ("validate", "approve", "retire")
        },
        # no request waits: allowed roles get exit 0, nothing is written
        "model run-validations": ("model run-validations", ["model", "run-validations"]),
        # one stored date: no outcome is known, allowed roles get exit 1, nothing is written
        **{
            f"model {fit}": (f"model {fit}", ["model", fit, "--out", str(out / f"{role}-{fit}")])
            for fit in ("fit-behaviour", "fit-churn")
        },
    }


def _model_dir(store: Store) -> Path:
    """A fitted model.json to register (once per store)."""
    folder = store.data / "model"
    if not (folder / "model.json").exists():
        import numpy as np
        import pandas as pd

        from postloan.modelling import FitParams, fit_scorecard
        from postloan.modelling.model_dir import save_model

        rng = np.random.default_rng(0)
        x = rng.integers(0, 60, 300)
        frame = pd.DataFrame({"x": x, "bad": (rng.uniform(0, 60, 300) < x).astype(int)})
        save_model(fit_scorecard(frame, "bad", params=FitParams(max_ratios=0)), folder)
    return folder


def _candidate(store: Store) -> Path:
    """A candidate policy file for `postloan whatif` (the default policy)."""
    path = store.data / "candidate.toml"
    if not path.exists():
        path.write_text(dump_policy_toml(default_policy()), encoding="utf-8")
    return path


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_role_every_command(store: Store, role: str) -> None:
    commands = _commands(store, role)
    every = all_commands()  # the core's and the business areas' (collections: report …)
    assert {entry for entry, _ in commands.values()} | {"serve", "demo"} == set(every)
    for command, (entry, args) in commands.items():
        action = every[entry]
        allowed = scope_for(role, action) == Scope.ALL
        before = len(store.audit())
        result = invoke(store, role, *args)
        if allowed:
            # a report exits 1 when it finds something to act on
            ok = (0, 1) if command.startswith("report") else (0,)
            ok = (2,) if command == "runs delete-date" else ok
            ok = (1,) if command == "import account-status" else ok
            ok = (1,) if command.startswith("model ") and command not in (
                "model list", "model register", "model run-validations") else ok  # fmt: skip
            assert result.exit_code in ok, (role, command, result.output)
        else:
            assert result.exit_code == 3, (role, command, result.output)
            assert f"role {role} may not {action}" in result.output
            # refused: the only new audit entry is the sign-in itself
            assert store.audit()[before:] == [(role, "auth.login")]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_operator_commands_need_store_admin(store: Store, role: str) -> None:
    """`serve` and `demo` (which replaces the store) are the admin's; refused before anything
    happens — the store is intact afterwards."""
    engine = engine_for(store.url)
    with engine.connect() as conn:
        users_before = conn.execute(select(func.count()).select_from(users)).scalar()
    engine.dispose()
    allowed = scope_for(role, Action.STORE_ADMIN) == Scope.ALL
    for args in (["serve", "--port", "1"], ["demo", "--customers", "10", "--no-serve"]):
        if allowed:
            continue  # would serve forever / replace the shared store: checked below
        result = invoke(store, role, *args)
        assert result.exit_code == 3, (role, args, result.output)
        assert f"may not {Action.STORE_ADMIN}" in result.output
    engine = engine_for(store.url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar() == users_before
    engine.dispose()


def test_admin_may_serve_and_build_the_demo(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in store.env("admin").items():
        monkeypatch.setenv(key, value)
    for command in ("serve", "demo"):
        caller = authorize(store.url, COMMANDS[command], command)
        assert caller.user is not None and caller.actor == "admin"


def test_signed_in_commands_are_audited_as_the_user(store: Store) -> None:
    before = len(store.audit())
    result = runner.invoke(
        app, ["--as", "risk_manager", "run", "--as-of", AS_OF.isoformat()], env=store.env(None)
    )
    assert result.exit_code == 0, result.output
    assert store.audit()[before:] == [("risk_manager", "auth.login"), ("risk_manager", "run.start")]


def test_wrong_password_is_refused_audited_and_counted(store: Store) -> None:
    engine = engine_for(store.url)
    with engine.begin() as conn:
        create_user(
            conn, username="guess-target", password=PASSWORD, role=Role.ADMIN,
            now=datetime.now(UTC),
        )  # fmt: skip
    before = len(store.audit())
    result = invoke(store, "guess-target", "user", "list", POSTLOAN_PASSWORD="wrong password")
    assert result.exit_code == 3 and "sign-in refused for guess-target" in result.output
    assert store.audit()[before:] == [("anonymous", "auth.login_failed")]
    with engine.connect() as conn:
        failed = conn.execute(
            select(users.c.failed_attempts).where(users.c.username == "guess-target")
        ).scalar()
    engine.dispose()
    assert failed == 1


def test_local_operator_and_required_login(store: Store) -> None:
    before = len(store.audit())
    assert invoke(store, None, "run", "--as-of", AS_OF.isoformat()).exit_code == 0
    assert store.audit()[before:] == [(f"cli:{getpass.getuser()}", "run.start")]
    refused = invoke(store, None, "user", "list", POSTLOAN_CLI_REQUIRE_LOGIN="1")
    assert refused.exit_code == 3 and "sign in first" in refused.output
    allowed = invoke(store, "admin", "user", "list", POSTLOAN_CLI_REQUIRE_LOGIN="1")
    assert allowed.exit_code == 0, allowed.output


def test_report_compliance_prints_the_report(store: Store) -> None:
    result = invoke(store, None, "report", "compliance", "--json")
    engine = engine_for(store.url)
    with engine.connect() as conn:
        expected = compliance_report(conn, AS_OF, default_policy())
    engine.dispose()
    printed = json.loads(result.stdout)
    assert printed["week_ending"] == AS_OF.isoformat()  # the latest run by default
    assert [r["case_id"] for r in printed["below_floor"]] == [
        r["case_id"] for r in expected.below_floor
    ]
    assert result.exit_code == (1 if expected.below_floor else 0)
    text = invoke(store, None, "report", "compliance", "--as-of", AS_OF.isoformat())
    assert f"week ending {AS_OF}" in text.stdout


def test_report_collections_prints_the_kpis(store: Store) -> None:
    d = AS_OF.isoformat()
    result = invoke(store, None, "report", "collections", "--from", d, "--to", d, "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    engine = engine_for(store.url)
    with engine.connect() as conn:
        expected = collection_kpis(conn, AS_OF, AS_OF, default_policy())
    engine.dispose()
    assert printed["rows"] == json.loads(json.dumps(expected.table.to_dicts(), default=str))
    text = invoke(store, None, "report", "collections", "--from", d, "--to", d)
    assert "Collection KPIs" in text.stdout and "Cure rate by bucket" in text.stdout
    refused = invoke(store, None, "report", "collections", "--from", d, "--to", "2020-01-01")
    assert refused.exit_code == 2 and "before from" in refused.output
