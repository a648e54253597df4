"""Input tables as the models take them: pandas or polars in, typed columns out.

Numeric columns become float64 (missing = NaN); every other column is categorical text
(missing stays missing, so "NaN" never becomes a category of its own). The target becomes
0 (good) / 1 (bad) with reasons that name the column when it cannot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from postloan.modelling.errors import ModellingError

NUMERICAL = "numerical"
CATEGORICAL = "categorical"


def as_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    to_pandas = getattr(frame, "to_pandas", None)  # polars (and pyarrow) frames
    if to_pandas is None:
        raise TypeError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")
    out = to_pandas()
    if not isinstance(out, pd.DataFrame):
        raise TypeError(f"{type(frame).__name__}.to_pandas() gave no DataFrame")
    return out


def is_numeric(series: pd.Series) -> bool:
    # Booleans are yes/no categories, not magnitudes.
    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def feature_kinds(
    frame: pd.DataFrame, columns: Sequence[str], categorical: Iterable[str] = ()
) -> dict[str, str]:
    forced = set(categorical)
    return {
        c: CATEGORICAL if c in forced or not is_numeric(frame[c]) else NUMERICAL for c in columns
    }


def as_text(series: pd.Series) -> pd.Series:
    """Categories as plain Python strings in an object column, missing kept as NaN."""
    missing = series.isna().to_numpy()
    text = series.astype(str).astype(object).to_numpy(copy=True)
    text[missing] = np.nan
    return pd.Series(text, index=series.index, name=series.name, dtype=object)


def as_number(series: pd.Series, column: str) -> pd.Series:
    if is_numeric(series):
        return series.astype(np.float64)
    numbers = pd.to_numeric(series, errors="coerce")
    lost = numbers.isna() & series.notna()
    if lost.any():
        value = series[lost].iloc[0]
        raise ModellingError(f"expected numbers, found {value!r}", column)
    return numbers.astype(np.float64)


def typed_features(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """The feature columns in `kinds`, typed; a column missing from `frame` is an error."""
    absent = [c for c in kinds if c not in frame.columns]
    if absent:
        raise ModellingError(f"feature column(s) missing from the data: {', '.join(absent)}")
    return pd.DataFrame(
        {
            c: as_number(frame[c], c) if kind == NUMERICAL else as_text(frame[c])
            for c, kind in kinds.items()
        },
        index=frame.index,
    )


def binary_target(frame: pd.DataFrame, target: str, bad: str | None) -> npt.NDArray[np.int8]:
    """1 for bad, 0 for good. Without `bad` the target must be numeric 0/1 (1 = bad); with it,
    rows equal to `bad` are bad (compared as numbers when the column is numeric)."""
    if target not in frame.columns:
        raise ModellingError(
            f"target column not in the data (columns: {', '.join(map(str, frame.columns))})",
            target,
        )
    series = frame[target]
    if series.isna().any():
        raise ModellingError(f"{int(series.isna().sum())} row(s) have no target value", target)
    values = sorted(map(str, series.unique()))
    shown = ", ".join(values[:10]) + (" …" if len(values) > 10 else "")
    if bad is None:
        if not is_numeric(series):
            raise ModellingError(
                f"target is not numeric: name the bad value with --bad (values: {shown})", target
            )
        if not set(np.unique(series.to_numpy(dtype=np.float64))) <= {0.0, 1.0}:
            raise ModellingError(
                f"a numeric target must be 0 (good) / 1 (bad), or name the bad value with "
                f"--bad (values: {shown})",
                target,
            )
        y = series.to_numpy(dtype=np.float64).astype(np.int8)
    else:
        if is_numeric(series):
            try:
                bad_number = float(bad)
            except ValueError:
                raise ModellingError(f"bad value {bad!r} is not a number", target) from None
            y = (series.to_numpy(dtype=np.float64) == bad_number).astype(np.int8)
        else:
            y = (as_text(series).to_numpy() == bad).astype(np.int8)
        if not y.any():
            raise ModellingError(f"bad value {bad!r} does not occur (values: {shown})", target)
    if y.all() or not y.any():
        raise ModellingError(
            f"target has a single class ({shown}): a scorecard needs both goods and bads", target
        )
    return y
