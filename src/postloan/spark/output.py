"""Reading what a Spark run wrote — without Spark (polars and pyarrow), for the hand-back to
the store (`runs.handback`) and for checks: the rows of an output and the policy version that
Spark kept in every file's schema metadata.

Layout: `OUTPUT/account_status/as_of=YYYY-MM-DD/part-*.parquet` (likewise
`instalment_status/`, `statement_status/`) and `OUTPUT/_postloan_run.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from postloan.engine.frames import ACCOUNT_STATUS

POLICY_KEY = "postloan.policy_version"
MANIFEST = "_postloan_run.json"
SPARK_ROW_METADATA = b"org.apache.spark.sql.parquet.row.metadata"  # Spark's schema, as JSON


class OutputError(ValueError):
    """A folder that is not (or not all) one Spark run's output."""


def output_folder(path: str | Path, output: str = "account_status") -> Path:
    """`path` itself when it holds `as_of=` folders, else its `output` subfolder."""
    base = Path(path)
    if (base / output).is_dir():
        return base / output
    if base.is_dir():
        return base
    raise OutputError(f"{base}: no such folder")


def data_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("as_of=*/*.parquet"))


def policy_version_of(file: Path) -> str | None:
    """The policy version Spark kept in the file's footer (our field metadata), or None."""
    metadata = pq.read_schema(file).metadata or {}
    raw = metadata.get(SPARK_ROW_METADATA)
    if raw is None:
        return None
    for spark_field in json.loads(raw).get("fields", []):
        version = (spark_field.get("metadata") or {}).get(POLICY_KEY)
        if version:
            return str(version)
    return None


def read_output(path: str | Path, output: str = "account_status") -> tuple[pl.DataFrame, str]:
    """(every row of the output, `as_of` a date column; the one policy version of its files).
    Refuses files without a version or with different versions (two runs mixed)."""
    folder = output_folder(path, output)
    files = data_files(folder)
    if not files:
        # A run in which no account is open on any of its dates writes no data file: its
        # manifest still says which policy it ran.
        manifest = folder.parent / MANIFEST
        if not manifest.exists():
            raise OutputError(f"{folder}: no as_of=…/*.parquet files (not a spark run's output)")
        version = json.loads(manifest.read_text(encoding="utf-8"))["policy_version"]
        empty = (
            pl.DataFrame(schema=ACCOUNT_STATUS) if output == "account_status" else pl.DataFrame()
        )
        return empty, str(version)
    versions = {policy_version_of(f) for f in files}
    if None in versions:
        raise OutputError(f"{folder}: files without a postloan policy version in their metadata")
    if len(versions) > 1:
        raise OutputError(
            f"{folder}: files of different policy versions {sorted(map(str, versions))}"
        )
    frames = [
        pl.read_parquet(f).with_columns(
            pl.lit(f.parent.name.removeprefix("as_of=")).str.to_date("%Y-%m-%d").alias("as_of")
        )
        for f in files
    ]
    return pl.concat(frames), str(versions.pop())
