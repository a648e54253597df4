"""Query results as polars frames without SQLAlchemy's per-value work, on the connection (and
inside the transaction) a step or a report already holds.

`conn.execute(query).all()` builds a Row per record and runs each date through a Python
converter: at a million accounts that is most of a read's time (the management totals step
spent half its reads there). `read_frame` lets SQLAlchemy compile and bind the query as
usual, takes the DBAPI cursor's plain tuples, and gives each column its declared type in one
vectorised cast — SQLite returns dates as ISO text and booleans as 0/1; PostgreSQL's driver
returns them typed already.

For whole-portfolio reads outside a transaction, `store.bulk` (ADBC, Arrow) is faster still;
this is for reads that must see the transaction's own writes (a daily run's steps)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from sqlalchemy import Connection

PolarsType = pl.DataType | type[pl.DataType]
_SIMPLE = (pl.String, pl.Int64, pl.Int32, pl.Int16, pl.Float64, pl.Boolean, pl.Date)


def read_frame(conn: Connection, query: Any, types: Mapping[str, PolarsType]) -> pl.DataFrame:
    """`query`'s rows as a frame with `types`' columns (in the select's order) and types:
    String, integers, Float64, Boolean or Date (anything else is refused: use a Row read)."""
    for name, kind in types.items():
        if not any(kind == simple for simple in _SIMPLE):
            raise TypeError(f"read_frame: column {name!r} of type {kind} is not supported")
    text = conn.dialect.name == "sqlite"
    raw = {
        name: (pl.String if kind == pl.Date else pl.Int64 if kind == pl.Boolean else kind)
        if text
        else kind
        for name, kind in types.items()
    }
    result = conn.execute(query)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    if not text:
        return frame
    return frame.with_columns(
        pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d")
        if kind == pl.Date
        else pl.col(name).cast(pl.Boolean)
        for name, kind in types.items()
        if kind in (pl.Date, pl.Boolean)
    )
