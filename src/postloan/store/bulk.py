"""Arrow-native bulk reads and writes (ADBC) for SQLite and PostgreSQL.

Whole-portfolio paths (loading 20M payments for a run, writing a day's 1M status rows,
importing a file) go through ADBC: rows move as Arrow columns, never as Python objects.
Small reads and writes (runs, imports, users) use SQLAlchemy.

A bulk read is a SQLAlchemy Core select: each result column's type comes from the store's
declaration of it, never from the rows that happen to come first (issue 10: the SQLite driver
guessed from its first 1,024 rows, and a rare value after them crashed the daily run).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    String,
    Text,
    cast,
    func,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement, Label
from sqlalchemy.sql.selectable import Join, Select
from sqlalchemy.types import TypeEngine

PolarsType = pl.DataType | type[pl.DataType]


def _adbc_target(url: str) -> tuple[str, str]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return "sqlite", parsed.database or ":memory:"
    if backend == "postgresql":
        plain = parsed.set(drivername="postgresql")
        return "postgresql", plain.render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """An ADBC connection (autocommit off: commit explicitly, rollback on error)."""
    backend, target = _adbc_target(url)
    if backend == "sqlite":
        import adbc_driver_sqlite.dbapi as driver
    else:
        import adbc_driver_postgresql.dbapi as driver  # type: ignore[no-redef]
    conn = driver.connect(target)
    try:
        if backend == "sqlite":
            with conn.cursor() as cur:
                cur.execute("PRAGMA busy_timeout = 30000")
                # Index pages of large tables must stay cached during bulk inserts: with the
                # 2 MB default, random-key index inserts thrash (measured 32 s vs 21 s for 4M
                # payment rows). Pages are allocated only as needed.
                cur.execute("PRAGMA cache_size = -524288")
        yield conn
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def read(
    conn: Any, query: Select[Any], schema: Mapping[str, PolarsType] | None = None
) -> pl.DataFrame:
    """Run a SQLAlchemy Core select; every column comes back with the type its expression
    declares (the store's column types), whatever the rows hold: see `_typed_query`.

    `schema` narrows a column's Polars type (e.g. Int32 for a period); unnamed columns get
    their declared type's (integers Int64, text String, dates Date, booleans Boolean)."""
    if not isinstance(query, Select):
        raise TypeError(
            "bulk.read takes a SQLAlchemy select: the result types come from its columns"
            " (raw SQL would leave them to the driver's guess from the first rows)"
        )
    columns = _declared_columns(query)
    unknown = set(schema or {}) - {c.name for c in columns}
    if unknown:
        raise ValueError(f"schema names columns the query does not select: {sorted(unknown)}")
    dialect = sqlite.dialect() if backend(conn) == "sqlite" else postgresql.dialect()
    sql = _typed_query(query, columns, dialect.name)
    with conn.cursor() as cur:
        cur.execute(str(sql.compile(dialect=dialect, compile_kwargs={"literal_binds": True})))
        frame = pl.from_arrow(cur.fetch_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.select(
        _decoded(frame, column, (schema or {}).get(column.name)) for column in columns
    )


@dataclass(frozen=True)
class _Declared:
    """One selected column: its output name, kind of declared type, whether it can be NULL."""

    position: int
    name: str
    kind: str  # integer | boolean | text | date
    expr: ColumnElement[Any]
    nullable: bool

    @property
    def flag(self) -> str:
        return f"__is_null_{self.position}"


def _kind(sql_type: TypeEngine[Any]) -> str | None:
    if isinstance(sql_type, Boolean):
        return "boolean"
    if isinstance(sql_type, Integer):  # BigInteger and SmallInteger too
        return "integer"
    if isinstance(sql_type, Date):
        return "date"
    if isinstance(sql_type, String):  # Text, VARCHAR
        return "text"
    return None


def _declared_columns(query: Select[Any]) -> list[_Declared]:
    outer = any(_has_outer_join(f) for f in query.get_final_froms())
    out = []
    for position, expr in enumerate(query.selected_columns):
        kind = _kind(expr.type)
        name = expr.name if hasattr(expr, "name") else None
        if kind is None or not name:
            raise TypeError(
                f"bulk.read: column {position + 1} ({name or expr}) needs a name and an integer,"
                f" boolean, text or date type (has {expr.type!r}); label or cast it"
            )
        source = expr.element if isinstance(expr, Label) else expr
        never_null = isinstance(source, Column) and not source.nullable and not outer
        out.append(_Declared(position, name, kind, expr, nullable=not never_null))
    return out


def _has_outer_join(clause: Any) -> bool:
    if isinstance(clause, Join):
        return bool(clause.isouter or clause.full) or any(
            _has_outer_join(side) for side in (clause.left, clause.right)
        )
    return False


_POSTGRESQL_TYPES: dict[str, TypeEngine[Any]] = {
    "integer": BigInteger(),
    "boolean": Boolean(),
    "date": Date(),
    "text": Text(),
}


def _typed_query(query: Select[Any], columns: list[_Declared], dialect: str) -> Select[Any]:
    """The query with every column in a form whose result type is fixed by the SQL itself.

    PostgreSQL reports each result column's type, so a cast to the declared type suffices.
    The ADBC SQLite driver instead infers each column's type from the values of its first
    batch (1,024 rows) and cannot change it later: a column NULL in all of them becomes INT64
    and the first text value after fails ("Type mismatch in column N"), and a column read
    through an outer join can be NULL anywhere. So on SQLite integers and booleans are cast
    to INTEGER (NULL fits the INT64 it starts from), and every text or date value is sent as
    never-NULL TEXT, which the driver can only type STRING, with a separate 0/1 column saying
    where it was NULL (nullable columns only)."""
    exprs: list[ColumnElement[Any]] = []
    flags: list[ColumnElement[Any]] = []
    for c in columns:
        if dialect != "sqlite":
            exprs.append(cast(c.expr, _POSTGRESQL_TYPES[c.kind]).label(c.name))
        elif c.kind in ("integer", "boolean"):
            exprs.append(cast(c.expr, BigInteger()).label(c.name))
        elif c.nullable:
            exprs.append(func.coalesce(cast(c.expr, Text()), "").label(c.name))
            flags.append(cast(c.expr.is_(None), BigInteger()).label(c.flag))
        else:
            exprs.append(cast(c.expr, Text()).label(c.name))
    return query.with_only_columns(*exprs, *flags, maintain_column_froms=True)


_DEFAULT = {"integer": pl.Int64, "boolean": pl.Boolean, "text": pl.String, "date": pl.Date}


def _decoded(frame: pl.DataFrame, column: _Declared, dtype: PolarsType | None) -> pl.Expr:
    expr = pl.col(column.name)
    if column.kind in ("text", "date") and frame.schema[column.name] != pl.Date:
        # SQLite: text (an empty result has no text to type itself by, hence the cast)
        expr = expr.cast(pl.String)
        if column.flag in frame.columns:
            expr = pl.when(pl.col(column.flag) == 1).then(None).otherwise(expr)
        if column.kind == "date":
            expr = expr.str.to_date("%Y-%m-%d")
    return expr.cast(dtype or _DEFAULT[column.kind]).alias(column.name)


def ingest(conn: Any, table: str, frame: pl.DataFrame) -> int:
    """Append a frame's rows to an existing table (inside the connection's transaction)."""
    if frame.height == 0:
        return 0
    with conn.cursor() as cur:
        cur.adbc_ingest(table, frame.to_arrow(), mode="append")
    return frame.height


REBUILD_AT = 100_000  # rows; below this, updating indexes row by row is cheap enough


def ingest_large(conn: Any, table: str, frame: pl.DataFrame, stored_rows: int) -> int:
    """Append many rows; when they outnumber the rows already stored, drop the table's
    secondary indexes first and build them again after (one sorted build instead of millions
    of random inserts: 12 s instead of 21 s for 4M payments on SQLite). All inside the
    connection's transaction, so a failure leaves the indexes as they were."""
    from sqlalchemy.schema import CreateIndex, DropIndex

    from postloan.store.schema import metadata

    indexes = list(metadata.tables[table].indexes)
    if frame.height < REBUILD_AT or frame.height < stored_rows or not indexes:
        return ingest(conn, table, frame)
    dialect = sqlite.dialect() if backend(conn) == "sqlite" else postgresql.dialect()
    for index in indexes:
        execute(conn, str(DropIndex(index).compile(dialect=dialect)))
    rows = ingest(conn, table, frame)
    for index in indexes:
        execute(conn, str(CreateIndex(index).compile(dialect=dialect)))
    return rows


def execute(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, params) if params else cur.execute(sql)


def backend(conn: Any) -> str:
    """'sqlite' or 'postgresql'."""
    vendor = str(conn.adbc_get_info().get("vendor_name", "")).lower()
    return "sqlite" if "sqlite" in vendor else "postgresql"


def placeholders(conn: Any, kinds: str) -> str:
    """Parameter markers for a VALUES list; `kinds` has one letter per parameter, 't' for a
    UTC timestamp given as ISO text (PostgreSQL needs the cast), anything else plain."""
    if backend(conn) == "sqlite":
        return ", ".join("?" for _ in kinds)
    return ", ".join(
        f"CAST(${i + 1} AS TIMESTAMPTZ)" if k == "t" else f"${i + 1}" for i, k in enumerate(kinds)
    )
