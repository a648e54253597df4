"""Contract values <-> engine values, vectorised and exact (no float on the way).

Amounts are decimal strings with at most 2 decimals <-> Int64 cents; rates are decimal strings
with at most 8 decimals <-> Int64 units of 1e-8 (`money.RATE_SCALE`); dates are ISO strings <->
`pl.Date`; booleans `true`/`false`. Parsing works on whole columns with string operations; a
value that does not parse raises `ContractValueError` naming the file, row and column.
"""

from __future__ import annotations

import polars as pl

from postloan.money import RATE_SCALE

_RATE_DECIMALS = 8
_AMOUNT = r"^[+-]?[0-9]{1,16}(\.[0-9]{1,2})?$"
_RATE = r"^[+-]?[0-9]{1,9}(\.[0-9]{1,8})?$"
_INTEGER = r"^[+-]?[0-9]{1,18}$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")


class ContractValueError(ValueError):
    """A value in a contract file that cannot be parsed."""


# ---------------------------------------------------------------- engine -> contract strings


def format_amount(col: pl.Expr) -> pl.Expr:
    """Int64 cents -> "1234.56" (exactly 2 decimals, "-" for negatives, no grouping)."""
    magnitude = col.abs()
    text = pl.concat_str(
        pl.when(col < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // 100).cast(pl.String),
        pl.lit("."),
        (magnitude % 100).cast(pl.String).str.zfill(2),
    )
    return _named_like(text, col)


def format_rate(col: pl.Expr) -> pl.Expr:
    """Int64 units of 1e-8 -> shortest decimal string ("0.0435", "0.12", "0")."""
    magnitude = col.abs()
    whole = pl.concat_str(
        pl.when(col < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // RATE_SCALE).cast(pl.String),
    )
    frac = (
        (magnitude % RATE_SCALE).cast(pl.String).str.zfill(_RATE_DECIMALS).str.strip_chars_end("0")
    )
    text = pl.when(frac == "").then(whole).otherwise(pl.concat_str(whole, pl.lit("."), frac))
    return _named_like(text, col)


def _named_like(expr: pl.Expr, source: pl.Expr) -> pl.Expr:
    name = source.meta.output_name(raise_if_undetermined=False)
    return expr.alias(name) if name else expr


# ---------------------------------------------------------------- contract strings -> engine


def _scaled_decimal(text: pl.Series, decimals: int) -> pl.Series:
    """Validated decimal strings -> Int64 of value * 10**decimals, with string operations."""
    parts = text.str.strip_chars_start("+-").str.split_exact(".", 1).struct.unnest()
    whole = parts["field_0"].cast(pl.Int64)
    frac = parts["field_1"].fill_null("").str.pad_end(decimals, "0").cast(pl.Int64)
    value = whole * 10**decimals + frac
    return pl.select(
        pl.when(pl.lit(text).str.starts_with("-")).then(-pl.lit(value)).otherwise(pl.lit(value))
    ).to_series()


def parse_column(frame: pl.DataFrame, column: str, kind: str, file: str) -> pl.Series:
    """Parse `frame[column]` as `kind` (text, amount, rate, integer, date, bool) into its engine
    type; empty strings and nulls become null. Columns already of the engine type (Parquet
    dates, integers, booleans) are taken as they are; integer amounts are whole units.
    Raises `ContractValueError` naming the first bad value's row and column."""
    value, bad = try_parse_column(frame, column, kind)
    if bad.any():
        raw = frame[column]
        row = int(bad.arg_true()[0])
        count = int(bad.sum())
        line = f" (line {row + 2})" if file.endswith(".csv") else ""
        more = f" ({count - 1} more bad value(s) in this column)" if count > 1 else ""
        raise ContractValueError(
            f"{file}: row {row + 1}{line}, column {column!r}: "
            f"cannot read {raw[row]!r} as {describe(kind)}{more}"
        )
    return value


def try_parse_column(frame: pl.DataFrame, column: str, kind: str) -> tuple[pl.Series, pl.Series]:
    """Like `parse_column`, but returns (values, bad) instead of raising: `bad` marks the rows
    whose non-empty value could not be read (their value is null)."""
    raw = frame[column]
    native = _native(raw, kind)
    if native is not None:
        return native.alias(column), pl.Series(column, [False] * raw.len(), dtype=pl.Boolean)
    text = raw.cast(pl.String).str.strip_chars()
    text = text.set(text == "", None)
    if kind == "amount":
        pattern, convert = _AMOUNT, lambda t: _scaled_decimal(t, 2)
    elif kind == "rate":
        pattern, convert = _RATE, lambda t: _scaled_decimal(t, _RATE_DECIMALS)
    elif kind == "integer":
        pattern, convert = _INTEGER, lambda t: t.cast(pl.Int64, strict=False)
    elif kind == "date":
        pattern, convert = _DATE, lambda t: t.str.to_date("%Y-%m-%d", strict=False)
    elif kind == "bool":
        text = text.str.to_lowercase()
        pattern = "^(" + "|".join(_TRUE + _FALSE) + ")$"
        convert = _to_bool
    elif kind == "text":
        return text.alias(column), pl.Series(column, [False] * raw.len(), dtype=pl.Boolean)
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    ok = text.str.contains(pattern).fill_null(False)
    value = convert(text.set(~ok, None))
    bad = text.is_not_null() & value.is_null()
    return value.alias(column), bad.alias(column)


def describe(kind: str) -> str:
    return _DESCRIPTION.get(kind, "text")


def _to_bool(text: pl.Series) -> pl.Series:
    return pl.select(
        pl.when(pl.lit(text).is_in(_TRUE)).then(True).when(pl.lit(text).is_in(_FALSE)).then(False)
    ).to_series()


def _native(raw: pl.Series, kind: str) -> pl.Series | None:
    """`raw` already in its engine type (typed Parquet columns), else None."""
    dtype = raw.dtype
    if kind == "text":
        text = raw.cast(pl.String)
        return text.set(text == "", None)
    if dtype == pl.String or dtype == pl.Null:
        return None
    if kind == "date" and dtype == pl.Date:
        return raw
    if kind == "date" and isinstance(dtype, pl.Datetime):
        return raw.dt.date()
    if kind == "bool" and dtype == pl.Boolean:
        return raw
    if dtype.is_integer():
        scale = {"amount": 100, "rate": RATE_SCALE, "integer": 1}.get(kind)
        if scale is not None:
            return raw.cast(pl.Int64) * scale
    return None


_DESCRIPTION = {
    "amount": "an amount (a decimal with at most 2 decimals, e.g. 1234.56)",
    "rate": "a rate (an annual decimal with at most 8 decimals, e.g. 0.0435)",
    "integer": "an integer",
    "date": "a date (YYYY-MM-DD)",
    "bool": "a boolean (true/false)",
}
