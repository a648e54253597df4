"""Schedules that change over time: a repayment agreement replaces a loan's schedule from its
effective date on, and dates before it keep the schedule they had.

The engine itself knows one schedule per loan (its queue of amounts owed). A schedule *change*
is a whole schedule with the date it takes effect (`SCHEDULE_CHANGES`); on business date D a
loan is owed what the latest change effective on or before D says, or its contract schedule
before any change. An agreement's new schedule keeps the instalments already paid as they were
and puts the rest — the same total — into the agreed instalments, so the cumulative amount paid
(all the engine's queue needs) fills the new schedule exactly where it filled the old one.

`ScheduleVersions.status` answers a run's dates with the right schedule for each date: one
engine pass over the whole portfolio with the schedules in force on the first date, then one
small pass over just the loans whose schedule changes inside the dates, each version of such a
loan a virtual account of its own. A daily run (one date) is a single pass; changes are rare,
so a backfill pays one small extra pass per window, never one per account or per change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from postloan.engine.api import status_and_lateness
from postloan.engine.frames import INSTALMENTS, Portfolio, conform
from postloan.engine.lateness import LatenessWanted
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
    rows = conform(chosen.join(latest, on=["account_id", "effective_date"]), INSTALMENTS)
    ids = instalments.get_column("account_id")
    if not ids.is_sorted():
        return override_instalments(instalments, rows)
    # Sorted by loan (as the store and the generator give them): merge in linear time instead
    # of re-sorting millions of rows — a loan's rows all come from one side.
    keep = conform(instalments, INSTALMENTS).filter(
        ~pl.col("account_id").is_in(rows.get_column("account_id").unique().implode())
    )
    return keep.merge_sorted(rows.sort("account_id", "period"), key="account_id")


_SEP = "\x1f"  # joins a loan id and a version number into an id no lender uses


class ScheduleVersions:
    """A portfolio with its contract schedules and the changes to them; answers status for
    dates. Remembers the last schedules-in-force it built: consecutive windows of a backfill
    with no change taking effect between them reuse it (rebuilding means re-sorting every
    instalment of the portfolio)."""

    def __init__(self, portfolio: Portfolio, changes: pl.DataFrame) -> None:
        self.portfolio = portfolio
        self.changes = changes
        self._cached: tuple[int, Portfolio] | None = None

    def on(self, day: date) -> Portfolio:
        """The portfolio with the schedules in force on `day`."""
        key = self.changes.filter(pl.col("effective_date") <= day).height
        if self._cached is None or self._cached[0] != key:
            p = self.portfolio
            schedules = in_force(p.instalments, self.changes, day)
            self._cached = (key, Portfolio(p.loans, schedules, p.cards, p.statements, p.payments))
        return self._cached[1]

    def status(self, dates: Sequence[date], policy: Policy) -> pl.DataFrame:
        """`engine.account_status_history` where each date sees the schedules in force on
        it: one pass with the schedules of the first date, and one more over just the loans
        whose schedule changes inside the dates — each version of such a loan as a separate
        virtual account (its own id, its own copy of the payments), kept for the dates it
        is in force. Rows come sorted by (as_of, account_id) only when nothing changes
        inside the dates."""
        return self.status_and_lateness(dates, policy)[0]

    def status_and_lateness(
        self, dates: Sequence[date], policy: Policy, wanted: LatenessWanted | None = None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """`status`, and when `wanted` the lateness counters (`engine.lateness`) from the
        same passes, each date's also from the schedules in force on it."""
        ordered = sorted(set(dates))
        if not ordered:
            return status_and_lateness(self.portfolio, ordered, policy, wanted=wanted)
        first, last = ordered[0], ordered[-1]
        out, late = status_and_lateness(self.on(first), ordered, policy, wanted=wanted)
        inside = self.changes.filter(
            (pl.col("effective_date") > first) & (pl.col("effective_date") <= last)
        )
        if inside.height == 0:
            return out, late
        versions = (
            inside.select("account_id", "effective_date")
            .unique()
            .sort("account_id", "effective_date")
            .with_row_index("version")
            .with_columns(
                (pl.col("account_id") + _SEP + pl.col("version").cast(pl.String)).alias("virtual"),
                (pl.col("effective_date").shift(-1).over("account_id") - pl.duration(days=1)).alias(
                    "valid_to"
                ),
            )
        )
        part, part_late = status_and_lateness(
            self._virtual(inside, versions),
            [d for d in ordered if d >= inside["effective_date"].min()],  # type: ignore[operator]
            policy,
            wanted=wanted,
        )
        changed_from = versions.group_by("account_id").agg(pl.col("effective_date").min())
        # (not re-sorted: two million string keys cost more than the rest; no reader needs it)
        return (
            _spliced(out, part, versions, changed_from),
            _spliced(late, part_late, versions, changed_from),
        )

    def _virtual(self, inside: pl.DataFrame, versions: pl.DataFrame) -> Portfolio:
        """One virtual loan per (loan, change inside the dates): the loan's terms, that
        change's schedule, and the loan's payments under version-suffixed ids (a reversal
        finds its payment by id)."""
        ids = versions.select("account_id", "virtual", "version")
        p = self.portfolio
        suffix = _SEP + pl.col("version").cast(pl.String)
        payments = p.payments.join(ids, on="account_id").with_columns(
            pl.col("virtual").alias("account_id"),
            (pl.col("payment_id") + suffix).alias("payment_id"),
            (pl.col("reverses_payment_id") + suffix).alias("reverses_payment_id"),
        )
        return Portfolio(
            loans=p.loans.join(ids, on="account_id")
            .with_columns(pl.col("virtual").alias("account_id"))
            .sort("account_id"),
            instalments=inside.join(versions, on=["account_id", "effective_date"])
            .with_columns(pl.col("virtual").alias("account_id"))
            .sort("account_id", "period"),
            payments=payments.sort("account_id", "value_date"),
        )


def status_history(
    portfolio: Portfolio,
    changes: pl.DataFrame,
    dates: Sequence[date],
    policy: Policy,
) -> pl.DataFrame:
    """`ScheduleVersions(portfolio, changes).status(dates, policy)`: `portfolio` carries the
    contract schedules (generated or imported), `changes` the agreed ones (SCHEDULE_CHANGES)."""
    return ScheduleVersions(portfolio, changes).status(dates, policy)


def _spliced(
    base: pl.DataFrame, virtual: pl.DataFrame, versions: pl.DataFrame, changed_from: pl.DataFrame
) -> pl.DataFrame:
    """`base` rows of a changed loan before its first change inside the dates, and each
    virtual version's rows for the dates it is in force, under the loan's own id."""
    if virtual.height:
        virtual = (
            virtual.rename({"account_id": "virtual"})
            .join(versions.select("virtual", "account_id", "effective_date", "valid_to"),
                  on="virtual")
            .filter(
                (pl.col("as_of") >= pl.col("effective_date"))
                & (pl.col("valid_to").is_null() | (pl.col("as_of") <= pl.col("valid_to")))
            )
            .select(base.columns)
        )  # fmt: skip
    else:
        virtual = virtual.select(base.columns)
    before = pl.col("effective_date").is_null() | (pl.col("as_of") < pl.col("effective_date"))
    kept = base.join(changed_from, on="account_id", how="left").filter(before)
    return pl.concat([kept.select(base.columns), virtual])
