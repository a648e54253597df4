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
from postloan.collections.rules.strategies import PAID, SPELLS, strategy_totals
from postloan.collections.rules.strategies import STAGE_ENTRIES as STAGE_ENTRIES
from postloan.collections.rules.strategies import choose_strategies as choose_strategies
from postloan.collections.rules.strategies import holdout_draw as holdout_draw
from postloan.collections.rules.strategies import spell_outcomes as spell_outcomes
from postloan.collections.tables import case_stages, cases
from postloan.policy import Policy
from postloan.store.schema import account_status, cards, customers, loans, payments
from postloan.store.values import as_date, rows_frame


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
    return strategy_totals(outcomes)
