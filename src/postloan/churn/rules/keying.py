"""The portfolio keyed once for the churn rules: dense account keys (`acct`) on schedules,
statements and payments, and the payments that count (as the engine counts them).

Like the engine's `_prepare`, but built for the churn step's inputs as the store hands them
(ordered by account id and date): accounts are numbered in id order, so every frame comes out
sorted by key and nothing is sorted again; keys are found by binary search in the sorted ids
(an Enum cast of a million ids costs seconds); schedules are cut to what the rules can look
at (periods due before the run's last date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine.frames import Portfolio
from postloan.engine.keys import UnknownAccountError


def _accounts(p: Portfolio) -> pl.DataFrame:
    return pl.concat([
        p.loans.select("account_id", "customer_id", pl.lit("loan").alias("kind"),
                       pl.col("disbursement_date").alias("opened"),
                       pl.lit(None, dtype=pl.Date).alias("close_date")),
        p.cards.select("account_id", "customer_id", pl.lit("card").alias("kind"),
                       pl.col("open_date").alias("opened"), "close_date"),
    ]).sort("account_id").with_row_index("acct")  # fmt: skip
    # Keys in id order: the store reads schedules, statements and payments ordered by account
    # id, so they come sorted by key as well and nothing needs sorting again.


def with_keys(frame: pl.DataFrame, accounts: pl.DataFrame, what: str) -> pl.DataFrame:
    """Add `acct`, the dense key of each row's `account_id` (`accounts`: account_id sorted,
    acct its position). Like `engine.keys.attach_keys`, only the first row of each run of
    equal ids is looked up (rows come grouped by account), but by a binary search in the
    sorted ids: casting millions of ids to an Enum of a million categories costs seconds."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.UInt32).alias("acct"))
    ids = frame.get_column("account_id")
    run = ids.rle_id()
    heads = ids.filter((run != run.shift(1)).fill_null(True))
    known = accounts.get_column("account_id")
    position = known.search_sorted(heads).clip(0, max(known.len() - 1, 0))
    if known.len() == 0 or not (known.gather(position) == heads).all():
        found = known.gather(position) if known.len() else heads.clear()
        missing = heads.filter(found != heads if known.len() else pl.Series([True] * heads.len()))
        raise UnknownAccountError(
            f"{what}: account_id not in loans or cards: {missing.unique().sort().head(5).to_list()}"
        )
    acct = accounts.get_column("acct").gather(position)
    return frame.with_columns(acct.gather(run).alias("acct"))


def counted_payments(payments: pl.DataFrame, horizon: date) -> pl.DataFrame:
    """`engine.history.effective_payments` (acct, value_date, amount, reversed_on) in the
    payments' own order (the store's: by account and date, so nothing is sorted again),
    joining only the few reversed payments to their reversals (a join of every payment id
    costs more than the rest)."""
    is_reversal = pl.col("reverses_payment_id").is_not_null()
    reversals = (
        payments.filter(is_reversal)
        .group_by("reverses_payment_id")
        .agg(pl.col("value_date").min().alias("reversed_on"))
    )
    plain = payments.filter(~is_reversal & (pl.col("value_date") <= horizon))
    reversed_on = pl.Series("reversed_on", [None] * plain.height, dtype=pl.Date)
    if reversals.height:
        reversed_ids = reversals.get_column("reverses_payment_id")
        hit = (
            plain.with_row_index("_i")
            .filter(pl.col("payment_id").is_in(reversed_ids.implode()))
            .join(reversals, left_on="payment_id", right_on="reverses_payment_id")
        )
        reversed_on = reversed_on.scatter(hit.get_column("_i"), hit.get_column("reversed_on"))
    out = plain.select("acct", "value_date", "amount", reversed_on)
    # Reversed on or before its own value date: it never counted.
    return out.filter(
        pl.col("reversed_on").is_null() | (pl.col("reversed_on") > pl.col("value_date"))
    )


@dataclass(frozen=True)
class Prepared:
    """A portfolio keyed once for churn: `accounts` (acct, account_id, customer_id, kind,
    opened, close_date), `instalments` (due before the last date: the only ones rules look at,
    and the queue up to them) and `statements` keyed by acct, `owed` (acct, total_owed: the
    whole schedule of the loans whose open state rule (c) asks about), `payments` the rows of
    the contract (keyed) and `counted` what counts for the engine (effective payments)."""

    accounts: pl.DataFrame
    instalments: pl.DataFrame
    owed: pl.DataFrame
    statements: pl.DataFrame
    payments: pl.DataFrame
    counted: pl.DataFrame


def keyed_schedules(
    instalments: pl.DataFrame, accounts: pl.DataFrame, last: date, owed_for: pl.Series
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(instalments due before `last`, keyed; acct, total_owed of the loans of the `owed_for`
    customers — the whole schedule: a loan is open until payments cover all of it)."""
    keyed = with_keys(instalments, accounts, "instalments")
    cut = keyed.filter(pl.col("due_date") < last)
    wanted = accounts.filter(
        (pl.col("kind") == "loan") & pl.col("customer_id").is_in(owed_for.implode())
    ).get_column("acct")
    owed = (
        keyed.filter(pl.col("acct").is_in(wanted.implode()))
        .group_by("acct")
        .agg((pl.col("principal_due") + pl.col("interest_due")).sum().alias("total_owed"))
    )
    columns = ["acct", "period", "due_date", "principal_due", "interest_due"]
    return cut.select(columns), owed


def prepare(
    portfolio: Portfolio, dates: Sequence[date], owed_for: pl.Series, schedules: bool = True
) -> Prepared:
    """Key the portfolio for the run's `dates`; `owed_for`: the customers whose loans' open
    state is asked (rule (c)). Without `schedules` (the counters came from the engine's pass)
    only what the customer facts read is keyed: accounts, statements, payments."""
    ordered = sorted(set(dates))
    p = portfolio.conformed()
    accounts = _accounts(p)
    if accounts.get_column("account_id").is_duplicated().any():
        raise ValueError("account ids must be unique across loans and cards")
    if schedules:
        instalments, owed = keyed_schedules(p.instalments, accounts, ordered[-1], owed_for)
    else:
        instalments = pl.DataFrame(schema={"acct": pl.UInt32, "period": pl.Int32,
                                           "due_date": pl.Date, "principal_due": pl.Int64,
                                           "interest_due": pl.Int64})  # fmt: skip
        owed = pl.DataFrame(schema={"acct": pl.UInt32, "total_owed": pl.Int64})
    statements = with_keys(p.statements, accounts, "statements").select(
        "acct", "statement_date", "due_date", "statement_balance", "minimum_due", "purchases"
    )
    payments = with_keys(p.payments, accounts, "payments").select(
        "payment_id", "acct", "value_date", "amount", "reverses_payment_id"
    )
    if not schedules:
        return Prepared(accounts, instalments, owed, statements, payments, payments.clear())
    counted = counted_payments(payments, ordered[-1])
    if len(ordered) == 1:
        # One date (the daily run): a payment reversed on or before D simply does not count,
        # so no account needs a history per reversal date (as the engine does for one date).
        counted = counted.filter(
            pl.col("reversed_on").is_null() | (pl.col("reversed_on") > ordered[0])
        ).with_columns(pl.lit(None, dtype=pl.Date).alias("reversed_on"))
    return Prepared(accounts, instalments, owed, statements, payments, counted)
