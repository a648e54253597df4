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


def _scaled_decimal(text: pl.Expr, decimals: int) -> pl.Expr:
    """A validated decimal string -> Int64 of value * 10**decimals."""
    negative = text.str.starts_with("-")
    body = text.str.strip_chars_start("+-")
    whole = body.str.extract(r"^([0-9]+)", 1).cast(pl.Int64)
    frac = body.str.extract(r"\.([0-9]+)$", 1).fill_null("").str.pad_end(decimals, "0")
    value = whole * 10**decimals + frac.cast(pl.Int64)
    return pl.when(negative).then(-value).otherwise(value)


def parse_column(frame: pl.DataFrame, column: str, kind: str, file: str) -> pl.Series:
    """Parse the String column `column` of `frame` as `kind` (text, amount, rate, integer, date,
    bool); empty strings and nulls become null."""
    text = pl.col(column).str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if kind == "text":
        raw = pl.col(column)
        return frame.select(pl.when(raw != "").then(raw).alias(column)).to_series()
    if kind == "amount":
        pattern, value = _AMOUNT, _scaled_decimal(text, 2)
    elif kind == "rate":
        pattern, value = _RATE, _scaled_decimal(text, _RATE_DECIMALS)
    elif kind == "integer":
        pattern, value = _INTEGER, text.cast(pl.Int64, strict=False)
    elif kind == "date":
        pattern, value = _DATE, text.str.to_date("%Y-%m-%d", strict=False)
    elif kind == "bool":
        lower = text.str.to_lowercase()
        pattern = "^(" + "|".join(_TRUE + _FALSE) + ")$"
        value = pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False)
        text = lower
    else:
        raise ValueError(f"unknown column kind {kind!r}")
    parsed = frame.select(
        text.alias("text"),
        pl.when(text.str.contains(pattern)).then(value).alias("value"),
    )
    bad = parsed["text"].is_not_null() & parsed["value"].is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        line = f" (line {row + 2})" if file.endswith(".csv") else ""
        raise ContractValueError(
            f"{file}: row {row + 1}{line}, column {column!r}: "
            f"cannot read {frame[column][row]!r} as {_DESCRIPTION[kind]}"
            + (f" ({int(bad.sum()) - 1} more bad value(s) in this column)" if bad.sum() > 1 else "")
        )
    return parsed["value"].alias(column)


_DESCRIPTION = {
    "amount": "an amount (a decimal with at most 2 decimals, e.g. 1234.56)",
    "rate": "a rate (an annual decimal with at most 8 decimals, e.g. 0.0435)",
    "integer": "an integer",
    "date": "a date (YYYY-MM-DD)",
    "bool": "a boolean (true/false)",
}
