"""The pack as JSON-ready data (the API, the CLI's --json, the workbench and the exports all
read this one shape, so an Excel cell and the API's figure cannot differ)."""

from __future__ import annotations

from typing import Any

import polars as pl

from postloan.management.service import Pack

SECTIONS = ("figures", "roll", "vintage", "dormant", "staff", "area_figures")


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    dated = frame.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"))
    return dated.to_dicts()


def as_data(pack: Pack, dimensions: tuple[str, ...] | None = None) -> dict[str, Any]:
    figures = pack.figures
    roll = pack.roll
    if dimensions is not None:
        figures = figures.filter(pl.col("dimension").is_in(dimensions))
        roll = roll.filter(pl.col("dimension").is_in(dimensions))
    return {
        "from": pack.date_from.isoformat(),
        "to": pack.date_to.isoformat(),
        "months": _rows(pack.months),
        "runs": pack.runs,
        "policy_version": pack.policy_version,
        "definitions_version": pack.definitions_version,
        "definitions": pack.definitions,
        "figures": _rows(figures),
        "roll": _rows(roll),
        "vintage": _rows(pack.vintage),
        "dormant": _rows(pack.dormant),
        "staff": _rows(pack.staff),
        "left_out": pack.left_out,
        "area_definitions": pack.area_definitions,
        "area_figures": _rows(pack.area_figures),
    }
