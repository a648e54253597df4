"""Collection cases (催收案件) from each day's account status — the pure, vectorised part.

One case per customer while any of their accounts is overdue (OD-2): the daily run opens a case
when a customer's first account goes overdue, moves it between stages as the customer's worst
bucket changes (the stage of a bucket comes from the policy: 1–30 reminder, 31–60 negotiation,
61–90 intensified, 91+ legal review by default) and closes it, cured, on the first date none of
the customer's accounts is overdue. `case_changes` decides all of this for a whole portfolio
from two frames, with no per-customer Python; `postloan.collections.service` stores the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.policy import Policy

# Stages in order of severity (the policy's CollectionStage words).
STAGES = ("none", "reminder", "negotiation", "intensified", "legal_review")
STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES)}

OPEN_CASES = {"case_id": pl.Int64, "customer_id": pl.String, "stage": pl.String}


@dataclass(frozen=True)
class CaseChanges:
    """What one business date does to the cases.

    opened: customer_id, stage, max_dpd, overdue_amount, accounts (list of overdue account ids)
    moved:  case_id, customer_id, from_stage, to_stage, max_dpd, overdue_amount
    closed: case_id, customer_id, reason ("cured")
    current: case_id (null for opened), customer_id, stage, max_dpd, overdue_amount, accounts —
             every case open after the date, with today's figures
    """

    as_of: date
    opened: pl.DataFrame
    moved: pl.DataFrame
    closed: pl.DataFrame
    current: pl.DataFrame


def stage_expr(policy: Policy, bucket: pl.Expr) -> pl.Expr:
    """The collection stage of each bucket name (policy.collections.stages)."""
    mapping = dict(policy.collections.stages)
    return bucket.replace_strict(mapping, default="none", return_dtype=pl.String)


def customer_overdue(status: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Per customer with an overdue account on the date: worst DPD, its stage, the total
    overdue amount and the overdue accounts. In: ACCOUNT_STATUS rows of one date."""
    overdue = status.filter(pl.col("dpd") > 0)
    return (
        overdue.group_by("customer_id")
        .agg(
            pl.col("dpd").max().alias("max_dpd"),
            pl.col("overdue_amount").sum().alias("overdue_amount"),
            pl.col("account_id").sort().alias("accounts"),
            pl.col("bucket").sort_by("dpd").last().alias("bucket"),
        )
        .with_columns(stage_expr(policy, pl.col("bucket")).alias("stage"))
        .drop("bucket")
        .sort("customer_id")
    )


def case_changes(
    open_cases: pl.DataFrame, status: pl.DataFrame, policy: Policy, as_of: date
) -> CaseChanges:
    """Open, move and close cases for one business date.

    `open_cases`: the cases open before the date (OPEN_CASES); `status`: the account status
    of the date. A customer absent from `status` (every account closed) has nothing overdue.
    """
    today = customer_overdue(status, policy)
    joined = open_cases.join(today, on="customer_id", how="full", coalesce=True)
    has_case = pl.col("case_id").is_not_null()
    overdue_now = pl.col("max_dpd").is_not_null()
    opened = joined.filter(~has_case & overdue_now).select(
        "customer_id", pl.col("stage_right").alias("stage"), "max_dpd", "overdue_amount", "accounts"
    )
    moved = joined.filter(
        has_case & overdue_now & (pl.col("stage") != pl.col("stage_right"))
    ).select(
        "case_id",
        "customer_id",
        pl.col("stage").alias("from_stage"),
        pl.col("stage_right").alias("to_stage"),
        "max_dpd",
        "overdue_amount",
    )
    closed = joined.filter(has_case & ~overdue_now).select(
        "case_id", "customer_id", pl.lit("cured").alias("reason")
    )
    current = joined.filter(overdue_now).select(
        "case_id",
        "customer_id",
        pl.col("stage_right").alias("stage"),
        "max_dpd",
        "overdue_amount",
        "accounts",
    )
    return CaseChanges(
        as_of=as_of,
        opened=opened.sort("customer_id"),
        moved=moved.sort("case_id"),
        closed=closed.sort("case_id"),
        current=current.sort("customer_id"),
    )
