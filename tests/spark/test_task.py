"""What an executor runs (`postloan.spark.task`), without Spark: a partition's rows, sorted by
customer and cut into Arrow batches of any size, through `run_partition` with tiny chunks give
the engine's answer — chunks are cut between customers only, whatever the batches."""

from __future__ import annotations

from datetime import date

import polars as pl
import pyarrow as pa
import pytest

from postloan.contract.files import to_contract
from postloan.engine import account_status_history
from postloan.policy import default_policy
from postloan.spark.task import (
    ACCOUNT,
    ACCOUNT_KEY,
    CUSTOMER,
    KIND,
    NEEDED,
    WIDE_COLUMNS,
    Plan,
    SparkInputError,
    run_partition,
)
from postloan.synth import SyntheticPortfolio, generate

AS_OF = date(2026, 6, 30)
FRAMES = {"loans": "loans", "schedules": "schedule_overrides", "cards": "cards",
          "card_statements": "statements",
          "payments": "payments"}  # fmt: skip


def _wide(sp: SyntheticPortfolio) -> pl.DataFrame:
    """The combined frame `job.combined_rows` builds, here with polars: every needed contract
    column as text, each row tagged with its account's customer, sorted by customer."""
    parts = []
    for kind, attr in FRAMES.items():
        contract = to_contract(getattr(sp, attr), kind)
        rows = contract.select(
            pl.lit(kind).alias(KIND),
            pl.col(ACCOUNT_KEY[kind]).alias(ACCOUNT),
            *(
                (pl.col(c).cast(pl.String) if c in NEEDED[kind] and c in contract.columns
                 else pl.lit(None, pl.String)).alias(c)
                for c in WIDE_COLUMNS[3:]
            ),
        )  # fmt: skip
        parts.append(rows)
    wide = pl.concat(parts, how="vertical_relaxed")
    owners = pl.concat(
        [sp.loans.select("account_id", "customer_id"), sp.cards.select("account_id", "customer_id")]
    )
    owners = owners.rename({"account_id": ACCOUNT, "customer_id": CUSTOMER})
    wide = wide.join(owners, on=ACCOUNT, how="left")
    return wide.select(WIDE_COLUMNS).sort(CUSTOMER, KIND, ACCOUNT, nulls_last=False)


@pytest.mark.parametrize(("batch_rows", "chunk_rows"), [(7, 1), (500, 300), (100_000, 10**9)])
def test_any_batches_and_chunks_give_the_engines_answer(batch_rows: int, chunk_rows: int) -> None:
    sp = generate(accounts=150, seed=9, as_of=AS_OF)
    dates = (AS_OF, date(2026, 5, 31))
    policy = default_policy()
    table = _wide(sp).to_arrow()
    out = list(run_partition(table.to_batches(max_chunksize=batch_rows),
                             Plan(dates, policy, "account_status", chunk_rows)))  # fmt: skip
    got = pl.from_arrow(pa.Table.from_batches(out))
    assert isinstance(got, pl.DataFrame)
    want = account_status_history(sp.portfolio, list(dates), policy)
    assert got.sort("as_of", "account_id").equals(want)


def test_a_payment_for_no_account_is_refused_by_name() -> None:
    sp = generate(accounts=20, seed=1, as_of=AS_OF)
    wide = _wide(sp)
    stray = (
        wide.filter(pl.col(KIND) == "payments")
        .head(1)
        .with_columns(pl.lit("GHOST-7").alias(ACCOUNT), pl.lit(None, pl.String).alias(CUSTOMER))
    )
    rows = pl.concat([stray, wide]).to_arrow()
    with pytest.raises(SparkInputError, match="GHOST-7"):
        list(run_partition(rows.to_batches(), Plan((AS_OF,), default_policy())))
