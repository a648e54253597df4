"""`postloan spark run|package`: the daily engine on Apache Spark (`postloan.spark`,
`docs/scale-out.md`).

`spark run` reads contract files (or tables) and writes Parquet; it never touches the store,
so, like `model` and `policy validate`, it needs no permission action — handing its output
back to the store is `postloan import account-status`, which does. Under `spark-submit` it
runs on whatever master spark-submit was given (`spark package` writes the entry script and
the zip to ship).

Exit codes: 0 done; 1 the inputs are refused (the message says which rows); 2 usage, or
PySpark or Java missing (the message says what to install).
The Spark package is imported inside the commands: every other command would otherwise pay
for loading pyarrow's and the job's modules.
"""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import typer
from rich.console import Console

from postloan.cli.common import business_date, policy_from

app = typer.Typer(
    help="The daily engine on Apache Spark: contract files or tables in, Parquet out.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)

OUTPUT_NAMES = {"instalment-status": "instalment_status", "statement-status": "statement_status"}
ENTRY_SCRIPT = '''"""spark-submit entry point for postloan (written by `postloan spark package`)."""
import sys

from postloan.cli.main import main

sys.argv = ["postloan", "spark", *sys.argv[1:]]
main()
'''


@app.command("run")
def spark_run(
    output: str = typer.Option(..., "--output", help="Output folder (local, hdfs://, s3a://…)."),
    input_: str | None = typer.Option(
        None, "--input", help="Folder of contract files (`postloan export` Parquet or CSV)."
    ),
    tables: Path | None = typer.Option(
        None, "--tables", help="TOML file naming Spark/Hive tables per kind ([tables])."
    ),
    as_of: str | None = typer.Option(None, help="Business date D (YYYY-MM-DD)."),
    from_: str | None = typer.Option(None, "--from", help="First date of a multi-date run."),
    to: str | None = typer.Option(None, "--to", help="Last date (inclusive)."),
    with_: list[str] = typer.Option(
        [], "--with", help="Also write instalment-status and/or statement-status."
    ),
    master: str | None = typer.Option(
        None, help="Spark master (local[2], yarn, k8s://…); default: spark-submit's, or local[*]."
    ),
    partitions: int | None = typer.Option(
        None, min=1, help="Partitions by customer (default: one per 50,000 accounts)."
    ),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy TOML file."),
) -> None:
    """Compute account status for D (or every date --from..--to) on Spark; write Parquet
    partitioned by as_of, the policy version in the files' metadata."""
    from postloan.runs.service import date_range
    from postloan.spark.job import Inputs, SparkUnavailable, run_on_spark, spark_session
    from postloan.spark.task import SparkInputError

    if (input_ is None) == (tables is None):
        err.print("give exactly one of --input FOLDER or --tables FILE")
        raise typer.Exit(2)
    if (as_of is None) == (from_ is None and to is None) or (as_of is None and not (from_ and to)):
        err.print("give --as-of D, or --from D1 --to D2")
        raise typer.Exit(2)
    if as_of is not None:
        dates = [business_date(as_of)]
    else:
        first, last = business_date(from_ or "", "--from"), business_date(to or "", "--to")
        if last < first:
            err.print("--to must not be before --from")
            raise typer.Exit(2)
        dates = date_range(first, last)
    extra = [OUTPUT_NAMES.get(name) for name in with_]
    if None in extra:
        err.print(f"--with: one of {', '.join(OUTPUT_NAMES)}")
        raise typer.Exit(2)
    policy = policy_from(policy_file)
    try:
        inputs = Inputs.from_config(tables) if tables else Inputs(folder=input_)
        started = time.perf_counter()
        spark = spark_session(master, "postloan spark run")
        console.print(f"Spark {spark.version} on {spark.sparkContext.master} "
                      f"({time.perf_counter() - started:.1f} s to start)")  # fmt: skip
        report = run_on_spark(
            spark, inputs, output, dates, policy,
            outputs=("account_status", *(name for name in extra if name)),
            partitions=partitions, say=console.print,
        )  # fmt: skip
    except SparkUnavailable as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    except (SparkInputError, OSError, ValueError) as exc:
        err.print(f"refused: {exc}", markup=False)
        raise typer.Exit(1) from None
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    console.print(
        f"{len(dates)} date(s), {report.accounts:,} accounts, {report.partitions} partitions; "
        f"{report.rows['account_status']:,} account-status rows in {output} "
        f"(policy {policy.version[:12]}); stages: {stages}"
    )


@app.command("package")
def spark_package(
    out: Path = typer.Option(..., "--out", help="Folder for postloan.zip and postloan_spark.py."),
) -> None:
    """Write what spark-submit ships: postloan.zip (this postloan package, for --py-files)
    and the entry script postloan_spark.py."""
    import postloan

    source = Path(postloan.__file__).parent
    out.mkdir(parents=True, exist_ok=True)
    archive = out / "postloan.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                zf.write(path, Path("postloan") / path.relative_to(source))
    entry = out / "postloan_spark.py"
    entry.write_text(ENTRY_SCRIPT, encoding="utf-8")
    console.print(f"wrote {archive} and {entry}; run:\n  spark-submit --py-files {archive} "
                  f"{entry} run --as-of D --input IN --output OUT", markup=False)  # fmt: skip
