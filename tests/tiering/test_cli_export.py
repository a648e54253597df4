"""`postloan export tiers` (the documented columns, in order; CSV and Parquet; audited as a
personal export) and `postloan report tiers` (its figures against the stored rows), through the
core commands' area seam, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from postloan.access.tables import audit_log
from postloan.cli.main import app
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.tiering.tables import tier_assignments
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all
from tests.tiering.conftest import AS_OF, DATES

runner = CliRunner()
COLUMNS = ["customer_id", "as_of", "purpose_class", "credit_status", "capacity", "tier",
           "rfm_r", "rfm_f", "rfm_m", "rfm_segment", "abc", "need", "need_signals"]  # fmt: skip


@dataclass
class Store:
    data: Path
    url: str
    backend: str

    def invoke(self, *args: str) -> Any:
        url = self.url if self.backend == "postgresql" else ""
        env = {"POSTLOAN_DATA_DIR": str(self.data), "POSTLOAN_CLI_REQUIRE_LOGIN": "",
               "POSTLOAN_USER": "", "POSTLOAN_DATABASE_URL": url}  # fmt: skip
        return runner.invoke(app, list(args), env=env)

    def rows(self, statement: Any) -> list[Any]:
        engine = engine_for(self.url)
        with engine.connect() as conn:
            found = list(conn.execute(statement).all())
        engine.dispose()
        return found


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tier_files: Path
) -> Iterator[Store]:
    data = tmp_path_factory.mktemp("tier-cli")
    schema = None
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("POSTLOAN_DATABASE_URL", raising=False)
        mp.setenv("POSTLOAN_DATA_DIR", str(data))
        if request.param == "sqlite":
            url = ready()
        else:
            schema = f"tiercli_{uuid.uuid4().hex[:12]}"
            admin = create_engine(PG_URL)  # type: ignore[arg-type]
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            admin.dispose()
            url = ready(_pg_schema_url(schema))
        import_all(url, tier_files)
        run_dates(url, DATES, default_policy())
        yield Store(data, url, request.param)
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_export_is_the_documented_columns(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "tiers.csv"
    result = store.invoke("export", "tiers", "--as-of", AS_OF.isoformat(), "--out", str(out))
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.columns == COLUMNS
    stored = store.rows(select(tier_assignments).where(tier_assignments.c.as_of == AS_OF))
    assert frame.height == len(stored) > 0
    by_id = {r.customer_id: r for r in stored}
    for row in frame.to_dicts():
        r = by_id[row["customer_id"]]
        assert row["as_of"] == AS_OF.isoformat()
        assert (row["tier"], row["credit_status"], row["capacity"]) == (
            r.tier,
            r.credit_status,
            r.capacity,
        )
        assert int(row["rfm_r"]) == r.rfm_r and row["rfm_segment"] == r.rfm_segment
        assert row["abc"] == r.abc
        assert (row["need"], row["need_signals"] or "") == (r.need, r.need_signals)
    assert frame["customer_id"].to_list() == sorted(by_id)
    # the classes against the plain rule on the stored values (ties share a class)
    policy = default_policy().tiering.abc
    total = sum(max(r.value, 0) for r in stored)
    for r in stored:
        ahead = sum(o.value for o in stored if o.value > r.value)
        wanted = (
            "C"
            if r.value <= 0
            else "A"
            if ahead * 100 < policy.a_max_share_percent * total
            else "B"
            if ahead * 100 < policy.b_max_share_percent * total
            else "C"
        )
        assert r.abc == wanted, r.customer_id
    assert {r.abc for r in stored} == {"A", "B", "C"}
    assert {r.need for r in stored} >= {"low", "medium"}  # need: every row has a level
    meta = json.loads((tmp_path / "tiers.csv.meta.json").read_text())
    assert meta["kind"] == "tiers" and meta["rows"] == len(stored)
    audited = store.rows(select(audit_log.c.action).where(audit_log.c.action == "export.personal"))
    assert audited
    parquet = tmp_path / "tiers.parquet"
    assert store.invoke("export", "tiers", "--as-of", AS_OF.isoformat(),
                        "--out", str(parquet)).exit_code == 0  # fmt: skip
    assert pl.read_parquet(parquet).columns == COLUMNS


def test_export_needs_a_tiered_date(store: Store, tmp_path: Path) -> None:
    result = store.invoke("export", "tiers", "--as-of", "2026-01-05", "--out",
                          str(tmp_path / "x.csv"))  # fmt: skip
    assert result.exit_code != 0 and "no tiers stored" in result.output


def test_report_matches_the_stored_rows(store: Store) -> None:
    start, end = DATES[0], AS_OF
    result = store.invoke("report", "tiers", "--from", start.isoformat(), "--to",
                          end.isoformat(), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    t = tier_assignments.c
    now = {r.customer_id: r for r in store.rows(select(tier_assignments).where(t.as_of == end))}
    before = {r.customer_id: r.tier for r in store.rows(select(t.customer_id, t.tier)
                                                         .where(t.as_of == start))}  # fmt: skip
    counts = {d["tier"]: d["customers"] for d in data["distribution"]["tiers"]}
    for tier in ("premium", "low", "medium", "high"):
        assert counts[tier] == sum(1 for r in now.values() if r.tier == tier)
    cells = {(c["from_tier"], c["to_tier"]): c["customers"] for c in data["transitions"]["cells"]}
    for cid in set(now) | set(before):
        pair = (before.get(cid, "none"), now[cid].tier if cid in now else "none")
        cells[pair] -= 1
    assert set(cells.values()) == {0}
    months = {r["month"] for r in data["review"]}
    assert months == {d.strftime("%Y-%m") for d in DATES}
    # roll and loss rates: the stored rows by hand, month by month
    rolls = data["rolls"]
    assert rolls["buckets"] == [b.name for b in default_policy().dpd_buckets]
    history = {(r.as_of, r.customer_id): r for r in store.rows(select(tier_assignments))}
    ends: dict[str, Any] = {}
    for day in sorted({d for d, _ in history}):
        ends[day.strftime("%Y-%m")] = day
    months = sorted(ends)
    for row in rolls["losses"]:
        i = months.index(row["month"])
        cohort = [r for (d, _), r in history.items() if d == ends[row["month"]]
                  and r.tier == row["tier"]]  # fmt: skip
        assert row["customers"] == len(cohort)
        if i + 1 == len(months):
            assert row["loss_rate"] is None
            continue
        nxt = ends[months[i + 1]]
        lost = sum(
            r.balance
            for r in cohort
            if r.worst_class != "loss"
            and getattr(history.get((nxt, r.customer_id)), "worst_class", "") == "loss"
        )
        assert row["loss_balance"] == lost
    assert {r["month"] for r in rolls["rolls"]} <= set(months)
    assert sum(r["customers"] for r in rolls["losses"]) == sum(
        1 for d, _ in history if d in set(ends.values())
    )
    human = store.invoke("report", "tiers", "--from", start.isoformat(), "--to", end.isoformat())
    assert human.exit_code == 0 and "Transitions" in human.output and "Roll rates" in human.output
    bad = store.invoke("report", "tiers", "--from", end.isoformat(), "--to", start.isoformat())
    assert bad.exit_code == 2
