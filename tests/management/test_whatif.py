"""The policy what-if (issue 16 item 6): a synthetic portfolio imported and run on five dates
with every area's steps (SQLite; PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set), then
replayed under candidates. Expectations are recomputed here from the stored rows in plain
code: the policy in force must give back what the daily run stored (status, cases, tiers,
signals), and a candidate's figures what a direct recomputation under it says."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from postloan.access.roles import Role
from postloan.access.users import create_user
from postloan.api.app import create_app
from postloan.cli.main import app as cli_app
from postloan.contract import write_contract_files
from postloan.errors import DomainError
from postloan.management import whatif
from postloan.policy import Policy, PolicyError, default_policy, policy_from_dict
from postloan.policy.loader import dump_policy_toml
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import metadata
from postloan.synth import generate
from postloan.tiering import read as tier_read
from postloan.tiering.rules.whatif import replay as tier_replay
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all

AS_OF = date(2026, 6, 30)
DATES = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 15), date(2026, 5, 31), AS_OF]
FIRST, LAST = DATES[1], DATES[-1]  # the what-if replays from the second stored date
PASSWORD = "correct horse battery"


@dataclass
class Store:
    url: str
    data: Path


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("whatif")
    files = folder / "files"
    write_contract_files(generate(accounts=300, seed=14, as_of=AS_OF), files, fmt="csv")
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{folder / 'store.sqlite'}")
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    import_all(url, files)
    run_dates(url, DATES, default_policy(), today=date(2026, 7, 1))
    engine = engine_for(url)
    with engine.begin() as conn:
        for role in (Role.RISK_MANAGER, Role.COLLECTOR):
            create_user(conn, username=role.value, password=PASSWORD, role=role,
                        branch_id="BR01")  # fmt: skip
    engine.dispose()
    yield Store(url, folder)
    if schema is not None:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = engine_for(url)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql), params).all()]
    engine.dispose()
    return found


def _figure(found: whatif.WhatIf, area: str, name: str) -> pl.DataFrame:
    return next(f.table for f in found.figures if (f.area, f.name) == (area, name))


def _changed(**sections: Any) -> Policy:
    data = default_policy().model_dump(mode="json")
    for path, value in sections.items():
        *head, last = path.split("__")
        node = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value
    return policy_from_dict(data)


def _snapshot(url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its sorted rows."""
    engine = engine_for(url)
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)).all())
            out[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    engine.dispose()
    return out


# --- the policy in force gives back what was stored; a candidate equal to it changes nothing


def test_candidate_equal_to_the_policy_in_force_changes_nothing(store: Store) -> None:
    policy = default_policy()
    found = whatif.compute(store.url, policy, policy, FIRST, LAST)
    assert found.dates == tuple(DATES[1:])
    groups = {(f.area, f.name) for f in found.figures}
    assert {("management", "ratios"), ("management", "classes"), ("management", "buckets"),
            ("collections", "cases"), ("collections", "stages"), ("collections", "strategies"),
            ("collections", "teams"), ("tiering", "tiers"), ("risk", "signals"),
            ("risk", "grades")} <= groups  # fmt: skip
    assert set(found.not_replayed) == {"churn", "relationship"}
    long = found.long()
    assert long.height > 0 and long.filter(pl.col("diff") != 0).is_empty()
    assert (long["in_force"] == long["candidate"]).all()

    # The in-force side equals what the daily run stored, recomputed here from the rows.
    for day in found.dates:
        classes = dict(
            _rows(
                store.url,
                "SELECT risk_class, count(*) FROM account_status"
                " WHERE as_of = :d GROUP BY risk_class",
                d=day,
            )
        )
        got = _figure(found, "management", "classes").filter(pl.col("as_of") == day)
        assert {
            r: n for r, n in got.select("risk_class", "accounts_in_force").rows() if n
        } == classes
        principal, npl = _rows(store.url, "SELECT sum(outstanding_principal), sum(CASE WHEN"
                               " risk_class IN ('substandard','doubtful','loss') THEN"
                               " outstanding_principal ELSE 0 END) FROM account_status"
                               " WHERE as_of = :d", d=day)[0]  # fmt: skip
        ratio = _figure(found, "management", "ratios").filter(pl.col("as_of") == day)
        assert ratio["npl_ratio_in_force"].item() == pytest.approx(int(npl) / int(principal))
        open_cases = _rows(store.url, "SELECT count(*) FROM cases WHERE opened_on <= :d AND"
                           " (closed_on IS NULL OR closed_on > :d)", d=day)[0][0]  # fmt: skip
        cases = _figure(found, "collections", "cases").filter(pl.col("as_of") == day)
        assert cases["open_in_force"].item() == open_cases
        hits = dict(_rows(store.url, "SELECT signal_id, count(*) FROM risk_hits WHERE as_of = :d"
                          " GROUP BY signal_id", d=day))  # fmt: skip
        signals = _figure(found, "risk", "signals").filter(pl.col("as_of") == day)
        assert dict(signals.select("signal_id", "hits_in_force").rows()) == hits
        tiers = dict(_rows(store.url, "SELECT tier, count(*) FROM tier_assignments WHERE"
                           " as_of = :d GROUP BY tier", d=day))  # fmt: skip
        got_tiers = _figure(found, "tiering", "tiers").filter(pl.col("as_of") == day)
        assert dict(got_tiers.select("tier", "customers_in_force").rows()) == tiers
    assert hits and sum(tiers.values()) > 0  # the history has something to compare


def test_the_what_if_writes_nothing(store: Store) -> None:
    before = _snapshot(store.url)
    candidate = _changed(dpd_buckets__1__max_dpd=15, dpd_buckets__2__min_dpd=16)
    whatif.compute(store.url, default_policy(), candidate, FIRST, LAST)
    assert _snapshot(store.url) == before


# --- a candidate's figures against a direct recomputation


def _bucket_of(policy: Policy, dpd: int) -> str:
    return next(b.name for b in policy.dpd_buckets
                if b.min_dpd <= dpd and (b.max_dpd is None or dpd <= b.max_dpd))  # fmt: skip


def test_a_changed_bucket_boundary_moves_buckets_and_queues_as_recomputed(store: Store) -> None:
    in_force = default_policy()
    candidate = _changed(dpd_buckets__1__max_dpd=15, dpd_buckets__2__min_dpd=16)
    found = whatif.compute(store.url, in_force, candidate, FIRST, LAST)
    status = _rows(store.url, "SELECT as_of, customer_id, dpd, bucket FROM account_status"
                   " WHERE as_of >= :a", a=FIRST)  # fmt: skip
    buckets = _figure(found, "management", "buckets")
    moved = 0
    for day in found.dates:
        rows = [r for r in status if str(r[0])[:10] == day.isoformat()]
        want = Counter(_bucket_of(candidate, r[2]) for r in rows)
        stored = Counter(r[3] for r in rows)
        got = buckets.filter(pl.col("as_of") == day)
        assert {b: n for b, n in got.select("bucket", "accounts_candidate").rows() if n} == want
        assert {b: n for b, n in got.select("bucket", "accounts_in_force").rows() if n} == stored
        for b, n, diff in got.select("bucket", "accounts_in_force", "accounts_diff").rows():
            assert diff == want.get(b, 0) - n
        moved += sum(abs(d) for d in got["accounts_diff"])
    assert moved > 0, "the history has accounts between 16 and 30 days past due"

    # The collection queues on the last date: each overdue customer's worst DPD's stage.
    worst: dict[str, int] = {}
    for r in status:
        if str(r[0])[:10] == LAST.isoformat() and r[2] > 0:
            worst[r[1]] = max(worst.get(r[1], 0), r[2])
    stages = Counter(candidate.collections.stages[_bucket_of(candidate, d)] for d in worst.values())
    got = _figure(found, "collections", "stages").filter(pl.col("as_of") == LAST)
    assert {s: n for s, n in got.select("stage", "cases_candidate").rows() if n} == stages
    opened = _figure(found, "collections", "cases")  # who is overdue does not change
    assert (opened["open_diff"] == 0).all()


def test_a_changed_signal_threshold_fires_as_recomputed(store: Store) -> None:
    signals = default_policy().model_dump(mode="json")["risk"]["signals"]
    i = next(i for i, s in enumerate(signals) if s["id"] == "early_arrears")
    low, high = 1, 10  # default: 5 to 30 days past due
    candidate = _changed(**{f"risk__signals__{i}__threshold": low,
                            f"risk__signals__{i}__upper": high})  # fmt: skip
    found = whatif.compute(store.url, default_policy(), candidate, FIRST, LAST)
    worst = _rows(store.url, "SELECT as_of, customer_id, max(dpd) FROM account_status"
                  " WHERE as_of >= :a GROUP BY as_of, customer_id", a=FIRST)  # fmt: skip
    got = _figure(found, "risk", "signals").filter(pl.col("signal_id") == "early_arrears")
    changed = 0
    for day in found.dates:
        on = [d for a, _, d in worst if str(a)[:10] == day.isoformat()]
        want_b = sum(low <= d <= high for d in on)
        want_a = sum(5 <= d <= 30 for d in on)
        row = got.filter(pl.col("as_of") == day)
        b = row["hits_candidate"].item() if row.height else 0
        a = row["hits_in_force"].item() if row.height else 0
        assert (a, b) == (want_a, want_b), day
        changed += abs(b - a)
    assert changed > 0
    others = _figure(found, "risk", "signals").filter(pl.col("signal_id") != "early_arrears")
    assert (others["hits_diff"] == 0).all()


def test_a_changed_tier_cut_off_gives_the_tiering_rules_own_replay(store: Store) -> None:
    candidate = _changed(tiering__capacity__strong_max_dsr_percent=5,
                         tiering__credit__poor_min_dpd=8)  # fmt: skip
    found = whatif.compute(store.url, default_policy(), candidate, FIRST, LAST)
    engine = engine_for(store.url)
    with engine.connect() as conn:  # the LY-4 replay on the stored figures, directly
        figures = tier_read.figures_between(conn, FIRST, LAST, text("1 = 1"))
        before = tier_read.state_before(conn, FIRST, text("1 = 1"))
    engine.dispose()
    want = tier_replay(figures, before, candidate).group_by("as_of", "tier").len()
    got = _figure(found, "tiering", "tiers")
    assert dict(((a, t), n) for a, t, n in want.rows()) == {
        (a, t): n for a, t, n in got.select("as_of", "tier", "customers_candidate").rows() if n
    }
    assert (got["customers_diff"] != 0).any()
    assert (_figure(found, "management", "classes")["accounts_diff"] == 0).all()


# --- refusals


def test_refusals_name_the_field(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = default_policy()
    with pytest.raises(DomainError) as caught:
        whatif.compute(store.url, policy, policy, date(2026, 4, 1), LAST)
    assert caught.value.field == "from" and "no account status is stored" in caught.value.message
    with pytest.raises(DomainError) as caught:
        whatif.compute(store.url, policy, policy, FIRST, LAST, limit=3)
    assert caught.value.field == "to" and "at most 3" in caught.value.message
    monkeypatch.setenv(whatif.MAX_DATES_ENV, "2")
    with pytest.raises(DomainError, match="at most 2"):
        whatif.compute(store.url, policy, policy, FIRST, LAST)
    with pytest.raises(DomainError, match="on or before"):
        whatif.compute(store.url, policy, policy, LAST, FIRST)
    with pytest.raises(PolicyError) as bad:
        whatif.parse_candidate("[[dpd_buckets]]\nname = 1\n", "c.toml")
    assert any(p.parameter.startswith("dpd_buckets") for p in bad.value.problems)
    with pytest.raises(DomainError, match="at most"):
        whatif.parse_candidate(b"#" * (whatif.MAX_POLICY_BYTES + 1), "c.toml")


# --- the command line


def test_cli_prints_differences_writes_files_and_audits(store: Store, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"POSTLOAN_DATABASE_URL": store.url, "POSTLOAN_DATA_DIR": str(store.data),
           "POSTLOAN_USER": "", "POSTLOAN_CLI_REQUIRE_LOGIN": ""}  # fmt: skip
    candidate = tmp_path / "candidate.toml"
    candidate.write_text(dump_policy_toml(_changed(dpd_buckets__1__max_dpd=15,
                                                   dpd_buckets__2__min_dpd=16)))  # fmt: skip
    before = _rows(store.url, "SELECT count(*) FROM audit_log")[0][0]
    out = tmp_path / "whatif.csv"
    result = runner.invoke(cli_app, ["whatif", "--policy", str(candidate), "--from",
                                     FIRST.isoformat(), "--to", LAST.isoformat(), "--out",
                                     str(out)], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Differences" in result.stdout and "not replayed: churn, relationship" in result.stdout
    assert "in_force 4/4 dates" in result.stderr and "candidate 4/4 dates" in result.stderr
    rows = pl.read_csv(out)
    m1 = rows.filter((pl.col("figure") == "buckets") & (pl.col("measure") == "accounts")
                     & pl.col("key").str.ends_with("bucket=M1"))  # fmt: skip
    assert (m1["diff"] <= 0).all() and (m1["diff"] < 0).any()
    xlsx = tmp_path / "whatif.xlsx"
    assert runner.invoke(cli_app, ["whatif", "--policy", str(candidate), "--from",
                                   FIRST.isoformat(), "--to", LAST.isoformat(), "--out",
                                   str(xlsx)], env=env).exit_code == 0  # fmt: skip
    from openpyxl import load_workbook

    book = load_workbook(xlsx)
    assert "management.buckets" in book.sheetnames and book["about"]["A2"].value == "from"
    entries = _rows(store.url, "SELECT action, detail FROM audit_log ORDER BY seq")[before:]
    assert [a for a, _ in entries] == ["management.whatif", "management.whatif"]
    assert _changed(dpd_buckets__1__max_dpd=15, dpd_buckets__2__min_dpd=16).version in entries[0][1]

    bad = tmp_path / "bad.toml"
    bad.write_text('[[dpd_buckets]]\nname = "C"\nmin_dpd = "x"\n')
    refused = runner.invoke(
        cli_app,
        ["whatif", "--policy", str(bad), "--from", FIRST.isoformat(), "--to", LAST.isoformat()],
        env=env,
    )
    assert refused.exit_code == 2
    assert "not a valid policy" in refused.stderr and "dpd_buckets[0].min_dpd" in refused.stderr
    far = runner.invoke(cli_app, ["whatif", "--policy", str(candidate), "--from",
                                  DATES[0].isoformat(), "--to", LAST.isoformat()],
                        env={**env, whatif.MAX_DATES_ENV: "3"})  # fmt: skip
    assert far.exit_code == 2 and "--to:" in far.stderr and "at most 3" in far.stderr


# --- the API and the workbench


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    from postloan.web import mount

    app = create_app(store.url, policy_path=store.data / "policy.toml")
    mount(app)
    with TestClient(app, follow_redirects=False) as c:
        yield c


def _token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def test_api_whatif(client: TestClient, store: Store) -> None:
    url = f"/api/management/whatif?from={FIRST}&to={LAST}"
    candidate = dump_policy_toml(_changed(dpd_buckets__1__max_dpd=15, dpd_buckets__2__min_dpd=16))
    refused = client.post(url, content=candidate, headers=_token(client, "collector"))
    assert refused.status_code == 403
    risk = _token(client, "risk_manager")
    before = _rows(store.url, "SELECT count(*) FROM audit_log")[0][0]
    answer = client.post(url, content=candidate,
                         headers={**risk, "Content-Type": "application/toml"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["dates"] == [d.isoformat() for d in DATES[1:]]
    buckets = next(f for f in body["figures"] if f["name"] == "buckets")
    assert any(r["accounts_diff"] != 0 for r in buckets["rows"])
    assert {(f["area"], f["name"]) for f in body["figures"]} >= {
        ("management", "classes"), ("collections", "stages"), ("tiering", "tiers"),
        ("risk", "signals")}  # fmt: skip
    assert body["not_replayed"] == ["churn", "relationship"]
    assert _rows(store.url, "SELECT actor, action FROM audit_log ORDER BY seq")[before:][-1] == (
        "risk_manager", "management.whatif")  # fmt: skip
    bad = client.post(url, content=b"dpd_buckets = 3", headers=risk)
    assert bad.status_code == 422 and "dpd_buckets" in bad.text
    unstored = client.post(f"/api/management/whatif?from=2026-04-01&to={LAST}",
                           content=candidate, headers=risk)  # fmt: skip
    assert unstored.status_code == 422 and unstored.json()["error"]["field"] == "from"


def test_one_what_if_at_a_time_on_a_server(client: TestClient, store: Store) -> None:
    """A second what-if while one runs is refused at once (409, the reason said), not queued
    holding a server thread; the server answers other requests meanwhile."""
    import threading

    candidate = _changed(dpd_buckets__1__max_dpd=15, dpd_buckets__2__min_dpd=16)
    start = threading.Barrier(2, timeout=30)
    results: list[Any] = []

    def ask() -> None:
        start.wait()
        try:
            results.append(whatif.compute_in_worker(store.url, default_policy(), candidate,
                                                    DATES[1], LAST))  # fmt: skip
        except whatif.WhatIfBusy as exc:
            results.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["WhatIf", "WhatIfBusy"], results
    # through the API: refused while one runs (held here), served once it has finished
    url = f"/api/management/whatif?from={FIRST}&to={LAST}"
    risk = {**_token(client, "risk_manager"), "Content-Type": "application/toml"}
    assert whatif._running.acquire(blocking=False)
    try:
        busy = client.post(url, content=dump_policy_toml(candidate), headers=risk)
        assert busy.status_code == 409, busy.text
        assert busy.json()["error"]["code"] == "whatif_running"
        assert client.get("/api/auth/me", headers=risk).status_code == 200
    finally:
        whatif._running.release()
    assert client.post(url, content=dump_policy_toml(candidate), headers=risk).status_code == 200


def test_page_needs_csrf_and_shows_the_tables(client: TestClient, store: Store) -> None:
    from tests.web.test_pages import csrf_of

    client.cookies.clear()
    login = client.get("/login")
    client.post("/login", data={"username": "risk_manager", "password": PASSWORD,
                                "csrf_token": csrf_of(login.text)})  # fmt: skip
    page = client.get("/management/whatif")
    assert page.status_code == 200 and 'name="policy"' in page.text
    form = {"from": FIRST.isoformat(), "to": LAST.isoformat(),
            "policy": dump_policy_toml(_changed(dpd_buckets__1__max_dpd=15,
                                                dpd_buckets__2__min_dpd=16))}  # fmt: skip
    before = _rows(store.url, "SELECT count(*) FROM audit_log")[0][0]
    forged = client.post("/management/whatif", data=form)
    assert forged.status_code == 403
    assert _rows(store.url, "SELECT count(*) FROM audit_log")[0][0] == before
    shown = client.post("/management/whatif", data={**form, "csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200, shown.text
    assert 'data-figure="management.buckets"' in shown.text
    assert 'id="whatif-not-replayed"' in shown.text
    bad = client.post("/management/whatif", data={**form, "policy": "dpd_buckets = 3",
                                                   "csrf_token": csrf_of(page.text)})  # fmt: skip
    assert bad.status_code == 422 and "whatif-problems" in bad.text
    client.cookies.clear()
    login = client.get("/login")
    client.post("/login", data={"username": "collector", "password": PASSWORD,
                                "csrf_token": csrf_of(login.text)})  # fmt: skip
    assert client.get("/management/whatif").status_code == 403
    entries = _rows(store.url, "SELECT actor, action FROM audit_log ORDER BY seq")[before:]
    assert entries.count(("risk_manager", "management.whatif")) == 1  # the shown one only
