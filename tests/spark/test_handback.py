"""The hand-back (issue 17): a Spark run's account status imported with `postloan import
account-status` leaves the store — account status and every table the areas' steps derive
from it (cases, churn, risk, tiers …) — exactly as the local `postloan run` of the same dates
did. SQLite always, PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq
import pytest
from sqlalchemy import DateTime, delete, select
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.reports.store_export import export_kind
from postloan.runs.handback import HandBackError, import_account_status
from postloan.runs.service import run_dates
from postloan.spark.job import Inputs, run_on_spark
from postloan.spark.output import policy_version_of
from postloan.store.db import engine_for
from postloan.store.schema import account_status, metadata, runs
from postloan.synth import generate
from tests.store.conftest import AS_OF, import_all, make_store, store_url
from tests.strategies import make_policy

__all__ = ["make_store", "store_url"]  # the store fixtures, on SQLite and PostgreSQL

runner = CliRunner()
LEDGER_TABLES = {"runs", "staged_status", "audit_log", "policy_versions", "imports",
                 # the printable monthly packs name the runs they read and the run that
                 # stored them, and when: their provenance, by design (management)
                 "management_packs"}  # fmt: skip
LAKE_KINDS = ("loans", "schedules", "cards", "card-statements", "payments")


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, without what names a run or a moment (run ids, timestamps,
    generated row ids and the references to them): what the areas derived, comparable."""
    generated = {
        (table.name, col.name)
        for table in metadata.sorted_tables
        if (col := table.autoincrement_column) is not None
    }
    engine = engine_for(url)
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in LEDGER_TABLES:
                continue
            keep = [
                c for c in table.columns
                if c.name != "run_id" and not isinstance(c.type, DateTime)
                and (table.name, c.name) not in generated
                and not any((fk.column.table.name, fk.column.name) in generated
                            for fk in c.foreign_keys)
            ]  # fmt: skip
            rows = conn.execute(select(*keep)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    engine.dispose()
    return out


def test_handback_equals_the_local_run(spark: Any, store_url: str, tmp_path: Path) -> None:
    policy = default_policy()
    write_contract_files(generate(accounts=300, seed=11, as_of=AS_OF), tmp_path / "files")
    import_all(store_url, tmp_path / "files")
    dates = [AS_OF - timedelta(days=1), AS_OF]
    run_dates(store_url, dates, policy)
    local = _snapshot(store_url)
    assert len(local["account_status"]) > 300 and local["cases"], "the areas derived rows"

    # The lake's copy of the store (`postloan export` as Parquet), computed on Spark.
    lake = tmp_path / "lake"
    lake.mkdir()
    for kind in LAKE_KINDS:
        export_kind(store_url, kind, lake / f"{kind.replace('-', '_')}.parquet")
    run_on_spark(spark, Inputs(folder=str(lake)), str(tmp_path / "out"), dates, policy,
                 partitions=3)  # fmt: skip

    # Empty the stored dates first: the hand-back must rebuild everything, not find it there.
    engine = engine_for(store_url)
    with engine.begin() as conn:
        conn.execute(delete(account_status))
    engine.dispose()
    result = runner.invoke(app, ["import", "account-status", str(tmp_path / "out")],
                           env={"POSTLOAN_DATABASE_URL": store_url})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(import): 2 date(s)" in result.output
    assert _snapshot(store_url) == local
    engine = engine_for(store_url)
    with engine.connect() as conn:
        last = conn.execute(select(runs).order_by(runs.c.run_id.desc()).limit(1)).one()
    engine.dispose()
    assert (last.kind, last.status, last.policy_version) == ("import", "succeeded", policy.version)
    assert last.rows == len(local["account_status"])


def test_handback_refusals_write_nothing(spark: Any, make_store: Any, tmp_path: Path) -> None:
    url = make_store("sqlite")
    sp = generate(accounts=60, seed=4, as_of=AS_OF)
    write_contract_files(sp, tmp_path / "files")
    import_all(url, tmp_path / "files")
    lake = tmp_path / "lake"
    lake.mkdir()
    for kind in LAKE_KINDS:
        export_kind(url, kind, lake / f"{kind.replace('-', '_')}.parquet")
    out = tmp_path / "out"
    run_on_spark(spark, Inputs(folder=str(lake)), str(out), [AS_OF], default_policy(),
                 partitions=2)  # fmt: skip
    before = _snapshot(url)
    with pytest.raises(HandBackError, match="no as_of"):  # not a Spark run's output
        import_account_status(url, tmp_path / "files", default_policy())
    with pytest.raises(HandBackError, match="computed with policy"):  # not the store's policy
        import_account_status(url, out, make_policy("principal_first", 0))
    # A stranger's account in the files: refused by name.
    files = sorted((out / "account_status").glob("as_of=*/*.parquet"))
    assert pl.read_parquet(files[0]).height
    bogus = tmp_path / "bogus" / "account_status" / f"as_of={AS_OF.isoformat()}"
    bogus.mkdir(parents=True)
    table = pq.read_table(files[0])
    ids = table.column("account_id").to_pylist()
    ids[0] = "NOT-IN-STORE"
    patched = table.set_column(0, table.schema.field(0), [ids])
    pq.write_table(patched, bogus / "part-00000.parquet")  # keeps Spark's schema metadata
    assert policy_version_of(bogus / "part-00000.parquet") == default_policy().version
    with pytest.raises(HandBackError, match="NOT-IN-STORE"):
        import_account_status(url, tmp_path / "bogus", default_policy())
    assert _snapshot(url) == before
