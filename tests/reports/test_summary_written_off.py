"""Written-off and disposed accounts leave the performing pool from their effective date:
the summary checked against a plain recomputation over a synthetic portfolio."""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl
import pytest

from postloan.engine import account_status
from postloan.policy import default_policy
from postloan.reports.summary import NON_PERFORMING, summarise
from postloan.synth import generate

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def status() -> pl.DataFrame:
    return account_status(generate(accounts=600, seed=5, as_of=AS_OF).portfolio, AS_OF)


def _disposed(status: pl.DataFrame, seed: int) -> pl.DataFrame:
    """A random third of the accounts 30+ days overdue, each written off or disposed on a date
    around AS_OF (some after it: not yet out)."""
    rng = random.Random(seed)
    overdue = sorted(status.filter(pl.col("dpd") >= 30)["account_id"].to_list())
    chosen = rng.sample(overdue, len(overdue) // 3)
    return pl.DataFrame(
        {
            "account_id": chosen,
            "kind": [rng.choice(["write_off", "asset_disposal"]) for _ in chosen],
            "effective_on": [AS_OF + timedelta(days=rng.randint(-20, 5)) for _ in chosen],
        },
        schema={"account_id": pl.String, "kind": pl.String, "effective_on": pl.Date},
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_written_off_balances_leave_the_pool(status: pl.DataFrame, seed: int) -> None:
    policy = default_policy()
    disposed = _disposed(status, seed)
    out_on = {r["account_id"]: (r["kind"], r["effective_on"]) for r in disposed.to_dicts()}
    rows = status.to_dicts()
    kept = [r for r in rows if not (r["account_id"] in out_on
                                    and out_on[r["account_id"]][1] <= r["as_of"])]  # fmt: skip
    removed = [r for r in rows if r not in kept]
    assert removed and len(removed) < len(disposed), "some out, some not yet effective"
    summary = summarise(status, policy, disposed)
    total = sum(r["outstanding_principal"] for r in kept)
    assert summary.accounts == len(kept)
    assert summary.outstanding_principal == total
    assert summary.overdue_amount == sum(r["overdue_amount"] for r in kept)
    dpd30 = sum(r["outstanding_principal"] for r in kept if r["dpd"] >= 30)
    npl = sum(r["outstanding_principal"] for r in kept if r["risk_class"] in NON_PERFORMING)
    assert summary.dpd30_ratio == pytest.approx(dpd30 / total)
    assert summary.npl_ratio == pytest.approx(npl / total)
    for row in summary.by_bucket.iter_rows(named=True):
        assert row["accounts"] == sum(1 for r in kept if r["bucket"] == row["bucket"])
    assert summary.written_off_accounts == len(removed)
    assert summary.written_off_principal == sum(r["outstanding_principal"] for r in removed)
    for kind, accounts, principal, overdue in summary.written_off.rows():
        mine = [r for r in removed if out_on[r["account_id"]][0] == kind]
        assert accounts == len(mine)
        assert principal == sum(r["outstanding_principal"] for r in mine)
        assert overdue == sum(r["overdue_amount"] for r in mine)
    # taking overdue balances out lowers the DPD30+ ratio: why write-offs must be reported apart
    assert summary.dpd30_ratio < summarise(status, policy).dpd30_ratio


def test_nothing_disposed_changes_nothing(status: pl.DataFrame) -> None:
    policy = default_policy()
    plain = summarise(status, policy)
    empty = summarise(status, policy, _disposed(status, 1).clear())
    assert (plain.accounts, plain.outstanding_principal, plain.dpd30_ratio) == (
        empty.accounts, empty.outstanding_principal, empty.dpd30_ratio
    )  # fmt: skip
    assert plain.written_off_accounts == 0 and plain.written_off["accounts"].sum() == 0
    assert plain.written_off["kind"].to_list() == ["write_off", "asset_disposal"]
