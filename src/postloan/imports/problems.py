"""Collecting row problems: (row, column, value, reason) — the shape of every rejection."""

from __future__ import annotations

import polars as pl

PROBLEMS = {"_row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


class Problems:
    """Accumulates problems found by vectorised checks, many rows at a time."""

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []

    def add(self, frame: pl.DataFrame, mask: pl.Series | pl.Expr, column: str, reason: str) -> None:
        """Record `reason` for every row of `frame` (with `_row` and raw `column`) where mask."""
        hits = frame.filter(mask)
        if hits.height == 0:
            return
        value = (
            hits[column].cast(pl.String)
            if column in hits.columns
            else pl.Series([None] * hits.height, dtype=pl.String)
        )
        self._parts.append(
            pl.DataFrame(
                {
                    "_row": hits["_row"],
                    "column": [column] * hits.height,
                    "value": value,
                    "reason": [reason] * hits.height,
                },
                schema=PROBLEMS,
            )
        )

    def add_rows(self, rows: pl.DataFrame) -> None:
        """Add problems already shaped as PROBLEMS (reasons that vary per row)."""
        if rows.height:
            self._parts.append(rows.select([pl.col(c).cast(t) for c, t in PROBLEMS.items()]))

    def frame(self) -> pl.DataFrame:
        if not self._parts:
            return pl.DataFrame(schema=PROBLEMS)
        return pl.concat(self._parts).sort("_row", maintain_order=True)

    def rows(self) -> pl.Series:
        return self.frame()["_row"].unique()


def per_row(problems: pl.DataFrame) -> pl.DataFrame:
    """One line per rejected row: its first column/value and every reason, joined."""
    return problems.group_by("_row", maintain_order=True).agg(
        pl.col("column").first().alias("reject_column"),
        pl.col("value").first().alias("reject_value"),
        pl.concat_str(pl.col("column"), pl.lit(": "), pl.col("reason"))
        .str.join("; ")
        .alias("reject_reason"),
    )
