"""The Spark side of a run: the session, the inputs, partitioning by customer, the engine on
every partition through Arrow, partitioned Parquet out, stage timings and progress.

`run_on_spark(spark, inputs, output, dates, policy)` is the whole job:
1. **check** — the account ids (loans and cards) are counted and checked for duplicates
   across the whole portfolio (the engine checks within its partition only);
2. every contract row is packed into a narrow typed row (`task.SLOTS`: dates stay dates,
   integers integers) keyed by a hash of its account's customer (one join, broadcast while
   the accounts are small), hash-partitioned by that key and sorted by it (a long) inside each
   partition — whole customers together, no text re-parsing of typed values;
3. **account_status** (then `instalment_status` / `statement_status` when asked): each
   partition goes to `task.run_partition` through `mapInArrow` and the answer is written as
   Parquet partitioned by `as_of`, sorted, so a re-run writes the same bytes;
4. `_postloan_run.json`: policy version, dates, rows, timings.
Only this package imports pyspark; it is imported lazily so `postloan` works without it.
"""

from __future__ import annotations

import functools
import json
import math
import os
import shutil
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from postloan.contract.spec import FILES
from postloan.policy import Policy
from postloan.spark.output import MANIFEST, POLICY_KEY
from postloan.spark.task import (
    ACCOUNT_KEY,
    KEY,
    KIND,
    KIND_CODE,
    NEEDED,
    OUTPUTS,
    OWNING_KINDS,
    SLOT_NAMES,
    SLOTS,
    Plan,
    SparkInputError,
    arrow_schema,
    run_partition,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

ACCOUNT = "_account"  # an account id of the portfolio (the duplicate check's column)
ACCOUNTS_PER_PARTITION = 50_000  # a task's work: ~10 s of engine time, ~0.5 GB of Python heap
SORT_KEYS = {
    "account_status": ("as_of", "account_id"),
    "instalment_status": ("as_of", "account_id", "period"),
    "statement_status": ("as_of", "account_id", "statement_date", "due_date"),
}
Say = Callable[[str], None]


class SparkUnavailable(RuntimeError):
    """PySpark or Java is missing: the message says what to install."""


def check_runtime() -> None:
    """Refuse early, in plain words, when PySpark or Java is missing (not a JVM traceback)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(
            "PySpark is not installed: pip install 'postloan[spark]' (PySpark 4.0 with Java 17)"
        ) from None
    home = os.environ.get("JAVA_HOME")
    java = Path(home, "bin", "java") if home else None
    if not (java and java.exists()) and shutil.which("java") is None:
        raise SparkUnavailable(
            "Java is not installed (Spark 4 needs Java 17 or 21): on Debian/Ubuntu "
            "apt-get install openjdk-17-jre-headless, or set JAVA_HOME"
        )


def spark_session(
    master: str | None = None, app_name: str = "postloan", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A session for postloan's jobs. Without `master`, the one spark-submit was given (or
    Spark's default, local[*]). Local Python workers run this interpreter (its packages)."""
    check_runtime()
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # launched by spark-submit: its conf rules
    if not submitted and (master is None or master.startswith("local")):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = {
        "spark.sql.session.timeZone": "UTC",  # dates stay dates: no zone shifts on the way
        "spark.ui.showConsoleProgress": "false",  # progress is ours (`Progress`)
        "spark.sql.execution.arrow.maxRecordsPerBatch": "50000",
        **(conf or {}),
    }
    if (
        master is None or master.startswith("local")
    ) and "spark.sql.shuffle.partitions" not in settings:
        # One machine: the check's and the join's shuffles in a few partitions, not Spark's
        # 200 (each a task to schedule). A cluster keeps its own setting; the repartition by
        # customer sets its own count either way.
        settings["spark.sql.shuffle.partitions"] = "8"
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


# --------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Inputs:
    """Where the contract inputs are: a folder as `postloan export` writes it (`<kind>.parquet`,
    a file or a Spark-written folder, or `<kind>.csv`), or Spark/Hive tables by kind."""

    folder: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, path: str | Path) -> Inputs:
        """A TOML file: `[tables]` with `loans = "lake.loans"`, `cards`, `card_statements`,
        `payments` and optionally `schedules`."""
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
        tables = config.get("tables", {})
        unknown = sorted(set(tables) - set(NEEDED))
        if unknown or not isinstance(tables, dict) or not tables:
            raise SparkInputError(
                f"{path}: [tables] names the tables of {', '.join(NEEDED)}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        return cls(tables={str(k): str(v) for k, v in tables.items()})

    def describe(self) -> str:
        return self.folder or ", ".join(f"{k}={v}" for k, v in sorted(self.tables.items()))


def _jvm_fs(spark: SparkSession, path: str) -> tuple[Any, Any]:
    jvm: Any = spark._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    conf = spark._jsc.hadoopConfiguration()
    return hadoop_path.getFileSystem(conf), hadoop_path


def _exists(spark: SparkSession, path: str) -> bool:
    """On any file system Spark reads (local, HDFS, S3A …), through Hadoop's API."""
    fs, hadoop_path = _jvm_fs(spark, path)
    return bool(fs.exists(hadoop_path))


def _read_kind(spark: SparkSession, inputs: Inputs, kind: str) -> DataFrame | None:
    if inputs.tables:
        name = inputs.tables.get(kind)
        return spark.table(name) if name else None
    assert inputs.folder is not None
    base = inputs.folder.rstrip("/")
    for candidate in (f"{base}/{kind}.parquet", f"{base}/{kind}"):
        if _exists(spark, candidate):
            return spark.read.parquet(candidate)
    if _exists(spark, f"{base}/{kind}.csv"):  # text all the way: parsed exactly on executors
        return (
            spark.read.option("header", True).option("inferSchema", False).csv(f"{base}/{kind}.csv")
        )
    return None


def _typed(kind: str, frame: DataFrame) -> DataFrame:
    """A kind's needed columns in their own types where the engine reads those exactly — dates
    as dates, integer counts and whole-unit amounts as 64-bit integers (what `parse_contract`
    takes as they are) — and every other value as text, parsed exactly on the executor (ids
    always as text, so loans' and payments' account ids meet whatever their types in the
    lake). A missing optional column is null."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    present = set(frame.columns)
    missing = [c.name for c in FILES[kind] if c.required and c.name not in present]
    if missing:
        raise SparkInputError(f"{kind}: missing required column(s) {', '.join(missing)}")
    contract_kind = {c.name: c.kind for c in FILES[kind]}
    types = {f.name: f.dataType for f in frame.schema.fields}
    columns = []
    for name in NEEDED[kind]:
        dtype, what = types.get(name), contract_kind[name]
        if dtype is None:
            column = F.lit(None).cast("date" if what == "date" else "string")
        elif what == "date" and isinstance(dtype, T.DateType):
            column = F.col(name)
        elif what in ("integer", "amount", "rate") and isinstance(dtype, T.IntegralType):
            column = F.col(name).cast("long")
        else:
            column = F.col(name).cast("string")
        columns.append(column.alias(name))
    return frame.select(columns)


def _customer_key(customer: Column) -> Column:
    """The partitioning key of a customer: a 64-bit hash (null for no customer, so such rows
    are refused by the task, not hashed together)."""
    from pyspark.sql import functions as F

    return F.when(customer.isNotNull(), F.xxhash64(customer))


def packed_rows(spark: SparkSession, inputs: Inputs) -> tuple[DataFrame, DataFrame]:
    """(every contract row packed as `_key`, `_kind` and the typed slots (`task.SLOTS`), the
    accounts: `_account` and `_key` of every loan and card)."""
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    read = {kind: _read_kind(spark, inputs, kind) for kind in NEEDED}
    if read["loans"] is None and read["cards"] is None:
        raise SparkInputError(f"no loans and no cards in {inputs.describe()}")
    typed = {kind: _typed(kind, frame) for kind, frame in read.items() if frame is not None}
    # A slot keeps its columns' type when they share one (Parquet from `postloan export`:
    # dates, integers), else all of them travel as text.
    slot_types: dict[str, set[T.DataType]] = {}
    for kind, frame in typed.items():
        for f in frame.schema.fields:
            slot_types.setdefault(SLOTS[kind][f.name], set()).add(f.dataType)
    slot_type = {
        slot: next(iter(types))
        if len(types := slot_types.get(slot, set())) == 1
        else T.StringType()
        for slot in SLOT_NAMES
    }
    accounts = functools.reduce(
        DataFrame.unionByName,
        [
            frame.select(
                F.col(ACCOUNT_KEY[kind]).alias(ACCOUNT),
                _customer_key(F.col("customer_id")).alias(KEY),
            )
            for kind, frame in typed.items()
            if kind in OWNING_KINDS
        ],
    )

    def packed(kind: str, frame: DataFrame, key: Column) -> DataFrame:
        by_slot = {slot: name for name, slot in SLOTS[kind].items()}
        return frame.select(
            key.alias(KEY),
            F.lit(KIND_CODE[kind]).cast("tinyint").alias(KIND),
            *(
                (F.col(by_slot[slot]) if slot in by_slot else F.lit(None))
                .cast(slot_type[slot])
                .alias(slot)
                for slot in SLOT_NAMES
            ),
        )

    parts = []
    for kind, frame in typed.items():
        if kind in OWNING_KINDS:
            parts.append(packed(kind, frame, _customer_key(F.col("customer_id"))))
        else:
            # A row of no known account keeps a null key: its task refuses it by name. Spark
            # picks the join (a broadcast of the accounts while they are small).
            owner = accounts.withColumnRenamed(ACCOUNT, "_owner_account")
            joined = frame.join(owner, frame[ACCOUNT_KEY[kind]] == owner["_owner_account"], "left")
            parts.append(packed(kind, joined, F.col(KEY)))
    return functools.reduce(DataFrame.unionByName, parts), accounts


def partition_count(accounts: int, cores: int) -> int:
    """About `ACCOUNTS_PER_PARTITION` accounts a partition, in whole waves of the cluster's
    cores: 3 partitions on 2 cores would leave a core idle for the third's whole time."""
    needed = max(1, math.ceil(accounts / ACCOUNTS_PER_PARTITION))
    cores = max(1, cores)
    return math.ceil(needed / cores) * cores


def check_accounts(accounts: DataFrame) -> int:
    """The number of accounts; refuses an account id used twice (loans and cards share ids)."""
    from pyspark.sql import functions as F

    per_id = accounts.groupBy(ACCOUNT).count()
    totals = per_id.agg(
        F.sum("count").alias("accounts"),
        F.sum(F.when(F.col("count") > 1, 1).otherwise(0)).alias("duplicated"),
    ).first()
    assert totals is not None
    if totals["duplicated"]:
        dupes = [r[ACCOUNT] for r in per_id.filter("count > 1").orderBy(ACCOUNT).limit(5).collect()]
        raise SparkInputError(f"account ids must be unique across loans and cards: {dupes}")
    return int(totals["accounts"] or 0)


# --------------------------------------------------------------------------------------------
# Output


def spark_schema(output: str, policy: Policy) -> StructType:
    """The output's Spark schema, the policy version in its first field's metadata (Spark
    keeps it in every Parquet footer it writes)."""
    from pyspark.sql import types as T

    kinds = {
        pa.string(): T.StringType(),
        pa.int64(): T.LongType(),
        pa.int32(): T.IntegerType(),
        pa.date32(): T.DateType(),
        pa.bool_(): T.BooleanType(),
    }
    fields = []
    for i, column in enumerate(arrow_schema(output, policy)):
        metadata = (
            {POLICY_KEY: policy.version, "postloan.output": output,
             "postloan.amounts": "integer minor units (分)"}
            if i == 0 else {}
        )  # fmt: skip
        fields.append(T.StructField(column.name, kinds[column.type], True, metadata))
    return T.StructType(fields)


class Progress:
    """Prints the running stages' task counts every few seconds (a polling thread over Spark's
    status tracker), so a long job shows it is moving."""

    def __init__(self, spark: SparkSession, say: Say, every: float = 5.0) -> None:
        self._tracker = spark.sparkContext.statusTracker()
        self._say, self._every = say, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(self._every):
            try:
                parts = []
                for stage_id in self._tracker.getActiveStageIds():
                    info = self._tracker.getStageInfo(stage_id)
                    if info is not None:
                        parts.append(
                            f"stage {stage_id}: {info.numCompletedTasks}/{info.numTasks} tasks"
                        )
                if parts:
                    self._say("  … " + "; ".join(parts))
            except Exception:  # progress is a courtesy: never fail the job for it
                return


@dataclass
class SparkRunReport:
    accounts: int
    partitions: int
    rows: dict[str, int]
    timings: dict[str, float]
    manifest: dict[str, Any]


def _rows_written(spark: SparkSession, path: str) -> int:
    """Rows in what was just written (Parquet footers only); a run in which no account is
    open on any date writes no data file at all."""
    from pyspark.errors import AnalysisException

    try:
        return spark.read.parquet(path).count()
    except AnalysisException:  # no data file to read a schema from: nothing written
        return 0


def _executor_refusal(exc: Exception) -> SparkInputError | None:
    """A task's `SparkInputError` reaches the driver inside Spark's error text: the refusal
    again, in its own words (not a JVM stack trace)."""
    marker = f"{SparkInputError.__name__}: "
    text = str(exc)
    if marker not in text:
        return None
    return SparkInputError(text.split(marker, 1)[1].strip().splitlines()[0])


def _write_text(spark: SparkSession, path: str, text: str) -> None:
    fs, hadoop_path = _jvm_fs(spark, path)
    stream = fs.create(hadoop_path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def run_on_spark(
    spark: SparkSession,
    inputs: Inputs,
    output: str,
    dates: Sequence[date],
    policy: Policy,
    *,
    outputs: Sequence[str] = ("account_status",),
    partitions: int | None = None,
    chunk_rows: int | None = None,
    say: Say | None = None,
) -> SparkRunReport:
    """The whole job (module doc); `output` is a folder on any file system Spark writes."""
    from pyspark import StorageLevel

    say = say or (lambda _: None)
    ordered = tuple(sorted(set(dates)))
    if not ordered:
        raise ValueError("a Spark run needs at least one date")
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown or "account_status" not in outputs:
        raise ValueError(f"outputs: account_status and any of {OUTPUTS[1:]}; not {unknown}")
    timings: dict[str, float] = {}
    base = output.rstrip("/")
    with Progress(spark, say):
        t = time.perf_counter()
        rows, accounts = packed_rows(spark, inputs)
        n_accounts = check_accounts(accounts)
        timings["check"] = time.perf_counter() - t
        n_parts = partitions or partition_count(n_accounts, spark.sparkContext.defaultParallelism)
        say(f"check: {n_accounts:,} accounts in {n_parts} partitions by customer "
            f"({timings['check']:.1f} s)")  # fmt: skip
        # Sorted by the customer key only (a long: Spark's radix sort), so a task can cut its
        # partition into chunks of whole customers as the rows stream in.
        by_customer = rows.repartition(n_parts, KEY).sortWithinPartitions(KEY)
        if len(outputs) > 1:  # computed once, read by every output's pass
            by_customer = by_customer.persist(StorageLevel.MEMORY_AND_DISK)
        written: dict[str, int] = {}
        for name in outputs:
            t = time.perf_counter()
            plan = Plan(ordered, policy, name, *([chunk_rows] if chunk_rows else []))
            result = by_customer.mapInArrow(
                partial(run_partition, plan=plan), spark_schema(name, policy)
            )
            try:
                (
                    result.sortWithinPartitions(*SORT_KEYS[name])
                    .write.mode("overwrite")
                    .option("compression", "zstd")
                    .partitionBy("as_of")
                    .parquet(f"{base}/{name}")
                )
            except Exception as exc:
                refusal = _executor_refusal(exc)
                if refusal is None:
                    raise
                raise refusal from None
            timings[name] = time.perf_counter() - t
            written[name] = _rows_written(spark, f"{base}/{name}")
            say(f"{name}: {written[name]:,} rows written ({timings[name]:.1f} s)")
        if len(outputs) > 1:
            by_customer.unpersist()
    manifest = {
        "policy_version": policy.version,
        "dates": [d.isoformat() for d in ordered],
        "outputs": {name: {"rows": n, "path": f"{base}/{name}"} for name, n in written.items()},
        "accounts": n_accounts,
        "partitions": n_parts,
        "input": inputs.describe(),
        "spark": spark.version,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    _write_text(spark, f"{base}/{MANIFEST}", json.dumps(manifest, indent=2, sort_keys=True))
    return SparkRunReport(n_accounts, n_parts, written, timings, manifest)
