"""The churned-customer pool (流失客户信息库, CH-6): episodes, exits and the periodic screening.

A customer *enters* the pool on the first stored date a rule holds and *leaves* on the first
stored date none does; an *episode* runs from one to the other. Episodes are a function of the
identification rows of the stored dates alone, so they are the same whatever order the dates
were run in: `walk` continues the episodes live on the date before the rebuilt range over that
range's dates, in date order — the daily run calls it from the first date it changed, which
gives what one walk over every stored date would (tested against exactly that).

An exit's reason comes from what happened between the last date the customer was identified
and the date it left (`exit_reasons`): re-applied, opened a new account, paid up (an overdue
rule held and a payment came), explained, resumed transacting, or the rules lapsed (a window
passed, a threshold changed).

Screening (定期筛选): on the first stored date of every `screening.every_months`-th month the
pool is screened for customers worth pursuing (`screen`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from postloan.churn.rules.frames import RULES
from postloan.policy import Policy

EPISODES = {
    "customer_id": pl.String,
    "entered_on": pl.Date,
    "last_identified": pl.Date,
    "left_on": pl.Date,  # null while the customer is in the pool
    "entry_rules": pl.String,  # comma-separated rules that held on entry
    "last_rules": pl.String,  # ... on the last date identified
}
# What the store keeps of an episode (the last date identified and its rules are the
# identification rows' business).
STORED = ("customer_id", "entered_on", "left_on", "exit_reason", "entry_rules")
# Live episodes handed to `walk`: in the pool on the date before the range.
LIVE = {k: EPISODES[k] for k in ("customer_id", "entered_on", "last_identified",
                                 "entry_rules", "last_rules")}  # fmt: skip
# What happened to a customer, for exit reasons: kind is application | opened | payment |
# explanation (payments: rows that are not reversals).
FACTS = {"customer_id": pl.String, "date": pl.Date, "kind": pl.String}
EXIT_REASONS: tuple[str, ...] = (
    "reapplied", "new_account", "paid_up", "explained", "resumed", "lapsed",
)  # fmt: skip
SCREENED = {"screened_on": pl.Date, "customer_id": pl.String, "grade": pl.Int32,
            "degree": pl.String, "basis": pl.String}  # fmt: skip


def rules_text() -> pl.Expr:
    """The rules that hold, comma-separated in the contract's order."""
    return (
        pl.concat_list([pl.when(pl.col(r)).then(pl.lit(r)) for r in RULES])
        .list.drop_nulls()
        .list.join(",")
    )


def walk(live: pl.DataFrame, days: Sequence[date], identified: pl.DataFrame) -> pl.DataFrame:
    """Episodes from `live` (in the pool on the date before `days`) over the stored `days`
    in order; `identified`: as_of, customer_id and the rule flags of those days. Returns
    EPISODES: those closed in the range and those still open after it."""
    current = live.select(list(LIVE)).cast(LIVE)  # type: ignore[arg-type]
    today_rows = identified.select("as_of", "customer_id", rules_text().alias("rules"))
    done: list[pl.DataFrame] = []
    for day in sorted(days):
        today = today_rows.filter(pl.col("as_of") == day).select("customer_id", "rules")
        leaving = current.join(today, on="customer_id", how="anti")
        done.append(leaving.with_columns(pl.lit(day).alias("left_on")))
        staying = (
            current.join(today, on="customer_id")
            .with_columns(pl.lit(day).alias("last_identified"), pl.col("rules").alias("last_rules"))
            .select(list(LIVE))
        )
        entering = today.join(current, on="customer_id", how="anti").select(
            "customer_id",
            pl.lit(day).alias("entered_on"),
            pl.lit(day).alias("last_identified"),
            pl.col("rules").alias("entry_rules"),
            pl.col("rules").alias("last_rules"),
        )
        current = pl.concat([staying, entering.cast(LIVE)])  # type: ignore[arg-type]
    still = current.with_columns(pl.lit(None, dtype=pl.Date).alias("left_on"))
    out = pl.concat([*done, still], how="diagonal")
    return out.select(list(EPISODES)).cast(EPISODES).sort("customer_id", "entered_on")  # type: ignore[arg-type]


def exit_reasons(closed: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """Closed EPISODES with `exit_reason`, from the FACTS dated after the last date the
    customer was identified and on or before the date it left (module doc)."""
    between = (
        closed.select("customer_id", "entered_on", "last_identified", "left_on")
        .join(facts.select(list(FACTS)), on="customer_id")
        .filter(pl.col("date") > pl.col("last_identified"))
        .filter(pl.col("date") <= pl.col("left_on"))
        .group_by("customer_id", "entered_on")
        .agg(
            *[(pl.col("kind") == kind).any().alias(kind)
              for kind in ("application", "opened", "payment", "explanation")],
        )
    )  # fmt: skip
    rows = closed.join(between, on=["customer_id", "entered_on"], how="left").with_columns(
        pl.col("application", "opened", "payment", "explanation").fill_null(False)
    )
    last = pl.col("last_rules")
    overdue_rule = last.str.contains("loan_overdue") | last.str.contains("card_default")
    inactive = last.str.contains("inactive")
    reason = (
        pl.when(pl.col("application")).then(pl.lit("reapplied"))
        .when(pl.col("opened")).then(pl.lit("new_account"))
        .when(overdue_rule & pl.col("payment")).then(pl.lit("paid_up"))
        .when(inactive & pl.col("explanation")).then(pl.lit("explained"))
        .when(inactive & pl.col("payment")).then(pl.lit("resumed"))
        .otherwise(pl.lit("lapsed"))
    )  # fmt: skip
    return rows.with_columns(reason.alias("exit_reason")).drop(
        "application", "opened", "payment", "explanation"
    )


def screening_dates(stored: Sequence[date], every_months: int) -> list[date]:
    """The first stored date of every `every_months`-th month (months counted from year 0,
    so the same months are screened whatever dates are stored)."""
    firsts: dict[int, date] = {}
    for day in sorted(stored):
        month = day.year * 12 + day.month - 1
        if month % every_months == 0:
            firsts.setdefault(month, day)
    return sorted(firsts.values())


def screen(rows: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """The pool on a screening date → customers worth pursuing (SCREENED): in a screened grade
    and degree, no malicious signal, and still reachable — an open account, or a two-way
    contact within `screening.recent_contact_months`. `rows`: as_of, customer_id, grade,
    degree, open_accounts, contact_on, malicious_on."""
    s = policy.churn.screening
    recent = pl.col("contact_on") > pl.col("as_of").dt.offset_by(f"-{s.recent_contact_months}mo")
    reachable = (pl.col("open_accounts") > 0) | recent.fill_null(False)
    worth = (
        pl.col("grade").is_in(list(s.grades))
        & pl.col("degree").is_in(list(s.degrees))
        & pl.col("malicious_on").is_null()
        & reachable
    )
    basis = pl.struct(
        "open_accounts", pl.col("contact_on").alias("last_contact")
    ).struct.json_encode()
    return (
        rows.filter(worth)
        .select(
            pl.col("as_of").alias("screened_on"), "customer_id", "grade", "degree",
            basis.alias("basis"),
        )
        .cast(SCREENED)  # type: ignore[arg-type]
        .sort("customer_id")
    )  # fmt: skip


GRADES = {"customer_id": pl.String, "entered_on": pl.Date, "grade": pl.Int64,
          "first_on": pl.Date}  # fmt: skip


def first_grades(episodes: pl.DataFrame, identified: pl.DataFrame) -> pl.DataFrame:
    """GRADES: per episode of `episodes` (customer_id, entered_on, left_on), the first date of
    `identified` (as_of, customer_id, grade) inside it at each grade reached there."""
    return (
        identified.select("as_of", "customer_id", pl.col("grade").cast(pl.Int64))
        .join(episodes.select("customer_id", "entered_on", "left_on"), on="customer_id")
        .filter(
            (pl.col("as_of") >= pl.col("entered_on"))
            & (pl.col("left_on").is_null() | (pl.col("as_of") < pl.col("left_on")))
        )
        .group_by("customer_id", "entered_on", "grade")
        .agg(pl.col("as_of").min().alias("first_on"))
        .select(list(GRADES))
        .sort("customer_id", "entered_on", "grade")
    )
