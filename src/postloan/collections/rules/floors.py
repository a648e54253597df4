"""Weekly contact floor rules (OD-5), pure: the floor of a DPD bucket and a strategy, which open
cases are due a contact on a day, the worst account that names a customer's task, and the task
rows (the store side: `floors`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import polars as pl

from postloan.policy import Policy

DAYS_PER_WEEK = 7


def weekly_floor_cap(policy: Policy) -> int:
    """Most contacts a week the floors may ask for: the default jurisdiction's call capacity,
    and never more than one a day."""
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    capacity = rules.weekly_call_capacity
    return DAYS_PER_WEEK if capacity is None else min(capacity, DAYS_PER_WEEK)


def weekly_floor(policy: Policy, bucket: str) -> int:
    """The bucket's weekly minimum, capped by what the default jurisdiction allows."""
    return min(policy.collections.min_contacts_per_week.get(bucket, 0), weekly_floor_cap(policy))


def spacing_days(floor: int) -> int | None:
    """Days between contacts that meet `floor` per week (None: no floor)."""
    return DAYS_PER_WEEK // floor if floor > 0 else None


def due_contacts(
    open_cases: pl.DataFrame, last_contact: pl.DataFrame, policy: Policy, as_of: date
) -> pl.DataFrame:
    """The open cases that need a contact on `as_of`.

    In: open cases with their customer's worst overdue account on D (customer_id, account_id,
    dpd, overdue_amount — the customer's total; optionally `target`, the contacts per week of
    the case's treatment strategy), and each customer's last contact day (customer_id,
    last_day, local days). Out: the same columns plus bucket and floor — the larger of the
    bucket's floor and the strategy's target, never above the caps — for the cases due.
    """
    buckets = pl.DataFrame(
        [
            {"bucket": b.name, "floor": weekly_floor(policy, b.name),
             "min_dpd": b.min_dpd, "max_dpd": b.max_dpd}
            for b in policy.dpd_buckets
        ],
        schema={"bucket": pl.String, "floor": pl.Int32, "min_dpd": pl.Int32, "max_dpd": pl.Int32},
    )  # fmt: skip
    if "target" not in open_cases.columns:
        open_cases = open_cases.with_columns(pl.lit(0, pl.Int32).alias("target"))
    cap = weekly_floor_cap(policy)
    banded = (
        open_cases.join_where(
            buckets,
            pl.col("dpd") >= pl.col("min_dpd"),
            pl.col("dpd") <= pl.col("max_dpd").fill_null(2**31 - 1),
        )
        .with_columns(
            pl.max_horizontal("floor", pl.min_horizontal(pl.col("target").fill_null(0), cap))
            .cast(pl.Int32)
            .alias("floor")
        )
        .filter(pl.col("floor") > 0)
    )
    return (
        banded.join(last_contact, on="customer_id", how="left")
        .with_columns((pl.lit(DAYS_PER_WEEK) // pl.col("floor")).alias("spacing"))
        .filter(
            pl.col("last_day").is_null()
            | ((pl.lit(as_of) - pl.col("last_day")).dt.total_days() >= pl.col("spacing"))
        )
        .select("customer_id", "account_id", "dpd", "overdue_amount", "bucket", "floor")
        .sort("customer_id")
    )


OPEN_CASE_ACCOUNTS = {
    "customer_id": pl.String, "account_id": pl.String, "dpd": pl.Int32,
    "overdue_amount": pl.Int64,
}  # fmt: skip


def worst_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Per customer, from its overdue accounts in open cases (OPEN_CASE_ACCOUNTS): the worst
    account, which names the task (the highest DPD; ties: the smallest id), its DPD, and the
    customer's total overdue amount."""
    return (
        frame.sort(["customer_id", "dpd", "account_id"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .agg(pl.col("account_id").first(), pl.col("dpd").first(), pl.col("overdue_amount").sum())
    )


def strategy_targets(chosen: list[tuple[str, str]], policy: Policy) -> pl.DataFrame:
    """customer_id, target: the contacts per week of each open case's treatment strategy
    (OD-9; `chosen` is (customer, strategy) pairs; a strategy not in the catalogue: 0)."""
    catalogue = policy.strategies.catalogue
    return pl.DataFrame(
        [
            (customer, catalogue[name].contacts_per_week if name in catalogue else 0)
            for customer, name in chosen
        ],
        schema={"customer_id": pl.String, "target": pl.Int32},
        orient="row",
    )


def contact_task_rows(
    due: pl.DataFrame, already: Collection[str], day: date
) -> list[dict[str, Any]]:
    """The contact tasks to insert for `day`: one per due case (`due_contacts`) whose customer
    has no open contact task from `day` on (`already`)."""
    return [
        {"kind": "contact", "customer_id": r["customer_id"], "account_id": r["account_id"],
         "created_on": day, "window_start": day, "due_by": day,
         "overdue_amount": r["overdue_amount"], "dpd": r["dpd"], "status": "open"}
        for r in due.to_dicts()
        if r["customer_id"] not in already
    ]  # fmt: skip
