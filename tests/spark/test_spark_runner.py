"""The Spark runner (issue 17) on local[2] gives the single-machine engine's answer on every
column: hypothesis portfolios (tests/strategies.py, many cases per Spark job), the demo
portfolio with all three outputs, a customer with thousands of accounts, empty partitions;
re-running writes the same bytes; refusals are plain."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from postloan.cli.main import app
from postloan.contract import write_contract_files
from postloan.contract.files import read_contract_files, write_contract_file
from postloan.engine import account_status_history, instalment_status, statement_status
from postloan.engine.frames import Portfolio
from postloan.policy import default_policy
from postloan.spark.job import Inputs, run_on_spark
from postloan.spark.output import data_files, policy_version_of, read_output
from postloan.spark.task import SparkInputError
from postloan.synth import generate
from tests.spark.conftest import write_portfolio
from tests.strategies import Case, cases

AS_OF = date(2026, 6, 30)
runner = CliRunner()


def _prefixed(case: Case, n: int) -> Portfolio:
    """Case `n`'s portfolio with its own ids (customers, accounts, payments), so many cases
    make one portfolio without meeting."""
    p = case.portfolio
    tag = f"c{n}-"

    def ids(frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
        return frame.with_columns((tag + pl.col(c)).alias(c) for c in cols)

    return Portfolio(
        loans=ids(p.loans, "account_id", "customer_id"),
        instalments=ids(p.instalments, "account_id"),
        cards=ids(p.cards, "account_id", "customer_id"),
        statements=ids(p.statements, "account_id"),
        payments=ids(p.payments, "payment_id", "account_id", "reverses_payment_id"),
    )


def _union(portfolios: list[Portfolio]) -> Portfolio:
    return Portfolio(
        *(
            pl.concat([getattr(p, name) for p in portfolios])
            for name in ("loans", "instalments", "cards", "statements", "payments")
        )
    )


def _spark_status(spark: Any, folder: Path, out: Path, dates: list[date], policy: Any,
                  **kw: Any) -> pl.DataFrame:  # fmt: skip
    run_on_spark(spark, Inputs(folder=str(folder)), str(out), dates, policy, **kw)
    got, version = read_output(out)
    assert version == policy.version
    return got


# Each example is one Spark job (seconds even for a few accounts): few examples, many cases each.
@settings(max_examples=2, suppress_health_check=list(HealthCheck))
@given(st.lists(cases(), min_size=30, max_size=60))
def test_hypothesis_portfolios_equal_the_engine(spark: Any, drawn: list[Case]) -> None:
    """Each example: 30-60 property-test cases as one portfolio, under the first case's
    policy, on every date any case asks for; tiny chunks, so customers are cut across Arrow
    batches and chunks are cut between customers."""
    portfolio = _union([_prefixed(case, n) for n, case in enumerate(drawn)])
    dates = sorted({d for case in drawn for d in case.dates})
    policy = drawn[0].policy.build()
    want = account_status_history(portfolio, dates, policy).sort("as_of", "account_id")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_portfolio(portfolio, Path(tmp) / "in")
        got = _spark_status(spark, folder, Path(tmp) / "out", dates, policy,
                            partitions=3, chunk_rows=25)  # fmt: skip
    got = got.select(want.columns).sort("as_of", "account_id")
    assert got.height == want.height
    assert got.equals(want)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "in"
    write_contract_files(generate(accounts=800, seed=17, as_of=AS_OF), folder, "parquet")
    return folder


def _file_bytes(out: Path) -> dict[str, bytes]:
    """Every data file by (output, as_of folder, part number): Spark's names carry a run id."""
    files = {}
    for path in sorted(out.glob("*/as_of=*/part-*.parquet")):
        part = re.match(r"part-(\d+)", path.name)
        assert part is not None
        files[f"{path.parent.parent.name}/{path.parent.name}/{part.group(1)}"] = path.read_bytes()
    return files


def test_demo_all_outputs_equal_the_engine_and_rerun_is_identical(
    spark: Any, demo: Path, tmp_path: Path
) -> None:
    policy = default_policy()
    dates = [AS_OF - timedelta(days=31), AS_OF]
    outputs = ("account_status", "instalment_status", "statement_status")
    report = run_on_spark(spark, Inputs(folder=str(demo)), str(tmp_path / "a"), dates, policy,
                          outputs=outputs, partitions=4)  # fmt: skip
    portfolio, _, _ = read_contract_files(demo)
    want = {
        "account_status": account_status_history(portfolio, dates, policy),
        "instalment_status": pl.concat([
            instalment_status(portfolio, d, policy).with_columns(pl.lit(d).alias("as_of"))
            for d in dates]),
        "statement_status": pl.concat([
            statement_status(portfolio, d, policy).with_columns(pl.lit(d).alias("as_of"))
            for d in dates]),
    }  # fmt: skip
    keys = {"account_status": ["as_of", "account_id"],
            "instalment_status": ["as_of", "account_id", "period"],
            "statement_status": ["as_of", "account_id", "statement_date", "due_date"]}  # fmt: skip
    for name in outputs:
        got, version = read_output(tmp_path / "a", name)
        assert version == policy.version
        expected = want[name].sort(keys[name])
        assert got.select(expected.columns).sort(keys[name]).equals(expected), name
        assert report.rows[name] == expected.height > 0
    assert {p.parent.name for p in data_files(tmp_path / "a" / "account_status")} == {
        f"as_of={d.isoformat()}" for d in dates
    }
    manifest = json.loads((tmp_path / "a" / "_postloan_run.json").read_text())
    assert manifest["policy_version"] == policy.version
    assert manifest["dates"] == [d.isoformat() for d in dates]
    assert manifest["outputs"]["account_status"]["rows"] == want["account_status"].height
    # The same job again writes the same files, byte for byte.
    run_on_spark(spark, Inputs(folder=str(demo)), str(tmp_path / "b"), dates, policy,
                 outputs=outputs, partitions=4)  # fmt: skip
    first, second = _file_bytes(tmp_path / "a"), _file_bytes(tmp_path / "b")
    assert len(first) >= 2 * 3 and first == second


def test_skewed_customer_and_empty_partitions_from_tables(spark: Any, tmp_path: Path) -> None:
    """One customer holds 3,000 accounts, five others a few each, in 32 partitions (most of
    them empty); chunks of 2,000 rows: the big customer is computed whole, in one task. The
    inputs come as Spark tables named in a config file."""
    sp = generate(accounts=3_100, seed=5, as_of=AS_OF)
    customers = sp.loans.select("customer_id").unique().sort("customer_id")["customer_id"]
    big, few = customers[0], customers[1:6].to_list()

    def owner(frame: pl.DataFrame) -> pl.DataFrame:
        n = pl.int_range(pl.len())
        keep = pl.when(n < 5).then(pl.lit(few[0]))
        return frame.with_columns(keep.otherwise(pl.lit(big)).alias("customer_id"))

    portfolio = Portfolio(owner(sp.loans), sp.instalments, owner(sp.cards), sp.statements,
                          sp.payments)  # fmt: skip
    folder = write_portfolio(portfolio, tmp_path / "in")
    for kind in ("loans", "schedules", "cards", "card_statements", "payments"):
        spark.read.parquet(str(folder / f"{kind}.parquet")).createOrReplaceTempView(f"t_{kind}")
    config = tmp_path / "tables.toml"
    config.write_text("[tables]\n" + "".join(
        f'{k} = "t_{k}"\n' for k in ("loans", "schedules", "cards", "card_statements", "payments")
    ))  # fmt: skip
    policy = default_policy()
    report = run_on_spark(spark, Inputs.from_config(config), str(tmp_path / "out"), [AS_OF],
                          policy, partitions=32, chunk_rows=2_000)  # fmt: skip
    assert report.accounts == portfolio.loans.height + portfolio.cards.height
    got, _ = read_output(tmp_path / "out")
    want = account_status_history(portfolio, [AS_OF], policy)
    assert got.select(want.columns).sort("as_of", "account_id").equals(want)
    holding = [f for f in data_files(tmp_path / "out" / "account_status")
               if pl.read_parquet(f).filter(pl.col("customer_id") == big).height]  # fmt: skip
    assert len(holding) == 1, "the big customer's accounts are in one task's file"
    in_file = pl.read_parquet(holding[0]).filter(pl.col("customer_id") == big).height
    assert in_file == want.filter(pl.col("customer_id") == big).height > 1_000
    assert len(data_files(tmp_path / "out" / "account_status")) <= 2  # 30+ partitions empty
    assert policy_version_of(holding[0]) == policy.version


def test_csv_and_parquet_inputs_mixed(spark: Any, tmp_path: Path) -> None:
    """Loans and payments as CSV (all text), the rest as Parquet (typed): the slots the kinds
    share travel as text and are parsed exactly on the executor — the engine's answer."""
    sp = generate(accounts=200, seed=8, as_of=AS_OF)
    folder = write_portfolio(sp.portfolio, tmp_path / "in")
    for kind, frame in (("loans", sp.loans), ("payments", sp.payments)):
        (folder / f"{kind}.parquet").unlink()
        write_contract_file(frame, kind, folder / f"{kind}.csv")
    policy = default_policy()
    dates = [AS_OF - timedelta(days=45), AS_OF]
    got = _spark_status(spark, folder, tmp_path / "out", dates, policy, partitions=2)
    want = account_status_history(sp.portfolio, dates, policy)
    assert got.select(want.columns).sort("as_of", "account_id").equals(want)


def test_refusals_name_the_rows(spark: Any, tmp_path: Path) -> None:
    sp = generate(accounts=40, seed=2, as_of=AS_OF)
    stray = sp.payments.head(1).with_columns(pl.lit("NOPE-1").alias("account_id"))
    bad = Portfolio(sp.loans, sp.instalments, sp.cards, sp.statements,
                    pl.concat([sp.payments, stray]))  # fmt: skip
    folder = write_portfolio(bad, tmp_path / "stray")
    with pytest.raises(SparkInputError, match="NOPE-1"):
        run_on_spark(spark, Inputs(folder=str(folder)), str(tmp_path / "o1"), [AS_OF],
                     default_policy(), partitions=2)  # fmt: skip
    twice = sp.loans.head(1).with_columns(pl.lit("K-other").alias("customer_id"))
    dup = Portfolio(pl.concat([sp.loans, twice]), sp.instalments, sp.cards, sp.statements,
                    sp.payments)  # fmt: skip
    folder = write_portfolio(dup, tmp_path / "dup")
    with pytest.raises(SparkInputError, match=sp.loans["account_id"][0]):
        run_on_spark(spark, Inputs(folder=str(folder)), str(tmp_path / "o2"), [AS_OF],
                     default_policy(), partitions=2)  # fmt: skip


def test_cli_run_multi_date_and_missing_runtime(
    spark: Any, demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "cli"
    result = runner.invoke(app, ["spark", "run", "--from", "2026-06-28", "--to", "2026-06-30",
                                 "--input", str(demo), "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 date(s)" in result.output and "account_status" in result.output
    got, _ = read_output(out)
    assert sorted(got["as_of"].unique().to_list()) == [
        date(2026, 6, 28),
        date(2026, 6, 29),
        date(2026, 6, 30),
    ]
    # No Java: said plainly, exit 2, before any JVM is asked for.
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = runner.invoke(app, ["spark", "run", "--as-of", "2026-06-30", "--input",
                                 str(demo), "--output", str(tmp_path / "x")])  # fmt: skip
    assert result.exit_code == 2
    assert "openjdk-17-jre-headless" in result.output
    monkeypatch.undo()
    # No PySpark: the extra to install.
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)
    result = runner.invoke(app, ["spark", "run", "--as-of", "2026-06-30", "--input",
                                 str(demo), "--output", str(tmp_path / "y")])  # fmt: skip
    assert result.exit_code == 2
    assert "postloan[spark]" in result.output


def test_spark_submit_with_the_packaged_zip(spark: Any, demo: Path, tmp_path: Path) -> None:
    """`postloan spark package` + `spark-submit --py-files postloan.zip postloan_spark.py run …`
    (the cluster's way in), on local[1]: the driver and its Python workers import postloan from
    the zip — it is first on their path — and write the engine's answer."""
    result = runner.invoke(app, ["spark", "package", "--out", str(tmp_path / "dist")])
    assert result.exit_code == 0, result.output
    archive = tmp_path / "dist" / "postloan.zip"
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
    assert {"postloan/spark/task.py", "postloan/policy/default_policy.toml"} <= names
    submit = Path(sys.executable).parent / "spark-submit"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYSPARK_PYTHON"] = env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--conf", "spark.ui.enabled=false",
         "--py-files", str(archive), str(tmp_path / "dist" / "postloan_spark.py"),
         "run", "--as-of", AS_OF.isoformat(), "--input", str(demo),
         "--output", str(tmp_path / "out")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "stages: check" in done.stdout
    got, _ = read_output(tmp_path / "out")
    portfolio, _, _ = read_contract_files(demo)
    want = account_status_history(portfolio, [AS_OF], default_policy())
    assert got.select(want.columns).sort("as_of", "account_id").equals(want)
