"""The 360° view's read statements, compiled once per dialect and run lean on SQLite.

A view runs about ten small indexed SELECTs. Through `Connection.execute` each costs SQLAlchemy
~35 µs of Python (cache-key lookup, execution context, result metadata, a `fetchone` per row)
over the driver's own ~10 µs — under load, a third of a cold view. `Query` keeps the statement
as Core (one definition for both backends) but, on SQLite, runs its compiled SQL text on the
driver's cursor and fetches all rows at once, applying the same result conversions SQLAlchemy
would (e.g. SQLite's 0/1 to `bool`, text to `datetime` for timestamp columns). Other backends
go through `Connection.execute` unchanged. The API and page tests compare the views with the
engine on both backends; `tests/api/test_customer360.py` also checks the two paths give equal
rows.

Parameters must be plain values needing no bind conversion (str, int); expanding `IN` lists
are spliced as one `?` per value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Dialect, Select

Statement = Select[Any] | CompoundSelect[Any]


class _SQLitePlan:
    """One statement's SQL text, parameter order and result conversions for SQLite."""

    def __init__(self, stmt: Statement, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.positiontup is None:  # pragma: no cover - SQLite's paramstyle is qmark
            raise ValueError("a positional paramstyle is needed")
        self.names: list[str] = list(compiled.positiontup)
        self.defaults: dict[str, Any] = dict(compiled.params)
        self.expanding = frozenset(b.key for b in compiled.binds.values() if b.expanding)
        if any(compiled._bind_processors.get(n) for n in self.names):
            raise ValueError("parameters needing bind conversion are not supported")
        self.text = compiled.string
        self._texts: dict[tuple[int, ...], str] = {}
        # (position, conversion) of the columns SQLAlchemy converts (what its Result uses).
        self.processors: list[tuple[int, Callable[[Any], Any]]] = [
            (i, p)
            for i, c in enumerate(stmt.selected_columns)
            if (p := c.type._cached_result_processor(dialect, None)) is not None
        ]

    def sql(self, lengths: tuple[int, ...]) -> str:
        """The text with each expanding list as `?, ?, …` for the given list lengths."""
        text = self._texts.get(lengths)
        if text is None:
            text = self.text
            expanding = [n for n in self.names if n in self.expanding]
            for name, n in zip(expanding, lengths, strict=True):
                text = text.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * n))
            self._texts[lengths] = text
        return text


class Query:
    """A Core select for the view, run lean on SQLite (see the module doc)."""

    def __init__(self, stmt: Statement) -> None:
        self.stmt = stmt
        # Column or label names, as the rows' keys (unnamed expressions: their position).
        self.keys: tuple[str, ...] = tuple(
            str(getattr(c, "name", None) or i) for i, c in enumerate(stmt.selected_columns)
        )
        self._plans: dict[str, _SQLitePlan] = {}

    def rows(self, conn: Connection, params: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """All result rows as tuples (column order of the select)."""
        dialect = conn.dialect
        if dialect.name != "sqlite":
            return conn.execute(self.stmt, params).all()
        plan = self._plans.get(dialect.name)
        if plan is None:
            plan = self._plans[dialect.name] = _SQLitePlan(self.stmt, dialect)
        args: list[Any] = []
        lengths: list[int] = []
        for name in plan.names:
            value = params[name] if name in params else plan.defaults[name]
            if name in plan.expanding:
                args.extend(value)
                lengths.append(len(value))
            else:
                args.append(value)
        driver = conn.connection.driver_connection
        assert driver is not None
        rows: list[Any] = driver.execute(plan.sql(tuple(lengths)), args).fetchall()
        if plan.processors:
            converted = []
            for row in rows:
                values = list(row)
                for i, convert in plan.processors:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                converted.append(tuple(values))
            return converted
        return rows
