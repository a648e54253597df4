"""Dense integer account keys and account partitions.

The engine works on integer keys (`acct`, 0..n−1), not the lenders' string ids: joins, sorts and
as-of searches on integers are several times faster and lighter. Mapping tens of millions of
schedule and payment rows by a hash join on strings is the slowest step there is, so we use the
fact that these rows arrive grouped by account (a store query orders them; the generator writes
them so): only the first row of each run of equal ids is looked up, and the run's key is copied
to the rest. The result is exact whatever the order — unordered input only means more runs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import polars as pl


class UnknownAccountError(ValueError):
    """A schedule, statement or payment row names an account the portfolio does not have."""


def attach_keys(frame: pl.DataFrame, keys: pl.Series, what: str) -> pl.DataFrame:
    """Add `acct` for each row's `account_id`; `keys` is the Enum-typed list of account ids."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.UInt32).alias("acct"))
    ids = frame.get_column("account_id")
    start = (ids != ids.shift(1)).fill_null(True)
    run = start.cast(pl.UInt32).cum_sum() - 1
    heads = ids.filter(start)
    known = heads.is_in(keys.implode())
    if not known.all():
        missing = heads.filter(~known).unique().sort().head(5).to_list()
        raise UnknownAccountError(f"{what}: account_id not in loans or cards: {missing}")
    head_keys = heads.cast(keys.dtype).to_physical().cast(pl.UInt32)
    return frame.with_columns(head_keys.gather(run).alias("acct"))


def partitions(n_accounts: int, size: int) -> Iterator[tuple[int, int]]:
    """Half-open key ranges [lo, hi) covering 0..n_accounts−1."""
    for lo in range(0, max(n_accounts, 1), size):
        yield lo, min(lo + size, n_accounts)


def split_by_account(frame: pl.DataFrame, size: int, n_parts: int) -> list[pl.DataFrame]:
    """Rows of each account partition, in partition order (frame needs an `acct` column)."""
    if frame.height and frame.get_column("acct").is_sorted():
        bounds = frame.get_column("acct").search_sorted(
            pl.Series([i * size for i in range(n_parts + 1)], dtype=pl.UInt32), side="left"
        )
        return [frame.slice(lo, hi - lo) for lo, hi in itertools.pairwise(bounds)]
    parts = frame.with_columns((pl.col("acct") // size).alias("_part")).partition_by(
        "_part", as_dict=True, include_key=False
    )
    empty = frame.clear()
    return [parts.get((i,), empty) for i in range(n_parts)]
