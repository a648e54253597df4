"""Payment histories: which payments count for which business dates.

A payment counts as of D when `value_date <= D < reversal_date` (DATA_CONTRACT). Because a
reversal cancels the payment for every D after it — and so can move *earlier* completion dates —
an account's history is not one fixed sequence once reversals exist. We split it into
*versions*: version 0 holds every payment; version v starts at the account's v-th distinct
reversal date s_v and holds the payments not reversed by then. For any D, the version with
`s_v <= D < s_{v+1}` gives exactly the payments that count as of D (truncated at D).

Each (account, version) is a *history*, keyed by `hk = acct << VERSION_BITS | v`. Accounts
without reversals (the vast majority) have one history, `hk = acct << VERSION_BITS`, computed
without any join; only accounts with reversals are expanded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine.asof import run_cum_sum

VERSION_BITS = 20
HK = pl.UInt64


def hk_of(acct: pl.Expr, version: pl.Expr | int = 0) -> pl.Expr:
    v = pl.lit(version, dtype=HK) if isinstance(version, int) else version.cast(HK)
    return (acct.cast(HK) * (1 << VERSION_BITS)) + v


@dataclass(frozen=True)
class Histories:
    """The payment histories needed for a list of business dates.

    payments: hk, acct, value_date, amount — one row per payment per history it belongs to.
    rows:     acct, as_of, hk — which history answers for each (account, date) with an
              expanded (reversal) account; accounts absent here use `hk_of(acct)`.
    expanded: acct, hk — every history of accounts with reversals (to expand their schedules).
    """

    payments: pl.DataFrame
    rows: pl.DataFrame
    expanded: pl.DataFrame


def effective_payments(payments: pl.DataFrame, horizon: date) -> pl.DataFrame:
    """Payments (not reversal rows) with their earliest reversal date, dated <= horizon.

    In: payment_id, acct, value_date, amount, reverses_payment_id.
    Out: acct, value_date, amount, reversed_on (nullable). A payment reversed on or before its
    own value date never counts, so it is dropped here.
    """
    is_reversal = pl.col("reverses_payment_id").is_not_null()
    reversals = (
        payments.filter(is_reversal)
        .group_by("reverses_payment_id")
        .agg(pl.col("value_date").min().alias("reversed_on"))
        .rename({"reverses_payment_id": "payment_id"})
    )
    return (
        payments.filter(~is_reversal & (pl.col("value_date") <= horizon))
        .join(reversals, on="payment_id", how="left")
        .filter(pl.col("reversed_on").is_null() | (pl.col("reversed_on") > pl.col("value_date")))
        .select("acct", "value_date", "amount", "reversed_on")
    )


def build_histories(payments: pl.DataFrame, dates: Sequence[date]) -> Histories:
    """Assign payments to histories for the given dates (see module doc)."""
    dates_frame = pl.DataFrame({"as_of": sorted(set(dates))}, schema={"as_of": pl.Date})
    reversed_rows = pl.col("reversed_on").is_not_null()
    rev_points = payments.filter(reversed_rows).select("acct", "reversed_on").unique()

    if rev_points.height == 0:
        plain = payments.select(hk_of(pl.col("acct")).alias("hk"), "acct", "value_date", "amount")
        empty_rows = pl.DataFrame(schema={"acct": pl.UInt32, "as_of": pl.Date, "hk": HK})
        empty_exp = pl.DataFrame(schema={"acct": pl.UInt32, "hk": HK})
        return Histories(plain, empty_rows, empty_exp)

    # Version of each (reversal account, date): how many distinct reversal dates are <= D, and
    # the latest of them (the version's start).
    points = rev_points.sort("acct", "reversed_on").with_columns(
        pl.col("reversed_on").rank("ordinal").over("acct").cast(pl.UInt32).alias("v")
    )
    rev_accounts = points.select("acct").unique()
    rows = (
        rev_accounts.join(dates_frame, how="cross")
        .sort("acct", "as_of")
        .join_asof(
            points.rename({"reversed_on": "starts"}),
            left_on="as_of",
            right_on="starts",
            by="acct",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(pl.col("v").fill_null(0))
    )
    versions = rows.select("acct", "v", "starts").unique()
    rows = rows.select("acct", "as_of", hk_of(pl.col("acct"), pl.col("v")).alias("hk"))

    is_expanded = pl.col("acct").is_in(rev_accounts["acct"].implode())
    plain = payments.filter(~is_expanded).select(
        hk_of(pl.col("acct")).alias("hk"), "acct", "value_date", "amount"
    )
    expanded_payments = (
        payments.filter(is_expanded)
        .join(versions, on="acct")
        .filter(
            pl.col("starts").is_null()
            | pl.col("reversed_on").is_null()
            | (pl.col("reversed_on") > pl.col("starts"))
        )
        .select(hk_of(pl.col("acct"), pl.col("v")).alias("hk"), "acct", "value_date", "amount")
    )
    expanded = versions.select("acct", hk_of(pl.col("acct"), pl.col("v")).alias("hk"))
    return Histories(pl.concat([plain, expanded_payments]), rows, expanded)


def daily_curve(history_payments: pl.DataFrame) -> pl.DataFrame:
    """Per history and value date: the cumulative amount paid by the end of that day (`paid`).

    Same-day payments are summed: completion dates are dates, and applying two same-day
    payments one after the other covers exactly what their sum covers. (The running sum is
    taken over the sorted rows and only each day's last row is kept — no hash grouping.)
    """
    ordered = history_payments.sort("hk", "value_date")
    last_of_day = (pl.col("hk") != pl.col("hk").shift(-1)) | (
        pl.col("value_date") != pl.col("value_date").shift(-1)
    )
    return (
        ordered.with_columns(run_cum_sum(pl.col("amount"), "hk").alias("paid"))
        .filter(last_of_day.fill_null(True))
        .select("hk", "acct", "value_date", "paid")
    )


def attach_history(rows: pl.DataFrame, histories: Histories) -> pl.DataFrame:
    """Give each (acct, as_of) row the key of the history that answers for it."""
    if histories.rows.height == 0:
        return rows.with_columns(hk_of(pl.col("acct")).alias("hk"))
    return rows.join(histories.rows, on=["acct", "as_of"], how="left").with_columns(
        pl.col("hk").fill_null(hk_of(pl.col("acct")))
    )


def expand_to_histories(frame: pl.DataFrame, histories: Histories) -> pl.DataFrame:
    """Copy account-level rows (instalments, statements) once per history of their account.

    In: rows sorted by (acct, idx); out: sorted by (hk, idx).
    """
    if histories.expanded.height == 0:
        return frame.with_columns(hk_of(pl.col("acct")).alias("hk"))
    is_expanded = pl.col("acct").is_in(histories.expanded["acct"].unique().implode())
    plain = frame.filter(~is_expanded).with_columns(hk_of(pl.col("acct")).alias("hk"))
    copies = frame.filter(is_expanded).join(histories.expanded, on="acct")
    return pl.concat([plain, copies.select(plain.columns)]).sort("hk", "idx")
