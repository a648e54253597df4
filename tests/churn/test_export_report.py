"""`postloan export churn` exactly per DATA_CONTRACT "Outputs" (columns and their order,
`true`/`false`, ISO dates, grade 1-3, reason a class or empty; CSV and Parquet), through the
core export command's area seam (permission, audit, errors); and `postloan report churn`
against a plain recomputation of its figures from the stored rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from postloan.access.tables import audit_log
from postloan.churn.rules.frames import RULES
from postloan.churn.tables import churn_episodes, churn_identified
from postloan.cli.main import app
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import account_status, cards, customers, loans
from tests.churn.conftest import DATES
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all

runner = CliRunner()
COLUMNS = [
    "customer_id", "as_of", "loan_overdue", "card_default", "closed_not_reapplied",
    "transferred_out", "inactive", "first_identified", "degree", "grade", "reason",
]  # fmt: skip


@dataclass
class Store:
    data: Path
    url: str
    backend: str

    def invoke(self, *args: str) -> object:
        url = self.url if self.backend == "postgresql" else ""
        env = {"POSTLOAN_DATA_DIR": str(self.data), "POSTLOAN_CLI_REQUIRE_LOGIN": "",
               "POSTLOAN_USER": "", "POSTLOAN_DATABASE_URL": url}  # fmt: skip
        return runner.invoke(app, list(args), env=env)


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, churn_files: Path
) -> Iterator[Store]:
    data = tmp_path_factory.mktemp("churn-cli")
    schema = None
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("POSTLOAN_DATABASE_URL", raising=False)
        mp.setenv("POSTLOAN_DATA_DIR", str(data))
        if request.param == "sqlite":
            url = ready()
        else:
            schema = f"churn_{uuid.uuid4().hex[:12]}"
            admin = create_engine(PG_URL)  # type: ignore[arg-type]
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            admin.dispose()
            url = ready(_pg_schema_url(schema))
        import_all(url, churn_files)
        run_dates(url, DATES, default_policy())
        yield Store(data, url, request.param)
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_csv_export_is_exactly_the_contract(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "churn.csv"
    result = store.invoke("export", "churn", "--as-of", "2026-06-30", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(",") == COLUMNS
    rows = [line.split(",") for line in lines[1:]]
    assert rows, "someone is churned on the date"
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    for r in rows:
        assert r[1] == "2026-06-30"
        assert all(v in ("true", "false") for v in r[2:7]) and "true" in r[2:7]
        assert date.fromisoformat(r[7]) <= date(2026, 6, 30)
        assert r[8] in ("light", "moderate", "severe") and r[9] in ("1", "2", "3")
        assert r[10] in ("", "policy", "service", "marketing", "competition", "macro",
                         "customer_own")  # fmt: skip
    assert any(r[10] == "" for r in rows) and any(r[10] for r in rows)
    engine = engine_for(store.url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(churn_identified).where(churn_identified.c.as_of == date(2026, 6, 30))
        ).all()
        entry = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc())).first()
    engine.dispose()
    assert len(rows) == len(stored)
    by_id = {r[0]: r for r in rows}
    for s in stored:
        assert by_id[s.customer_id][2:7] == [str(s._mapping[k]).lower() for k in RULES]
        assert by_id[s.customer_id][8:10] == [s.degree, str(s.grade)]
    assert entry is not None and entry.action == "export.personal"
    assert entry.target_id.endswith("churn.csv") and len(entry.target_id) <= 64
    assert json.loads(entry.detail)["kind"] == "churn"
    meta = json.loads((tmp_path / "churn.csv.meta.json").read_text())
    assert meta["kind"] == "churn" and meta["rows"] == len(rows)


def test_parquet_export_has_the_same_rows_typed(store: Store, tmp_path: Path) -> None:
    for name in ("c.csv", "c.parquet"):
        result = store.invoke("export", "churn", "--as-of", "2026-05-31", "--out",
                              str(tmp_path / name))  # fmt: skip
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    parquet = pl.read_parquet(tmp_path / "c.parquet")
    assert parquet.columns == COLUMNS
    assert parquet.schema["as_of"] == pl.Date and parquet.schema["loan_overdue"] == pl.Boolean
    assert parquet.schema["grade"] == pl.Int32 and parquet.schema["first_identified"] == pl.Date
    csv = pl.read_csv(tmp_path / "c.csv", try_parse_dates=True).with_columns(
        pl.col("grade").cast(pl.Int32)
    )
    assert csv.equals(parquet)


def test_export_refusals(store: Store, tmp_path: Path) -> None:
    no_date = store.invoke("export", "churn", "--out", str(tmp_path / "x.csv"))
    assert no_date.exit_code == 2 and "churn needs --as-of D" in no_date.output  # type: ignore[attr-defined]
    not_run = store.invoke("export", "churn", "--as-of", "2026-01-01", "--out",
                           str(tmp_path / "x.csv"))  # fmt: skip
    assert not_run.exit_code == 1  # type: ignore[attr-defined]
    assert "no churn identification stored for 2026-01-01" in not_run.output  # type: ignore[attr-defined]
    bad = store.invoke("export", "churn", "--as-of", "2026-02-30", "--out", str(tmp_path / "x"))
    assert bad.exit_code == 2  # type: ignore[attr-defined]
    unknown = store.invoke("export", "churned", "--out", str(tmp_path / "x.csv"))
    assert unknown.exit_code == 2 and "churn" in unknown.output  # type: ignore[attr-defined]
    (tmp_path / "file").write_text("")
    unwritable = store.invoke("export", "churn", "--as-of", "2026-06-30", "--out",
                              str(tmp_path / "file" / "x.csv"))  # fmt: skip
    assert unwritable.exit_code == 1  # type: ignore[attr-defined]
    assert "cannot write" in " ".join(unwritable.output.split())  # type: ignore[attr-defined]
    assert not (tmp_path / "x.csv").exists()


def _recomputed(url: str, day: date) -> dict[str, dict[str, object]]:
    """Per branch (and '*'), from the stored rows: customers with an account opened by D,
    outstanding on D, and per rule customers and balance in the pool."""
    engine = engine_for(url)
    with engine.connect() as conn:
        branch = dict(conn.execute(select(customers.c.customer_id, customers.c.branch_id)).all())
        opened = {r[0] for r in conn.execute(
            select(loans.c.customer_id).where(loans.c.disbursement_date <= day))}  # fmt: skip
        opened |= {r[0] for r in conn.execute(
            select(cards.c.customer_id).where(cards.c.open_date <= day))}  # fmt: skip
        status = conn.execute(
            select(account_status.c.customer_id, account_status.c.outstanding_principal).where(
                account_status.c.as_of == day)).all()  # fmt: skip
        pool = conn.execute(select(churn_identified).where(churn_identified.c.as_of == day)).all()
    engine.dispose()
    out: dict[str, dict[str, object]] = {}

    def cell(b: str) -> dict[str, object]:
        return out.setdefault(b, {"customers": 0, "outstanding": 0, **{
            f"{k}_{m}": 0 for k in (*RULES, "any") for m in ("customers", "balance")}})  # fmt: skip

    for customer in opened:
        for b in (branch[customer] or "", "*"):
            cell(b)["customers"] += 1  # type: ignore[operator]
    for customer, amount in status:
        for b in (branch[customer] or "", "*"):
            cell(b)["outstanding"] += amount  # type: ignore[operator]
    for row in pool:
        for b in (row.branch_id or "", "*"):
            for k in (*RULES, "any"):
                if k == "any" or row._mapping[k]:
                    cell(b)[f"{k}_customers"] += 1  # type: ignore[operator]
                    cell(b)[f"{k}_balance"] += row.balance  # type: ignore[operator]
    return out


def test_report_churn_equals_a_plain_recomputation(store: Store) -> None:
    result = store.invoke("report", "churn", "--from", "2026-04-01", "--to", "2026-06-30",
                          "--json")  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert set(data["win_back"]) == {"win_back_rate", "treated", "holdout"}
    assert sorted({r["as_of"] for r in data["rates"]}) == ["2026-04-30", "2026-05-31",
                                                           "2026-06-30"]  # fmt: skip
    for day in (date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)):
        want = _recomputed(store.url, day)
        got = {r["branch_id"]: r for r in data["rates"] if r["as_of"] == day.isoformat()}
        assert set(got) == set(want)
        for b, figures in want.items():
            for key, value in figures.items():
                shown = got[b][key]
                if key == "outstanding" or key.endswith("_balance"):
                    shown = round(float(shown) * 100)
                assert shown == value, (day, b, key)
            rate = got[b]["any_rate_customers"]
            assert rate == round(figures["any_customers"] / figures["customers"], 6)  # type: ignore[operator]
    # Flows: entries and exits of the period's episodes, month by month.
    engine = engine_for(store.url)
    with engine.connect() as conn:
        episodes = conn.execute(select(churn_episodes)).all()
    engine.dispose()
    flows = {r["month"]: r for r in data["flows"] if r["branch_id"] == "*"}
    for month in ("2026-04", "2026-05", "2026-06"):
        entered = sum(1 for e in episodes if str(e.entered_on)[:7] == month)
        left = [e for e in episodes if e.left_on is not None and str(e.left_on)[:7] == month]
        assert flows[month]["entries"] == entered and flows[month]["exits"] == len(left)
        for reason in {e.exit_reason for e in left}:
            assert flows[month][f"exits_{reason}"] == sum(1 for e in left
                                                          if e.exit_reason == reason)  # fmt: skip
    assert sum(f["exits"] for f in flows.values()) > 0
    text = store.invoke("report", "churn", "--from", "2026-04-01", "--to", "2026-06-30")
    assert "Churn KPIs" in text.stdout and "win-back rate" in text.stdout  # type: ignore[attr-defined]
    backwards = store.invoke("report", "churn", "--from", "2026-06-30", "--to", "2026-04-01")
    assert backwards.exit_code == 2 and "must be on or before" in backwards.output  # type: ignore[attr-defined]
