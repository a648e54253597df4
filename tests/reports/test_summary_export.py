"""Portfolio summary and account-status export, checked against plain recomputation."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from postloan.engine import account_status
from postloan.policy import default_policy
from postloan.reports.export import account_status_contract, write_account_status
from postloan.reports.summary import summarise
from postloan.synth import generate

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def status() -> pl.DataFrame:
    return account_status(generate(accounts=800, seed=7, as_of=AS_OF).portfolio, AS_OF)


def test_summary_matches_plain_sums(status: pl.DataFrame) -> None:
    policy = default_policy()
    summary = summarise(status, policy)
    rows = status.to_dicts()
    total = sum(r["outstanding_principal"] for r in rows)
    assert summary.accounts == len(rows)
    assert summary.outstanding_principal == total
    assert summary.overdue_amount == sum(r["overdue_amount"] for r in rows)
    dpd30 = sum(r["outstanding_principal"] for r in rows if r["dpd"] >= 30)
    assert summary.dpd30_ratio == pytest.approx(dpd30 / total)
    npl = sum(
        r["outstanding_principal"]
        for r in rows
        if r["risk_class"] in ("substandard", "doubtful", "loss")
    )
    assert summary.npl_ratio == pytest.approx(npl / total)
    # Every bucket of the policy appears once, in policy order, and counts add up.
    assert summary.by_bucket["bucket"].to_list() == [b.name for b in policy.dpd_buckets]
    for row in summary.by_bucket.iter_rows(named=True):
        assert row["accounts"] == sum(1 for r in rows if r["bucket"] == row["bucket"])
    assert summary.by_class["accounts"].sum() == len(rows)
    assert summary.dpd30_ratio > 0, "the synthetic portfolio has late payers"


def test_export_has_contract_columns_and_two_decimals(status: pl.DataFrame) -> None:
    out = account_status_contract(status)
    assert out.columns == [
        "account_id", "customer_id", "account_type", "as_of", "outstanding_principal",
        "overdue_principal", "overdue_interest", "overdue_amount", "dpd", "bucket",
        "risk_class", "consecutive_overdue_periods", "cumulative_overdue_periods",
        "last_payment_date",
    ]  # fmt: skip
    for column in ("outstanding_principal", "overdue_principal", "overdue_amount"):
        texts = out[column].to_list()
        cents = status[column].to_list()
        for text, value in zip(texts, cents, strict=True):
            assert text.split(".")[1].__len__() == 2
            assert Decimal(text) * 100 == value


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_written_file_round_trips_and_records_policy(
    status: pl.DataFrame, tmp_path: Path, suffix: str
) -> None:
    policy = default_policy()
    out = tmp_path / f"status{suffix}"
    sidecar = write_account_status(status, out, as_of=AS_OF, policy_version=policy.version)
    meta = json.loads(sidecar.read_text())
    assert meta["policy_version"] == policy.version
    assert meta["as_of"] == AS_OF.isoformat() and meta["rows"] == status.height
    back = pl.read_parquet(out) if suffix == ".parquet" else pl.read_csv(out, infer_schema=False)
    assert back.height == status.height
    amounts = back["overdue_amount"].cast(pl.String).to_list()
    assert [int(Decimal(a) * 100) for a in amounts] == status["overdue_amount"].to_list()
    if suffix == ".parquet":
        kv = pl.read_parquet_metadata(out)
        assert kv["postloan.policy_version"] == policy.version
