"""Plain recomputations of the pack's figures from the hand-built history's rows: loops over
dicts, straight from DOMAIN.md's formulas and the policy's definitions — no polars."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from tests.management.conftest import History

NPL = ("substandard", "doubtful", "loss")


def month_ends(history: History, start: date, end: date) -> list[date]:
    last: dict[str, date] = {}
    for row in history.status:
        if row["as_of"] <= end:
            key = row["as_of"].strftime("%Y-%m")
            last[key] = max(last.get(key, row["as_of"]), row["as_of"])
    return sorted(d for d in last.values())


def dimension_of(history: History, row: dict[str, Any], dimension: str) -> str:
    if dimension == "portfolio":
        return "all"
    customer = history.customers[row["customer_id"]]
    loan = history.loans.get(row["account_id"])
    if dimension == "branch":
        return customer["branch_id"] or "(none)"
    if dimension == "product":
        return "card" if loan is None else loan["product"]
    if dimension == "officer":
        return "(none)" if loan is None else loan["officer_id"]
    raise AssertionError(dimension)


def in_pool(row: dict[str, Any]) -> bool:
    return row["outstanding_principal"] > 0 or row["overdue_amount"] > 0


def meets(definition: dict[str, Any], row: dict[str, Any]) -> bool:
    if definition["numerator"] == "dpd_at_least":
        return bool(row["dpd"] >= definition["min_dpd"])
    if definition["numerator"] == "non_performing":
        return row["risk_class"] in NPL
    return bool(row["risk_class"] == "loss")


def kpi_cells(
    history: History, definition: dict[str, Any], dimension: str, ends: list[date]
) -> dict[tuple[date, str], tuple[int, int | None]]:
    """(month-end, value) → (numerator, denominator) of one definition."""
    rows_on: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for row in history.status:
        if row["as_of"] in ends:
            rows_on[row["as_of"]].append(row)
    amount = definition["basis"] == "amount"
    out: dict[tuple[date, str], tuple[int, int | None]] = {}
    pools: dict[tuple[date, str], int] = defaultdict(int)
    for day in ends:
        for row in rows_on[day]:
            if in_pool(row):
                pools[(day, dimension_of(history, row, dimension))] += (
                    row["outstanding_principal"] if amount else 1
                )
    for i, day in enumerate(ends):
        values = {dimension_of(history, r, dimension) for r in rows_on[day]}
        for value in values:
            numerator = 0
            for row in rows_on[day]:
                if dimension_of(history, row, dimension) != value or not in_pool(row):
                    continue
                hit = meets(definition, row)
                if definition["status"] == "ever":
                    hit = any(
                        meets(definition, r)
                        for r in history.status
                        if r["account_id"] == row["account_id"] and r["as_of"] in ends[: i + 1]
                    )
                if hit:
                    numerator += row["outstanding_principal"] if amount else 1
            if definition["timing"] == "lagged":
                j = i - definition["lag_months"]
                denominator = pools.get((ends[j], value)) if j >= 0 else None
            else:
                denominator = pools[(day, value)]
            out[(day, value)] = (numerator, denominator)
    return out
