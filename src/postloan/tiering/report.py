"""Tiering's aggregates, shared by the API, the workbench and `postloan report tiers`: the tier
distribution and RFM segments on a date, the transition matrix between two dates, the review
per tier and month — each over the customers of a scope clause."""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from postloan.errors import InvalidError, NotFoundError
from postloan.policy import Policy
from postloan.policy.tiering import TIERS
from postloan.tiering import read
from postloan.tiering.rules.review import monthly, transitions

MAX_REVIEW_DAYS = 731  # two years of months


def _stored(conn: Connection, day: date, field: str) -> date:
    if not read.is_tier_date(conn, day):
        raise NotFoundError(f"no tiers stored for {day}", field=field)
    return day


def distribution(conn: Connection, day: date, scope: ColumnElement[bool]) -> dict[str, Any]:
    """Per tier: customers and balance; per RFM segment: customers, mean R, F, M scores."""
    rows = read.tiers_on(conn, _stored(conn, day, "as_of"), scope)
    per = rows.group_by("tier").agg(pl.len().alias("customers"), pl.col("balance").sum())
    counts = {r["tier"]: r for r in per.to_dicts()}
    tiers = [{"tier": t, "customers": int(counts.get(t, {}).get("customers", 0)),
              "balance": int(counts.get(t, {}).get("balance", 0) or 0)} for t in TIERS]  # fmt: skip
    segs = rows.group_by("rfm_segment").agg(
        pl.len().alias("customers"), pl.col("balance").sum(),
        pl.col("rfm_r").mean().round(2).alias("mean_r"),
        pl.col("rfm_f").mean().round(2).alias("mean_f"),
        pl.col("rfm_m").mean().round(2).alias("mean_m"),
    ).sort("customers", "rfm_segment", descending=[True, False])  # fmt: skip
    return {"as_of": day.isoformat(), "customers": rows.height, "tiers": tiers,
            "segments": segs.rename({"rfm_segment": "segment"}).to_dicts()}  # fmt: skip


def transition_matrix(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> dict[str, Any]:
    if start > end:
        raise InvalidError("from must be on or before to", field="from")
    before = read.tiers_on(conn, _stored(conn, start, "from"), scope)
    after = read.tiers_on(conn, _stored(conn, end, "to"), scope)
    found = transitions(before, after)
    moved = int(found.filter(pl.col("from_tier") != pl.col("to_tier"))["customers"].sum())
    both = found.filter((pl.col("from_tier") != "none") & (pl.col("to_tier") != "none"))
    stayed = int(both.filter(pl.col("from_tier") == pl.col("to_tier"))["customers"].sum())
    base = int(both["customers"].sum())
    stability = None if not base else round(stayed / base, 4)
    return {"from": start.isoformat(), "to": end.isoformat(), "cells": found.to_dicts(),
            "moved": moved, "stability": stability}  # fmt: skip


def review(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """Per month of [start, end] and tier (rules.review.monthly); reads the month after `end`
    for the forward-looking rates."""
    if start > end:
        raise InvalidError("from must be on or before to", field="from")
    if (end - start).days > MAX_REVIEW_DAYS:  # the history is read whole: bound it
        raise InvalidError(f"a review covers at most {MAX_REVIEW_DAYS} days", field="from")
    nxt = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    horizon = nxt.replace(day=monthrange(nxt.year, nxt.month)[1])
    history = read.history_between(conn, start, horizon, scope)
    churned, days = read.churn_between(conn, start, horizon)
    found = monthly(history, churned, days).filter(pl.col("as_of") <= end)
    return [{**r, "as_of": r["as_of"].isoformat(),
             "next_as_of": r["next_as_of"].isoformat() if r["next_as_of"] else None}
            for r in found.to_dicts()]  # fmt: skip


def strategies(policy: Policy) -> dict[str, Any]:
    """Each tier's strategy as the policy sets it."""
    return {t: getattr(policy.tiering.strategies, t).model_dump() for t in TIERS}
