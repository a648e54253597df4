"""One local[2] SparkSession for the whole test session (starting a JVM costs seconds).

The Spark tests are skipped only when POSTLOAN_SKIP_SPARK=1, with that reason shown; otherwise
a missing PySpark or Java fails them (`postloan.spark.job.SparkUnavailable`), never silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from postloan.contract.files import write_contract_file
from postloan.engine.frames import Portfolio

SKIP_VAR = "POSTLOAN_SKIP_SPARK"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if os.environ.get(SKIP_VAR, "").strip() == "1":
        pytest.skip(f"{SKIP_VAR}=1: the Spark runner's tests are skipped on request")
    from postloan.spark.job import spark_session

    session = spark_session(
        "local[2]",
        "postloan-tests",
        {"spark.driver.memory": "1g", "spark.sql.shuffle.partitions": "4"},
    )
    yield session
    session.stop()


def write_portfolio(portfolio: Portfolio, folder: Path) -> Path:
    """An engine Portfolio as contract Parquet files (full schedules: hand-made ones too)."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, kind in (
        (portfolio.loans, "loans"),
        (portfolio.instalments, "schedules"),
        (portfolio.cards, "cards"),
        (portfolio.statements, "card_statements"),
        (portfolio.payments, "payments"),
    ):
        write_contract_file(frame, kind, folder / f"{kind}.parquet")
    return folder


def sorted_frame(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    return frame.sort(list(keys))
