"""The one error the modelling package raises for bad input: it names the column and why."""

from __future__ import annotations


class ModellingError(ValueError):
    """Input a model cannot be fitted on or scored with. `column` is None for whole-table
    problems (an empty table, no feature columns)."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        self.reason = reason
        self.column = column
        super().__init__(f"column {column!r}: {reason}" if column is not None else reason)
