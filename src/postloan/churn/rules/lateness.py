"""Rules (a) and (b)'s account counters, for every account and many business dates at once.

Built on the engine's own machinery, so "late" means exactly what account status means
(DATA_CONTRACT "Semantics of account status"): payments fill the engine's queue per payment
history (`engine.history`: a reversal gives an account one history per reversal date, and the
history in force on D answers for D), each instalment or statement gets the day it was covered
(`engine.loans.history_instalments`, `engine.cards.history_statements`, the policy's
materiality threshold included) and is *late* when that day is after its due date or never.
Once a period is due its late flag no longer depends on D (a later payment cannot make it
on time), only on the history answering D — so the flags are computed once per history and
every date is a pair of as-of look-ups:

- `consecutive` = periods counted back from the latest one due before D while late (the
  engine's `consecutive_overdue_periods`, also for loans already closed on D);
- `window_late` = late periods with W ≤ due date < D, W = D − L months: the running count of
  late periods at the last one due before D minus the same at the last one due before W.

Cards also count statements *not paid in full on time*, counted back from the latest due
before D (payments dated statement date … due date, as counted on D, below the statement
balance; a balance ≤ 0 is paid in full). Loans are *open on D* while a payment dated ≤ D
has not covered the whole queue (cards: until their close date), as in account status.

Accounts are processed in partitions like the engine (bounded memory); no per-account Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine import cards, loans
from postloan.engine.asof import asof, last_per_key, run_cum_sum, run_start
from postloan.engine.frames import Portfolio
from postloan.engine.history import (
    attach_history,
    build_histories,
    daily_curve,
    effective_payments,
)
from postloan.engine.keys import attach_keys, partitions, split_by_account
from postloan.policy import Policy

PARTITION_ACCOUNTS = 100_000
PARTITION_ROWS = 400_000  # (account, date) rows per partition with many dates
MIN_PARTITION = 10_000

# What the counters hand the rules: one row per (account, date) that matters (see `Wanted`).
# `met`: the account meets its rule on D (its own thresholds: a loan's product may have its
# own); `open`: open on D. Rows are kept when met, or open for a customer rule (c) asks about.
LOAN_COUNTS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "as_of": pl.Date,
    "consecutive": pl.Int32,
    "window_late": pl.Int32,
    "open": pl.Boolean,
    "met": pl.Boolean,
}
CARD_COUNTS = {
    "account_id": pl.String,
    "customer_id": pl.String,
    "as_of": pl.Date,
    "consecutive_not_paid_in_full": pl.Int32,
    "window_late": pl.Int32,
    "open": pl.Boolean,
    "met": pl.Boolean,
}


@dataclass(frozen=True)
class Wanted:
    """Which rows to keep: accounts whose counters reach a rule's threshold, and the open
    accounts of `open_for` customers (those rule (c) asks about). `loan_thresholds` gives a
    loan's (consecutive, window) thresholds when its product has its own (account_id,
    consecutive_min, window_min); others use the defaults."""

    loan_consecutive: int
    loan_window: int
    card_consecutive: int
    card_window: int
    lookback_months: int
    open_for: pl.Series  # customer ids
    loan_thresholds: pl.DataFrame | None = None


@dataclass(frozen=True)
class Counts:
    loans: pl.DataFrame  # LOAN_COUNTS
    cards: pl.DataFrame  # CARD_COUNTS


def _accounts(p: Portfolio) -> pl.DataFrame:
    return pl.concat([
        p.loans.select("account_id", "customer_id", pl.lit("loan").alias("kind"),
                       pl.col("disbursement_date").alias("opened"),
                       pl.lit(None, dtype=pl.Date).alias("close_date")),
        p.cards.select("account_id", "customer_id", pl.lit("card").alias("kind"),
                       pl.col("open_date").alias("opened"), "close_date"),
    ]).with_row_index("acct")  # fmt: skip


def _partition_size(n_dates: int) -> int:
    return max(MIN_PARTITION, min(PARTITION_ACCOUNTS, PARTITION_ROWS // max(n_dates, 1)))


def account_counts(
    portfolio: Portfolio, dates: Sequence[date], policy: Policy, wanted: Wanted
) -> Counts:
    """The counters of rules (a) and (b) on every date (module doc), keeping the rows
    `wanted` names."""
    ordered = sorted(set(dates))
    if not ordered:
        return Counts(pl.DataFrame(schema=LOAN_COUNTS), pl.DataFrame(schema=CARD_COUNTS))
    p = portfolio.conformed()
    accounts = _accounts(p)
    keys = accounts.get_column("account_id").cast(pl.Enum(accounts.get_column("account_id")))
    instalments = attach_keys(p.instalments, keys, "instalments").select(
        "acct", "period", "due_date", "principal_due", "interest_due"
    )
    statements = attach_keys(p.statements, keys, "statements").select(
        "acct", "statement_date", "due_date", "statement_balance", "minimum_due"
    )
    payments = attach_keys(p.payments, keys, "payments").select(
        "payment_id", "acct", "value_date", "amount", "reverses_payment_id"
    )
    payments = effective_payments(payments, ordered[-1])
    accounts = _with_thresholds(accounts, wanted)
    size = _partition_size(len(ordered))
    n_parts = max(1, -(-accounts.height // size))
    parts = zip(
        [accounts.slice(lo, hi - lo) for lo, hi in partitions(accounts.height, size)],
        split_by_account(instalments, size, n_parts),
        split_by_account(statements, size, n_parts),
        split_by_account(payments, size, n_parts),
        strict=True,
    )
    dates_frame = pl.DataFrame({"as_of": ordered}, schema={"as_of": pl.Date})
    loan_out, card_out = [], []
    for acc, inst, stmts, pays in parts:
        found = _partition(acc, inst, stmts, pays, ordered, dates_frame, policy, wanted)
        loan_out.append(found[0])
        card_out.append(found[1])
    return Counts(
        pl.concat(loan_out).select(list(LOAN_COUNTS)).cast(LOAN_COUNTS),  # type: ignore[arg-type]
        pl.concat(card_out).select(list(CARD_COUNTS)).cast(CARD_COUNTS),  # type: ignore[arg-type]
    )


def _with_thresholds(accounts: pl.DataFrame, wanted: Wanted) -> pl.DataFrame:
    """Each account's thresholds (a loan's product may have its own) and whether its
    customer's open accounts are wanted."""
    out = accounts.with_columns(
        pl.when(pl.col("kind") == "loan")
        .then(pl.lit(wanted.loan_consecutive))
        .otherwise(pl.lit(wanted.card_consecutive))
        .alias("min_consecutive"),
        pl.when(pl.col("kind") == "loan")
        .then(pl.lit(wanted.loan_window))
        .otherwise(pl.lit(wanted.card_window))
        .alias("min_window"),
        pl.col("customer_id").is_in(wanted.open_for.implode()).alias("open_wanted"),
    )
    if wanted.loan_thresholds is not None and wanted.loan_thresholds.height:
        own = wanted.loan_thresholds.select(
            "account_id",
            pl.col("consecutive_min").cast(pl.Int32),
            pl.col("window_min").cast(pl.Int32),
        )
        out = (
            out.join(own, on="account_id", how="left")
            .with_columns(
                pl.coalesce("consecutive_min", "min_consecutive").alias("min_consecutive"),
                pl.coalesce("window_min", "min_window").alias("min_window"),
            )
            .drop("consecutive_min", "window_min")
            .sort("acct")
        )
    return out.with_columns(pl.col("min_consecutive", "min_window").cast(pl.Int32))


def _due_table(periods: pl.DataFrame, *counters: str) -> pl.DataFrame:
    """The last period of each (history, due date) with its running counters: what an as-of
    look-up of "the latest period due before X" returns."""
    return last_per_key(periods, "due_date").select("hk", "due_date", *counters)


def _look_up(rows: pl.DataFrame, table: pl.DataFrame, key: pl.Expr, prefix: str) -> pl.DataFrame:
    """Each row gets the counters of its history's latest period due before `key`."""
    renamed = table.rename({c: f"{prefix}{c}" for c in table.columns if c != "hk"})
    keyed = rows.with_columns((key - pl.duration(days=1)).alias("_before"))
    return asof(
        keyed, renamed, left_on="_before", right_on=f"{prefix}due_date", by="hk",
        strategy="backward",
    ).drop("_before", f"{prefix}due_date")  # fmt: skip


def _counter_columns(periods: pl.DataFrame, late: str, name: str) -> pl.DataFrame:
    """`cum_<name>` (late periods so far) and `run_<name>` (consecutive late periods ending
    here) over a frame sorted by (hk, idx), like the engine's `late_counters`."""
    flag = pl.col(late)
    last_ok = pl.when(~flag).then(pl.col("idx")).when(run_start("hk")).then(0).forward_fill()
    return periods.with_columns(
        run_cum_sum(flag.cast(pl.Int32), "hk").alias(f"cum_{name}"),
        (pl.col("idx") - last_ok).cast(pl.Int32).alias(f"run_{name}"),
    )


def _partition(
    accounts: pl.DataFrame,
    instalments: pl.DataFrame,
    statements: pl.DataFrame,
    payments: pl.DataFrame,
    dates: list[date],
    dates_frame: pl.DataFrame,
    policy: Policy,
    wanted: Wanted,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    threshold = int(policy.allocation.materiality_threshold * 100)
    histories = build_histories(payments, dates)
    curve = daily_curve(histories.payments)
    is_card = pl.col("acct").is_in(
        accounts.filter(pl.col("kind") == "card").get_column("acct").implode()
    )
    loan_curve, card_curve = curve.filter(~is_card), curve.filter(is_card)
    rows = attach_history(
        accounts.join(dates_frame, how="cross").filter(pl.col("opened") <= pl.col("as_of")),
        histories,
    ).with_columns(
        pl.col("as_of").dt.offset_by(f"-{wanted.lookback_months}mo").alias("window_from")
    )
    return (
        _loan_rows(rows.filter(pl.col("kind") == "loan"), instalments, histories, loan_curve,
                   policy, threshold),
        _card_rows(rows.filter(pl.col("kind") == "card"), statements, histories, card_curve,
                   threshold),
    )  # fmt: skip


def _loan_rows(
    rows: pl.DataFrame, instalments: pl.DataFrame, histories: object, curve: pl.DataFrame,
    policy: Policy, threshold: int,
) -> pl.DataFrame:  # fmt: skip
    inst = loans.prepare_instalments(instalments, policy.allocation.order)
    inst_h = loans.history_instalments(inst, histories, curve, threshold)  # type: ignore[arg-type]
    inst_h = inst_h.with_columns(
        (pl.col("idx") - pl.col("last_on_time")).cast(pl.Int32).alias("run_late")
    )
    table = _due_table(inst_h, "cum_late", "run_late")
    rows = _look_up(rows, table, pl.col("as_of"), "k_")
    rows = _look_up(rows, table.select("hk", "due_date", "cum_late"), pl.col("window_from"), "w_")
    totals = last_per_key(inst_h.select("hk", pl.lit(0).alias("_k"), "end"), "_k").select(
        "hk", pl.col("end").alias("total_owed")
    )
    paid = curve.select("hk", "value_date", pl.col("paid").alias("paid_then"))
    rows = asof(rows, paid, left_on="as_of", right_on="value_date", by="hk", strategy="backward")
    rows = rows.join(totals, on="hk", how="left")
    consecutive = pl.col("k_run_late").fill_null(0)
    window = pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0)
    is_open = pl.col("total_owed").fill_null(0) > pl.col("paid_then").fill_null(0)
    hit = (consecutive >= pl.col("min_consecutive")) | (window >= pl.col("min_window"))
    return rows.with_columns(
        consecutive.cast(pl.Int32).alias("consecutive"),
        window.cast(pl.Int32).alias("window_late"),
        is_open.alias("open"),
        hit.alias("met"),
    ).filter(hit | (pl.col("open_wanted") & is_open))


def _card_rows(
    rows: pl.DataFrame, statements: pl.DataFrame, histories: object, curve: pl.DataFrame,
    threshold: int,
) -> pl.DataFrame:  # fmt: skip
    prepared = cards.prepare_statements(statements)
    st_h, card_curve = cards.history_statements(prepared, histories, curve, threshold)  # type: ignore[arg-type]
    # Paid in full: payments dated statement date .. due date (all before D for the
    # statements counted) reach the balance.
    pay = card_curve.select("hk", pl.col("value_date").alias("_vd"), pl.col("paid").alias("_p"))
    for key, name in ((pl.col("due_date"), "_paid_end"),
                      (pl.col("statement_date") - pl.duration(days=1), "_paid_start")):  # fmt: skip
        st_h = asof(
            st_h.with_columns(key.alias("_key")), pay, left_on="_key", right_on="_vd", by="hk",
            strategy="backward",
        ).with_columns(pl.col("_p").fill_null(0).alias(name)).drop("_key", "_vd", "_p")  # fmt: skip
    full = (pl.col("statement_balance") <= 0) | (
        (pl.col("_paid_end") - pl.col("_paid_start")) >= pl.col("statement_balance")
    )
    st_h = _counter_columns(st_h.with_columns((~full).alias("_nfp")), "_nfp", "nfp")
    table = _due_table(st_h, "cum_late", "run_nfp")
    rows = _look_up(rows, table, pl.col("as_of"), "k_")
    rows = _look_up(rows, table.select("hk", "due_date", "cum_late"), pl.col("window_from"), "w_")
    consecutive = pl.col("k_run_nfp").fill_null(0)
    window = pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0)
    is_open = pl.col("close_date").is_null() | (pl.col("close_date") > pl.col("as_of"))
    hit = (consecutive >= pl.col("min_consecutive")) | (window >= pl.col("min_window"))
    return rows.with_columns(
        consecutive.cast(pl.Int32).alias("consecutive_not_paid_in_full"),
        window.cast(pl.Int32).alias("window_late"),
        is_open.alias("open"),
        hit.alias("met"),
    ).filter(hit | (pl.col("open_wanted") & is_open))
