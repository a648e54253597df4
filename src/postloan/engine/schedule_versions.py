"""Schedules that change over time: a repayment agreement replaces a loan's schedule from its
effective date on, and dates before it keep the schedule they had.

The engine itself knows one schedule per loan (its queue of amounts owed). A schedule *change*
is a whole schedule with the date it takes effect (`SCHEDULE_CHANGES`); on business date D a
loan is owed what the latest change effective on or before D says, or its contract schedule
before any change. An agreement's new schedule keeps the instalments already paid as they were
and puts the rest — the same total — into the agreed instalments, so the cumulative amount paid
(all the engine's queue needs) fills the new schedule exactly where it filled the old one.

`status_history` answers a run's dates with the right schedule for each date: one engine pass
over the whole portfolio with the schedules in force on the first date, then, for each change
taking effect inside the dates, one small pass over just the loans it changes for the dates
from its effective date on. A daily run (one date) is a single pass; changes are rare, so a
backfill pays a few small passes, never one per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from postloan.engine.api import account_status_history
from postloan.engine.frames import INSTALMENTS, Portfolio, conform
from postloan.ledger import override_instalments
from postloan.policy import Policy

SCHEDULE_CHANGES = {"effective_date": pl.Date, **INSTALMENTS}


def in_force(
    instalments: pl.DataFrame, changes: pl.DataFrame, as_of: date | None = None
) -> pl.DataFrame:
    """`instalments` where each changed loan takes, wholesale, the latest change effective on
    or before `as_of` (None: the latest change of all — the schedule in force from now on)."""
    if changes.height == 0:
        return instalments
    chosen = changes if as_of is None else changes.filter(pl.col("effective_date") <= as_of)
    if chosen.height == 0:
        return instalments
    latest = chosen.group_by("account_id").agg(pl.col("effective_date").max())
    rows = chosen.join(latest, on=["account_id", "effective_date"])
    return override_instalments(instalments, conform(rows, INSTALMENTS))


def _only(portfolio: Portfolio, accounts: pl.Series) -> Portfolio:
    keep = pl.col("account_id").is_in(accounts.implode())
    return Portfolio(
        loans=portfolio.loans.filter(keep),
        instalments=portfolio.instalments.filter(keep),
        payments=portfolio.payments.filter(keep),
    )


def status_history(
    portfolio: Portfolio,
    changes: pl.DataFrame,
    dates: Sequence[date],
    policy: Policy,
) -> pl.DataFrame:
    """`engine.account_status_history` where each date sees the schedules in force on it.

    `portfolio` carries the contract schedules (generated or imported); `changes` the agreed
    ones (SCHEDULE_CHANGES)."""
    ordered = sorted(set(dates))
    if not ordered:
        return account_status_history(portfolio, ordered, policy)
    first, last = ordered[0], ordered[-1]
    base = Portfolio(
        portfolio.loans,
        in_force(portfolio.instalments, changes, first),
        portfolio.cards,
        portfolio.statements,
        portfolio.payments,
    )
    out = account_status_history(base, ordered, policy)
    inside = changes.filter((pl.col("effective_date") > first) & (pl.col("effective_date") <= last))
    # In effective-date order: a loan changed twice in the window is recomputed from each
    # change on, the later pass overwriting the earlier from its own date.
    for effective in sorted(inside.get_column("effective_date").unique().to_list()):
        accounts = inside.filter(pl.col("effective_date") == effective)["account_id"].unique()
        sub = _only(portfolio, accounts)
        sub = Portfolio(
            sub.loans,
            in_force(
                sub.instalments,
                changes.filter(pl.col("account_id").is_in(accounts.implode())),
                effective,
            ),
            payments=sub.payments,
        )
        part = account_status_history(sub, [d for d in ordered if d >= effective], policy)
        replaced = pl.col("account_id").is_in(accounts.implode()) & (pl.col("as_of") >= effective)
        out = pl.concat([out.filter(~replaced), part])
    return out.sort("as_of", "account_id")
