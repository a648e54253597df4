"""Strategies (OD-9): a treatment strategy per case stage from the policy, with a random but
stable holdout (champion/challenger), and the comparison of their results.

Every stage a case enters runs the stage's champion, unless the case is in the holdout: then
the stage's challenger. The holdout is drawn from a hash of (seed, customer, case opened on) —
BLAKE2b, so the draw is the same on every machine, Python and library version, and a case keeps
its side through re-runs and replays, and through every stage (its draw does not depend on the
stage, so the challenger arm of one stage is, as far as the shares allow, that of the next).

`assign_strategies` (a daily-run step) writes `case_strategies`: one row per stage entered,
keyed by customer and case episode. It rebuilds the rows of the replayed dates and fills any
stage entry still without one, so a re-run gives the same rows.

`strategy_results` compares stage spells by strategy over a period: how many cured while on the
strategy, and the cash recovered against the overdue amount at entry (for the KPI reports).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    func,
    select,
    true,
    union_all,
)

from postloan.collections.casework_tables import case_strategies
from postloan.collections.tables import case_stages, cases
from postloan.policy import Policy
from postloan.store.schema import account_status, cards, customers, loans, payments
from postloan.store.values import as_date, rows_frame

_SCALE = float(2**64)
STAGE_ENTRIES = {
    "customer_id": pl.String, "case_opened_on": pl.Date, "entered_on": pl.Date,
    "stage": pl.String,
}  # fmt: skip


def holdout_draw(customer_id: str, case_opened_on: date, seed: int) -> float:
    """The case's uniform draw in [0, 1): the same for the same (customer, episode, seed)."""
    key = f"{seed}|{customer_id}|{case_opened_on.isoformat()}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


def _plan(policy: Policy) -> pl.DataFrame:
    stages = policy.strategies.stages
    return pl.DataFrame(
        {
            "stage": list(stages),
            "champion": [p.champion for p in stages.values()],
            "challenger": [p.challenger for p in stages.values()],
            "holdout_share": [p.holdout_share for p in stages.values()],
        },
        schema={"stage": pl.String, "champion": pl.String, "challenger": pl.String,
                "holdout_share": pl.Float64},
    )  # fmt: skip


def choose_strategies(entries: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """customer_id, case_opened_on, entered_on, stage, strategy, arm — for every stage entry
    (STAGE_ENTRIES) whose stage has strategies in the policy (a "none" stage has none)."""
    seed = policy.strategies.seed
    # One hash per case episode (not per stage entry): hashlib has no vectorised form, and the
    # episodes without a strategy yet are the day's new cases — a few hundred on a daily run.
    episodes = entries.select("customer_id", "case_opened_on").unique()
    draws = [holdout_draw(c, o, seed) for c, o in episodes.iter_rows()]
    episodes = episodes.with_columns(pl.Series("draw", draws, dtype=pl.Float64))
    held_out = pl.col("challenger").is_not_null() & (pl.col("draw") < pl.col("holdout_share"))
    return (
        entries.join(episodes, on=["customer_id", "case_opened_on"], how="left")
        .join(_plan(policy), on="stage", how="inner")
        .select(
            "customer_id", "case_opened_on", "entered_on", "stage",
            pl.when(held_out).then(pl.col("challenger")).otherwise(pl.col("champion"))
            .alias("strategy"),
            pl.when(held_out).then(pl.lit("challenger")).otherwise(pl.lit("champion"))
            .alias("arm"),
        )
        .sort("customer_id", "case_opened_on", "entered_on")
    )  # fmt: skip


def forget_strategies_from(conn: Connection, first: date) -> None:
    """Drop the strategies of stages entered on `first` or later (they are chosen again)."""
    conn.execute(delete(case_strategies).where(case_strategies.c.entered_on >= first))


def assign_strategies(conn: Connection, days: list[date], policy: Policy) -> None:
    """Daily-run step (`collections.service.AFTER_CASES`): the strategy of every stage entered
    on a replayed date (rebuilt) or still without one (module doc)."""
    if not days:
        return
    forget_strategies_from(conn, days[0])
    has_row = exists().where(
        case_strategies.c.customer_id == cases.c.customer_id,
        case_strategies.c.case_opened_on == cases.c.opened_on,
        case_strategies.c.entered_on == case_stages.c.entered_on,
    )
    rows = conn.execute(
        select(cases.c.customer_id, cases.c.opened_on, case_stages.c.entered_on,
               case_stages.c.stage)
        .join(cases, cases.c.case_id == case_stages.c.case_id)
        .where(~has_row)
    ).all()  # fmt: skip
    entries = rows_frame([(r[0], as_date(r[1]), as_date(r[2]), r[3]) for r in rows], STAGE_ENTRIES)
    chosen = choose_strategies(entries, policy)
    if chosen.height:
        conn.execute(case_strategies.insert(), chosen.to_dicts())


def current_strategy() -> Any:
    """A subquery: customer_id, case_opened_on, strategy, arm of each case's latest stage."""
    latest = (
        select(
            case_strategies.c.customer_id,
            case_strategies.c.case_opened_on,
            func.max(case_strategies.c.entered_on).label("entered_on"),
        )
        .group_by(case_strategies.c.customer_id, case_strategies.c.case_opened_on)
        .subquery()
    )
    return (
        select(
            case_strategies.c.customer_id,
            case_strategies.c.case_opened_on,
            case_strategies.c.strategy,
            case_strategies.c.arm,
        )
        .join(
            latest,
            and_(
                latest.c.customer_id == case_strategies.c.customer_id,
                latest.c.case_opened_on == case_strategies.c.case_opened_on,
                latest.c.entered_on == case_strategies.c.entered_on,
            ),
        )
        .subquery()
    )


SPELLS = {
    "customer_id": pl.String, "entered_on": pl.Date, "stage": pl.String, "strategy": pl.String,
    "arm": pl.String, "left_on": pl.Date, "closed_on": pl.Date, "close_reason": pl.String,
    "overdue_at_entry": pl.Int64,
}  # fmt: skip
PAID = {"customer_id": pl.String, "payment_id": pl.String, "value_date": pl.Date,
        "amount": pl.Int64, "reverses_payment_id": pl.String}  # fmt: skip


def _in_scope(scope: ColumnElement[bool] | None) -> ColumnElement[bool]:
    """The spells of customers in `scope` (a clause over `customers`; None = all)."""
    if scope is None:
        return true()
    return case_strategies.c.customer_id.in_(select(customers.c.customer_id).where(scope))


def _spells(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool] | None
) -> pl.DataFrame:
    overdue = (
        select(func.coalesce(func.sum(account_status.c.overdue_amount), 0))
        .where(
            account_status.c.customer_id == case_strategies.c.customer_id,
            account_status.c.as_of == case_strategies.c.entered_on,
        )
        .scalar_subquery()
    )
    rows = conn.execute(
        select(
            case_strategies.c.customer_id, case_strategies.c.entered_on, case_strategies.c.stage,
            case_strategies.c.strategy, case_strategies.c.arm, case_stages.c.left_on,
            cases.c.closed_on, cases.c.close_reason, overdue,
        )
        .join(cases, and_(cases.c.customer_id == case_strategies.c.customer_id,
                          cases.c.opened_on == case_strategies.c.case_opened_on))
        .join(case_stages, and_(case_stages.c.case_id == cases.c.case_id,
                                case_stages.c.entered_on == case_strategies.c.entered_on))
        .where(case_strategies.c.entered_on >= start, case_strategies.c.entered_on <= end,
               _in_scope(scope))
    ).all()  # fmt: skip
    dated = [(*r[:5], as_date(r[5]), as_date(r[6]), r[7], int(r[8])) for r in rows]
    return rows_frame(dated, SPELLS).with_columns(
        pl.col("entered_on").cast(pl.Date), pl.col("left_on").cast(pl.Date)
    )


def _payments(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool] | None
) -> pl.DataFrame:
    owners = union_all(
        select(loans.c.loan_id.label("account_id"), loans.c.customer_id),
        select(cards.c.card_id.label("account_id"), cards.c.customer_id),
    ).subquery()
    in_spells = (
        select(case_strategies.c.customer_id)
        .where(
            case_strategies.c.entered_on >= start,
            case_strategies.c.entered_on <= end,
            _in_scope(scope),
        )
        .distinct()
    )
    rows = conn.execute(
        select(owners.c.customer_id, payments.c.payment_id, payments.c.value_date,
               payments.c.amount, payments.c.reverses_payment_id)
        .join(owners, owners.c.account_id == payments.c.account_id)
        .where(owners.c.customer_id.in_(in_spells), payments.c.value_date > start,
               payments.c.value_date <= end)
    ).all()  # fmt: skip
    return rows_frame([(r[0], r[1], as_date(r[2]), r[3], r[4]) for r in rows], PAID)


def spell_outcomes(spells: pl.DataFrame, paid: pl.DataFrame, end: date) -> pl.DataFrame:
    """Per spell: cured (the case closed cured when the spell ended, by `end`) and recovered
    (payments dated after entry up to the spell's end or `end`, reversals as of `end`
    excluded, at most the overdue amount at entry). In: SPELLS, PAID."""
    undone = paid.filter(pl.col("reverses_payment_id").is_not_null())["reverses_payment_id"]
    counted = paid.filter(
        pl.col("reverses_payment_id").is_null() & ~pl.col("payment_id").is_in(undone.implode())
    )
    until = pl.min_horizontal(pl.col("left_on").fill_null(end), pl.lit(end))
    keyed = spells.with_row_index("spell")
    recovered = (
        keyed.select("spell", "customer_id", "entered_on", until.alias("until"))
        .join(counted, on="customer_id", how="inner")
        .filter((pl.col("value_date") > pl.col("entered_on"))
                & (pl.col("value_date") <= pl.col("until")))
        .group_by("spell")
        .agg(pl.col("amount").sum().alias("paid"))
    )  # fmt: skip
    cured = (
        (pl.col("close_reason") == "cured")
        & (pl.col("closed_on") == pl.col("left_on"))
        & (pl.col("closed_on") <= end)
    ).fill_null(False)
    return (
        keyed.join(recovered, on="spell", how="left")
        .with_columns(
            cured.alias("cured"),
            # Money beyond the overdue amount pays balances not yet due: not a recovery.
            pl.min_horizontal(pl.col("paid").fill_null(0), pl.col("overdue_at_entry")).alias(
                "recovered"
            ),
        )
        .drop("spell", "paid")
    )


def strategy_results(
    conn: Connection, start: date, end: date, scope: ColumnElement[bool] | None = None
) -> pl.DataFrame:
    """Stage spells entered from `start` to `end`, by stage, strategy and arm: spells, cured,
    cure_rate (cured ÷ spells), overdue_at_entry, recovered (minor units) and recovery_rate
    (recovered ÷ overdue at entry), outcomes counted up to `end`. `scope`: a clause over
    `customers` (e.g. `access.scope.customer_scope_clause`) limiting the customers counted."""
    outcomes = spell_outcomes(
        _spells(conn, start, end, scope), _payments(conn, start, end, scope), end
    )
    return (
        outcomes.group_by("stage", "strategy", "arm")
        .agg(
            pl.len().alias("spells"),
            pl.col("cured").sum().alias("cured"),
            pl.col("overdue_at_entry").sum().alias("overdue_at_entry"),
            pl.col("recovered").sum().alias("recovered"),
        )
        .with_columns(
            (pl.col("cured") / pl.col("spells")).alias("cure_rate"),
            pl.when(pl.col("overdue_at_entry") > 0)
            .then(pl.col("recovered") / pl.col("overdue_at_entry"))
            .alias("recovery_rate"),
        )
        .sort("stage", "strategy")
    )
