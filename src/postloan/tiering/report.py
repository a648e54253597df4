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
from postloan.policy.tiering import TIERS, TREE_FEATURES
from postloan.tiering import read
from postloan.tiering.rules.review import losses, monthly, rolls, transitions
from postloan.tiering.rules.tree import apply_rules, features_of, fit_rules
from postloan.tiering.rules.whatif import replay

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


def _window(start: date, end: date) -> date:
    """The end of the month after `end` (what the forward-looking rates read); checks the
    window like every review."""
    if start > end:
        raise InvalidError("from must be on or before to", field="from")
    if (end - start).days > MAX_REVIEW_DAYS:
        raise InvalidError(f"a review covers at most {MAX_REVIEW_DAYS} days", field="from")
    nxt = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return nxt.replace(day=monthrange(nxt.year, nxt.month)[1])


def what_if(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool], candidate: Policy
) -> dict[str, Any]:
    """The candidate policy's tiers replayed on the stored history of [start, end] (and the
    month after, for the forward-looking rates) beside the stored ones (`rules.whatif`); reads
    only: nothing stored changes. Per date the customers whose tier would differ; on `end` the
    stored → candidate transition matrix; per month and tier the review (NPL, churn) of both."""
    horizon = _window(start, end)
    figures = read.figures_between(conn, start, horizon, scope)
    replayed = replay(figures, read.state_before(conn, start, scope), candidate)
    stored = figures.select("as_of", "customer_id", "tier")
    both = stored.join(replayed.rename({"tier": "candidate"}), on=["as_of", "customer_id"])
    moved = (both.filter(pl.col("as_of") <= end)
             .group_by("as_of").agg((pl.col("tier") != pl.col("candidate")).sum()
                                    .cast(pl.Int64).alias("moved"), pl.len().alias("customers"))
             .sort("as_of"))  # fmt: skip
    history = read.history_between(conn, start, horizon, scope)
    churned, days = read.churn_between(conn, start, horizon)
    under = history.drop("tier").join(replayed, on=["as_of", "customer_id"])
    last = end if read.is_tier_date(conn, end) else None
    matrix = [] if last is None else transitions(
        stored.filter(pl.col("as_of") == last), replayed.filter(pl.col("as_of") == last)
    ).rename({"from_tier": "stored", "to_tier": "candidate"}).to_dicts()  # fmt: skip
    inside = pl.col("as_of") <= end
    return {"from": start.isoformat(), "to": end.isoformat(), "version": candidate.version,
            "moved": _iso(moved), "transitions": matrix,
            "current": _iso(monthly(history, churned, days).filter(inside)),
            "candidate": _iso(monthly(under, churned, days).filter(inside))}  # fmt: skip


def _iso(rows: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
            for r in rows.to_dicts()]  # fmt: skip


def roll_and_loss(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool], policy: Policy
) -> dict[str, Any]:
    """Per month of [start, end] and tier: roll rates per DPD bucket (the policy's buckets) and
    the loss rate (`rules.review.rolls`, `losses`: write-offs and disposals count as losses
    and leave the pool from their effective date); reads the month after `end` to look
    forward."""
    if start > end:
        raise InvalidError("from must be on or before to", field="from")
    if (end - start).days > MAX_REVIEW_DAYS:
        raise InvalidError(f"a review covers at most {MAX_REVIEW_DAYS} days", field="from")
    nxt = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    horizon = nxt.replace(day=monthrange(nxt.year, nxt.month)[1])
    history = read.history_between(conn, start, horizon, scope)
    disposed, removed = read.disposed_between(conn, start, horizon, scope)
    pooled = history.join(removed, on=["as_of", "customer_id"], how="left")
    buckets = [(b.name, b.min_dpd) for b in policy.dpd_buckets]
    inside = pl.col("as_of") <= end
    return {"from": start.isoformat(), "to": end.isoformat(),
            "buckets": [name for name, _ in buckets],
            "rolls": _iso(rolls(history, buckets).filter(inside)),
            "losses": _iso(losses(pooled, disposed).filter(inside))}  # fmt: skip


TREE_MIN_ROWS = 50


def tree(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool], max_depth: int = 3
) -> dict[str, Any]:
    """A decision tree fitted on the history (LY-3): each customer on a month's last tiered date
    in [start, end], labelled `npl` when it has an NPL balance on the next month's last tiered
    date (else `performing`), from its classes, DPD, times late and RFM scores; its leaves as
    readable rules (`rules.tree`). A candidate for review, not a policy: nothing is adopted."""
    if start > end:
        raise InvalidError("from must be on or before to", field="from")
    if (end - start).days > MAX_REVIEW_DAYS:
        raise InvalidError(f"a tree is fitted on at most {MAX_REVIEW_DAYS} days", field="from")
    nxt = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    rows = read.features_between(conn, start, nxt.replace(day=monthrange(nxt.year, nxt.month)[1]),
                                 scope)  # fmt: skip
    ends = (rows.select("as_of").unique().with_columns(pl.col("as_of").dt.strftime("%Y-%m")
            .alias("month")).group_by("month").agg(pl.col("as_of").max()).sort("month")
            .with_columns(pl.col("as_of").shift(-1).alias("next_as_of")))  # fmt: skip
    later = rows.select(pl.col("as_of").alias("next_as_of"), "customer_id",
                        (pl.col("npl_balance") > 0).alias("npl_next"))  # fmt: skip
    train = (
        rows.join(ends.filter(pl.col("next_as_of").is_not_null()), on="as_of")
        .filter(pl.col("as_of") <= end)
        .join(later, on=["next_as_of", "customer_id"], how="left")
        .with_columns(
            pl.when(pl.col("npl_next").fill_null(False)).then(pl.lit("npl"))
            .otherwise(pl.lit("performing")).alias("label"),
        )
        .sort("as_of", "customer_id")
    )  # fmt: skip
    found: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(),
                             "samples": train.height, "features": list(TREE_FEATURES),
                             "rules": [], "accuracy": None}  # fmt: skip
    if train.height < TREE_MIN_ROWS or train["label"].n_unique() < 2:
        return found  # too little history to learn from
    features = features_of(train)
    rules, _ = fit_rules(features, train["label"], max_depth=max_depth,
                         min_samples_leaf=max(5, train.height // 50))  # fmt: skip
    predicted = apply_rules(rules, features)
    found["rules"] = [{"rule": r.text(), "label": r.label, "samples": r.samples,
                       "conditions": [{"feature": c.feature, "op": c.op, "value": c.value}
                                      for c in r.conditions]} for r in rules]  # fmt: skip
    right = int((predicted == train["label"]).sum())
    found["accuracy"] = round(right / train.height, 4)
    return found


def strategies(policy: Policy) -> dict[str, Any]:
    """Each tier's strategy as the policy sets it."""
    return {t: getattr(policy.tiering.strategies, t).model_dump() for t in TIERS}
