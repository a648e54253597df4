"""Small vectorised helpers: weighted choices, epoch days, id strings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_EPOCH = date(1970, 1, 1).toordinal()


def epoch_days(d: date) -> int:
    return d.toordinal() - _EPOCH


def choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    """Indices 0..k-1 drawn with the given (unnormalised) weights."""
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    out: IntArray = np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)
    return out


def choice_rows(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One index per row of an (n, k) weight matrix, each row its own distribution."""
    cum: FloatArray = np.cumsum(weights, axis=1)
    cum /= cum[:, -1:]
    u = rng.random((weights.shape[0], 1))
    out: IntArray = (u >= cum).sum(axis=1).astype(np.int64)
    return np.minimum(out, weights.shape[1] - 1)


def uniform_int(
    rng: np.random.Generator,
    low: IntArray | int,
    high: IntArray | int,
    size: int | None = None,
) -> IntArray:
    """Integers uniform in [low, high] inclusive; arrays broadcast, `size` for scalar bounds."""
    low_a = np.asarray(low, dtype=np.int64)
    span = np.asarray(high, dtype=np.int64) - low_a + 1
    shape = np.broadcast(low_a, span).shape if size is None else (size,)
    out: IntArray = low_a + np.floor(rng.random(shape) * span).astype(np.int64)
    return out


def month_index(days: IntArray) -> IntArray:
    """Months since 1970-01 of epoch days."""
    out: IntArray = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return out


def month_start(months: IntArray) -> IntArray:
    """Epoch day of the first day of each month index."""
    out: IntArray = (
        np.asarray(months).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    )
    return out


Schema = dict[str, pl.DataType | type[pl.DataType]]


def widen(schema: dict[str, type[pl.DataType]]) -> Schema:
    """A frames.* schema typed as `frames.conform` / `frames.empty` declare it."""
    return dict(schema)


def ids(prefix: str, count: int, width: int, start: int = 1) -> pl.Series:
    """`prefix` + zero-padded counter: ids("L", 3, 8) -> L00000001, L00000002, L00000003."""
    numbers = pl.int_range(start, start + count, eager=True, dtype=pl.Int64)
    padded = numbers.cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), pl.lit(padded))).to_series()


def days_to_date(days: IntArray, name: str) -> pl.Series:
    return pl.Series(name, np.asarray(days, dtype=np.int32), dtype=pl.Int32).cast(pl.Date)


def lookup(values: Sequence[str], index: IntArray, name: str) -> pl.Series:
    """values[index] as a String series (gathered, not built string by string)."""
    return pl.Series(name, list(values), dtype=pl.String).gather(np.asarray(index))
