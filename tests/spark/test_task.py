"""What an executor runs (`postloan.spark.task`), without Spark: a partition's packed rows,
sorted by customer key and cut into Arrow batches of any size, through `run_partition` with
tiny chunks give the engine's answer — chunks are cut between keys only, whatever the batches,
and customers whose keys collide are computed together, never split."""

from __future__ import annotations

from datetime import date

import polars as pl
import pyarrow as pa
import pytest

from postloan.contract.files import to_contract
from postloan.engine import account_status_history
from postloan.policy import default_policy
from postloan.spark.job import partition_count
from postloan.spark.task import (
    ACCOUNT_KEY,
    KEY,
    KIND,
    KIND_CODE,
    OWNING_KINDS,
    PACKED_COLUMNS,
    SLOT_NAMES,
    SLOTS,
    Plan,
    SparkInputError,
    run_partition,
)
from postloan.synth import SyntheticPortfolio, generate

AS_OF = date(2026, 6, 30)
FRAMES = {"loans": "loans", "schedules": "schedule_overrides", "cards": "cards",
          "card_statements": "statements",
          "payments": "payments"}  # fmt: skip


def _packed(
    sp: SyntheticPortfolio, text: tuple[str, ...] = (), keys: int | None = None
) -> pl.DataFrame:
    """The packed frame `job.packed_rows` builds, here with polars: each kind's contract
    columns in their slots (typed as in the Parquet files, the kinds in `text` all text as from
    CSV; a slot of mixed types is text), every row keyed by its customer's hash — folded onto
    `keys` values to make customers collide — sorted by key."""
    contract = {}
    for kind, attr in FRAMES.items():
        frame = to_contract(getattr(sp, attr), kind)
        contract[kind] = frame.select(pl.all().cast(pl.String)) if kind in text else frame
    key = pl.col("customer_id").hash(7).reinterpret(signed=True)
    if keys is not None:
        key = key % keys
    owners = pl.concat(
        [contract[k].select(pl.col(ACCOUNT_KEY[k]).alias("_owned"), key.alias(KEY))
         for k in OWNING_KINDS]
    )  # fmt: skip
    types: dict[str, set[pl.DataType]] = {}
    for kind, frame in contract.items():
        for name, slot in SLOTS[kind].items():
            if name in frame.columns:
                types.setdefault(slot, set()).add(frame.schema[name])
    slot_type = {
        slot: next(iter(t)) if len(t := types.get(slot, {pl.String()})) == 1 else pl.String()
        for slot in SLOT_NAMES
    }
    parts = []
    for kind, frame in contract.items():
        keyed = (frame.with_columns(key.alias(KEY)) if kind in OWNING_KINDS
                 else frame.join(owners, left_on=ACCOUNT_KEY[kind], right_on="_owned",
                                 how="left"))  # fmt: skip
        by_slot = {slot: name for name, slot in SLOTS[kind].items() if name in frame.columns}
        parts.append(keyed.select(
            pl.col(KEY).cast(pl.Int64),
            pl.lit(KIND_CODE[kind], pl.Int8).alias(KIND),
            *((pl.col(by_slot[s]) if s in by_slot else pl.lit(None)).cast(slot_type[s]).alias(s)
              for s in SLOT_NAMES),
        ))  # fmt: skip
    packed = pl.concat(parts)
    assert tuple(packed.columns) == PACKED_COLUMNS
    return packed.sort(KEY, nulls_last=False)


@pytest.mark.parametrize(
    ("batch_rows", "chunk_rows", "text", "keys"),
    [
        (7, 1, (), None),
        (500, 300, (), None),
        (100_000, 10**9, (), None),
        (300, 200, ("loans", "payments"), None),  # CSV-like kinds: mixed slots travel as text
        (250, 100, (), 3),  # colliding keys: three groups of customers, never split
    ],
)
def test_any_batches_and_chunks_give_the_engines_answer(
    batch_rows: int, chunk_rows: int, text: tuple[str, ...], keys: int | None
) -> None:
    sp = generate(accounts=150, seed=9, as_of=AS_OF)
    dates = (AS_OF, date(2026, 5, 31))
    policy = default_policy()
    table = _packed(sp, text, keys).to_arrow()
    out = list(run_partition(table.to_batches(max_chunksize=batch_rows),
                             Plan(dates, policy, "account_status", chunk_rows)))  # fmt: skip
    got = pl.from_arrow(pa.Table.from_batches(out))
    assert isinstance(got, pl.DataFrame)
    want = account_status_history(sp.portfolio, list(dates), policy)
    assert got.sort("as_of", "account_id").equals(want)


def test_a_payment_for_no_account_is_refused_by_name() -> None:
    sp = generate(accounts=20, seed=1, as_of=AS_OF)
    packed = _packed(sp)
    stray = (
        packed.filter(pl.col(KIND) == KIND_CODE["payments"])
        .head(1)
        .with_columns(pl.lit("GHOST-7").alias("_account"), pl.lit(None, pl.Int64).alias(KEY))
    )
    rows = pl.concat([stray, packed]).to_arrow()
    with pytest.raises(SparkInputError, match=r"GHOST-7.*\(payments\)"):
        list(run_partition(rows.to_batches(), Plan((AS_OF,), default_policy())))


def test_partitions_come_in_whole_waves_of_the_cores() -> None:
    assert partition_count(100_000, 2) == 2  # 50,000 accounts a partition
    assert partition_count(120_000, 2) == 4  # 3 needed: a second wave for both cores
    assert partition_count(10, 8) == 8  # at least one a core
    assert partition_count(0, 0) == 1
