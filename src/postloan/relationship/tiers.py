"""The tiers area's tiers as relationship reads them: by SQL of its table `tier_assignments`
(one row per customer and stored date, `tier` the held tier), never by importing the tiering
package (an import-linter contract) — the way churn and risk read other areas' tables. When
the tiering area is not installed (no table) every read answers "no tier": a tier plan reaches
nobody, a tier earning rule awards nothing, survey answers fall under "no tier".

`tiering.assign` runs before the relationship steps in the daily run (the registry declares
tiering first and its step waits only for `collections.cases`; a test checks the order), so a
date's tiers are there when the contacts and the points of that date are derived."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, Select, String, and_, column, func, inspect, select, table

from postloan.policy.tiering import TIERS

__all__ = ["TIERS", "customers_in_tiers", "has_tiers", "tier_assignments", "tier_on_or_before"]

# Only the columns relationship reads (a lightweight table clause: no metadata of tiering's).
tier_assignments = table(
    "tier_assignments",
    column("as_of", Date),
    column("customer_id", String),
    column("tier", String),
)
T = tier_assignments.c


def has_tiers(conn: Connection) -> bool:
    return bool(inspect(conn).has_table("tier_assignments"))


def customers_in_tiers(days: list[date], tiers: list[str]) -> Select[tuple[str]]:
    """The customers held in one of `tiers` on every one of `days` (each a stored date)."""
    return (
        select(T.customer_id)
        .where(and_(T.as_of.in_(days), T.tier.in_(tiers)))
        .group_by(T.customer_id)
        .having(func.count(func.distinct(T.as_of)) == len(set(days)))
    )


def tier_on_or_before(customer_id: object, day: object) -> Select[tuple[str]]:
    """A correlated scalar query: the customer's tier on the latest tiered date on or before
    `day` (None before the first) — the tier an answer or a contact is counted under."""
    inner = tier_assignments.alias("tier_latest")  # not correlated with the outer rows
    latest = (
        select(func.max(inner.c.as_of))
        .where(inner.c.customer_id == customer_id, inner.c.as_of <= day)
        .correlate_except(inner)  # two levels down: correlate with the outermost rows too
        .scalar_subquery()
    )
    return (
        select(T.tier)
        .where(T.customer_id == customer_id, T.as_of == latest)
        .correlate_except(tier_assignments)
    )
