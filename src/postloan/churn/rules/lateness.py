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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from postloan.churn.rules.keying import Prepared
from postloan.engine import cards, loans
from postloan.engine.asof import asof, last_per_key, run_cum_sum, run_start, sort_unless_sorted
from postloan.engine.history import (
    Histories,
    attach_history,
    build_histories,
    expand_to_histories,
)
from postloan.engine.keys import partitions, split_by_account
from postloan.ledger.dates import add_months, epoch_days
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


def _partition_size(n_dates: int) -> int:
    return max(MIN_PARTITION, min(PARTITION_ACCOUNTS, PARTITION_ROWS // max(n_dates, 1)))


def account_counts(
    prepared: Prepared, dates: Sequence[date], policy: Policy, wanted: Wanted
) -> Counts:
    """The counters of rules (a) and (b) on every date (module doc), keeping the rows
    `wanted` names."""
    ordered = sorted(set(dates))
    if not ordered:
        return Counts(pl.DataFrame(schema=LOAN_COUNTS), pl.DataFrame(schema=CARD_COUNTS))
    accounts = _with_thresholds(prepared.accounts, wanted)
    size = _partition_size(len(ordered))
    n_parts = max(1, -(-accounts.height // size))
    parts = zip(
        [accounts.slice(lo, hi - lo) for lo, hi in partitions(accounts.height, size)],
        split_by_account(prepared.instalments, size, n_parts),
        split_by_account(prepared.statements.drop("purchases"), size, n_parts),
        split_by_account(prepared.counted, size, n_parts),
        strict=True,
    )
    dates_frame = pl.DataFrame({"as_of": ordered}, schema={"as_of": pl.Date})
    loan_out, card_out = [], []
    for acc, inst, stmts, pays in parts:
        found = _partition(
            acc, inst, stmts, pays, prepared.owed, ordered, dates_frame, policy, wanted
        )
        loan_out.append(found[0])
        card_out.append(found[1])
    return Counts(
        pl.concat(loan_out).select(list(LOAN_COUNTS)).cast(LOAN_COUNTS),  # type: ignore[arg-type]
        pl.concat(card_out).select(list(CARD_COUNTS)).cast(CARD_COUNTS),  # type: ignore[arg-type]
    )


def _with_thresholds(accounts: pl.DataFrame, wanted: Wanted, kind: str = "kind") -> pl.DataFrame:
    """Each account's thresholds (a loan's product may have its own) and whether its
    customer's open accounts are wanted; `kind` names the loan/card column. Keeps the rows'
    order (they may be sorted by key)."""
    out = accounts.with_columns(
        pl.when(pl.col(kind) == "loan")
        .then(pl.lit(wanted.loan_consecutive))
        .otherwise(pl.lit(wanted.card_consecutive))
        .alias("min_consecutive"),
        pl.when(pl.col(kind) == "loan")
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
            out.join(own, on="account_id", how="left", maintain_order="left")
            .with_columns(
                pl.coalesce("consecutive_min", "min_consecutive").alias("min_consecutive"),
                pl.coalesce("window_min", "min_window").alias("min_window"),
            )
            .drop("consecutive_min", "window_min")
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


def _partition(
    accounts: pl.DataFrame,
    instalments: pl.DataFrame,
    statements: pl.DataFrame,
    payments: pl.DataFrame,
    owed: pl.DataFrame,
    dates: list[date],
    dates_frame: pl.DataFrame,
    policy: Policy,
    wanted: Wanted,
    tail: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    threshold = int(policy.allocation.materiality_threshold * 100)
    histories = build_histories(payments, dates)
    curve = _daily_curve(histories.payments)
    # Periods due on or after the last date are never due before a date of the run, and the
    # queue position of earlier ones does not depend on them.
    before_last = pl.col("due_date") < dates[-1]
    instalments, statements = instalments.filter(before_last), statements.filter(before_last)
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
    span = _Span(dates, wanted) if tail else None
    loan_part = _loan_rows(rows.filter(pl.col("kind") == "loan"), instalments, owed, histories,
                           loan_curve, policy, threshold, span)  # fmt: skip
    card_part = _card_rows(rows.filter(pl.col("kind") == "card"), statements, histories,
                           card_curve, threshold, span)  # fmt: skip
    truncated = pl.concat(
        [part.filter(pl.col("truncated")).select("acct") for part in (loan_part, card_part)]
    ).unique()
    if span is not None and truncated.height:
        # A run of late periods reaching back past the span: its length needs the whole
        # schedule (only these few accounts — chronic late payers — are counted again).
        again = accounts.filter(pl.col("acct").is_in(truncated.get_column("acct").implode()))
        only = pl.col("acct").is_in(again.get_column("acct").implode())
        exact = _partition(again, instalments.filter(only), statements.filter(only),
                           payments.filter(only), owed, dates, dates_frame, policy, wanted,
                           tail=False)  # fmt: skip
        loan_part = pl.concat([loan_part.filter(~only), exact[0]], how="diagonal")
        card_part = pl.concat([card_part.filter(~only), exact[1]], how="diagonal")
    return loan_part, card_part


class _Span:
    """The periods the rules can look at on the run's dates: due before the last date, and
    due on or after the earliest window start or among the `keep` last due before the
    earliest date (the consecutive counts' start). Periods due later, or long before, are
    only needed for their place in the queue (their amounts), computed on every period."""

    def __init__(self, dates: list[date], wanted: Wanted) -> None:
        self.first_days = epoch_days(dates[0])
        self.last_days = epoch_days(dates[-1])
        self.window_days = epoch_days(add_months(dates[0], -wanted.lookback_months))
        thresholds = wanted.loan_thresholds
        most = max(wanted.loan_consecutive, wanted.card_consecutive)
        if thresholds is not None and thresholds.height:
            most = max(most, int(thresholds.get_column("consecutive_min").max()))  # type: ignore[arg-type]
        self.keep = most

    def rows(self, periods: pl.DataFrame) -> pl.DataFrame:
        """`periods` (sorted by acct, due date) cut to the span, with `tail_from`: the index
        of each account's first period kept."""
        if periods.height == 0:
            return periods.with_columns(pl.lit(1, dtype=pl.Int32).alias("tail_from"))
        acct = periods.get_column("acct").to_numpy().astype(np.int64)
        due = periods.get_column("due_date").cast(pl.Int32).to_numpy().astype(np.int64)
        key = (acct << 32) | (due + _SHIFT)
        starts = np.empty(acct.size, dtype=bool)
        starts[0] = True
        np.not_equal(acct[1:], acct[:-1], out=starts[1:])
        run = np.cumsum(starts) - 1
        firsts = acct[starts]
        bound = np.searchsorted(key, (firsts << 32) | (self.first_days + _SHIFT), side="left")
        end = bound[run]
        pos = np.arange(acct.size)
        last_ones = (pos >= end - self.keep) & (pos < end)
        keep = (due < self.last_days) & ((due >= self.window_days) | last_ones)
        cut = periods.filter(pl.Series(keep))
        return cut.with_columns(
            pl.when(run_start("acct")).then(pl.col("idx")).forward_fill().alias("tail_from")
        )


_SHIFT = 1 << 20  # epoch days made positive for the composite keys


def _daily_curve(history_payments: pl.DataFrame) -> pl.DataFrame:
    """`engine.history.daily_curve` without sorting payments that are already in order (the
    store's are): per history and value date, the cumulative amount paid by that day."""
    ordered = sort_unless_sorted(history_payments, ["hk", "value_date"])
    last_of_day = (pl.col("hk") != pl.col("hk").shift(-1)) | (
        pl.col("value_date") != pl.col("value_date").shift(-1)
    )
    return (
        ordered.with_columns(run_cum_sum(pl.col("amount"), "hk").alias("paid"))
        .filter(last_of_day.fill_null(True))
        .select("hk", "acct", "value_date", "paid")
    )


def _tail_counters(periods: pl.DataFrame, late: str, name: str) -> pl.DataFrame:
    """`run_<name>`: late periods in a row ending here, counted within the kept periods
    (sorted by hk, idx; `tail_from` the first kept index), and `cut_<name>`: true when the run
    reaches the first kept period of an account with earlier periods (it may be longer)."""
    flag = pl.col(late)
    baseline = pl.col("tail_from") - 1
    last_ok = pl.when(~flag).then(pl.col("idx")).when(run_start("hk")).then(baseline).forward_fill()
    return periods.with_columns(
        (pl.col("idx") - last_ok).cast(pl.Int32).alias(f"run_{name}"),
        ((last_ok == baseline) & (baseline > 0)).alias(f"cut_{name}"),
    )


def _loan_rows(
    rows: pl.DataFrame, instalments: pl.DataFrame, totals: pl.DataFrame, histories: Histories,
    curve: pl.DataFrame, policy: Policy, threshold: int, span: _Span | None,
) -> pl.DataFrame:  # fmt: skip
    inst = loans.prepare_instalments(instalments, policy.allocation.order)
    inst = span.rows(inst) if span else inst.with_columns(pl.lit(1, pl.Int32).alias("tail_from"))
    inst_h = loans.settle_dates(expand_to_histories(inst, histories), curve, threshold,
                                "settled_on")  # fmt: skip
    settled = pl.col("settled_on")
    inst_h = inst_h.with_columns((settled.is_null() | (settled > pl.col("due_date"))).alias("late"))
    inst_h = _tail_counters(
        inst_h.with_columns(run_cum_sum(pl.col("late").cast(pl.Int32), "hk").alias("cum_late")),
        "late",
        "late",
    )
    table = _due_table(inst_h, "cum_late", "run_late", "cut_late")
    rows = _look_up(rows, table, pl.col("as_of"), "k_")
    rows = _look_up(rows, table.select("hk", "due_date", "cum_late"), pl.col("window_from"), "w_")
    paid = curve.select("hk", "value_date", pl.col("paid").alias("paid_then"))
    rows = asof(rows, paid, left_on="as_of", right_on="value_date", by="hk", strategy="backward")
    rows = rows.join(totals, on="acct", how="left")
    consecutive = pl.col("k_run_late").fill_null(0)
    window = pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0)
    # Open on D (asked for rule (c)'s customers only: `total_owed` is theirs).
    is_open = pl.col("total_owed").fill_null(0) > pl.col("paid_then").fill_null(0)
    hit = (consecutive >= pl.col("min_consecutive")) | (window >= pl.col("min_window"))
    return rows.with_columns(
        consecutive.cast(pl.Int32).alias("consecutive"),
        window.cast(pl.Int32).alias("window_late"),
        is_open.alias("open"),
        hit.alias("met"),
        (hit & pl.col("k_cut_late").fill_null(False)).alias("truncated"),
    ).filter(hit | (pl.col("open_wanted") & is_open))


def _card_rows(
    rows: pl.DataFrame, statements: pl.DataFrame, histories: Histories, curve: pl.DataFrame,
    threshold: int, span: _Span | None,
) -> pl.DataFrame:  # fmt: skip
    prepared = cards.prepare_statements(statements)
    every = expand_to_histories(prepared, histories)
    card_curve = cards.covered_curve(curve, every)
    # Not paid in full (every statement: a revolver's run is as long as its history):
    # payments dated statement date .. due date (all before D for the statements counted)
    # below the balance.
    pay = card_curve.select("hk", pl.col("value_date").alias("_vd"), pl.col("paid").alias("_p"))
    for key, name in ((pl.col("due_date"), "_paid_end"),
                      (pl.col("statement_date") - pl.duration(days=1), "_paid_start")):  # fmt: skip
        every = asof(
            every.with_columns(key.alias("_key")), pay, left_on="_key", right_on="_vd", by="hk",
            strategy="backward",
        ).with_columns(pl.col("_p").fill_null(0).alias(name)).drop("_key", "_vd", "_p")  # fmt: skip
    full = (pl.col("statement_balance") <= 0) | (
        (pl.col("_paid_end") - pl.col("_paid_start")) >= pl.col("statement_balance")
    )
    every = _tail_counters(
        every.with_columns((~full).alias("_nfp"), pl.lit(1, pl.Int32).alias("tail_from")),
        "_nfp", "nfp",
    )  # fmt: skip
    # Late (minimum met after the due date, or unmet): only the statements in the span.
    kept = span.rows(prepared) if span else prepared.with_columns(
        pl.lit(1, pl.Int32).alias("tail_from"))  # fmt: skip
    st_h = cards.settle_dates(expand_to_histories(kept, histories), card_curve, threshold,
                              "settled_on")  # fmt: skip
    settled = pl.col("settled_on")
    st_h = st_h.with_columns(
        run_cum_sum((settled.is_null() | (settled > pl.col("due_date"))).cast(pl.Int32), "hk")
        .alias("cum_late")
    )  # fmt: skip
    rows = _look_up(rows, _due_table(every, "run_nfp"), pl.col("as_of"), "k_")
    late = _due_table(st_h, "cum_late")
    rows = _look_up(rows, late, pl.col("as_of"), "k_")
    rows = _look_up(rows, late, pl.col("window_from"), "w_")
    consecutive = pl.col("k_run_nfp").fill_null(0)
    window = pl.col("k_cum_late").fill_null(0) - pl.col("w_cum_late").fill_null(0)
    is_open = pl.col("close_date").is_null() | (pl.col("close_date") > pl.col("as_of"))
    hit = (consecutive >= pl.col("min_consecutive")) | (window >= pl.col("min_window"))
    return rows.with_columns(
        consecutive.cast(pl.Int32).alias("consecutive_not_paid_in_full"),
        window.cast(pl.Int32).alias("window_late"),
        is_open.alias("open"),
        hit.alias("met"),
        pl.lit(False).alias("truncated"),
    ).filter(hit | (pl.col("open_wanted") & is_open))


# From the engine's pass. A daily run asks the engine for its lateness counters
# (`engine.lateness`) while it computes account status, instead of keying and settling the
# portfolio a second time here: `engine_keep` is the filter the pass applies per partition,
# `counts_from_engine` turns what it kept into the counters above — the same numbers
# (tests/churn/test_engine_lateness.py compares them on every property-test portfolio).


def engine_keep(wanted: Wanted) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """The pass's filter: rows that may meet a rule under the lowest thresholds any account
    has, and the open accounts of `wanted.open_for` customers. It looks at counters and
    customers only, never account ids: a loan whose schedule changes inside the run's dates
    is computed under a virtual id (`engine.schedule_versions`)."""
    lowest_loan = (wanted.loan_consecutive, wanted.loan_window)
    if wanted.loan_thresholds is not None and wanted.loan_thresholds.height:
        own = wanted.loan_thresholds
        lowest_loan = (
            min(wanted.loan_consecutive, int(own.get_column("consecutive_min").min())),  # type: ignore[arg-type]
            min(wanted.loan_window, int(own.get_column("window_min").min())),  # type: ignore[arg-type]
        )
    open_for = wanted.open_for.implode()

    def keep(frame: pl.DataFrame) -> pl.DataFrame:
        loan = pl.col("account_type") == "loan"
        loan_may = (pl.col("consecutive_late") >= lowest_loan[0]) | (
            pl.col("window_late") >= lowest_loan[1]
        )
        may_meet = pl.when(loan).then(loan_may).otherwise(
            (pl.col("consecutive_not_paid_in_full") >= wanted.card_consecutive)
            | (pl.col("window_late") >= wanted.card_window)
        )  # fmt: skip
        asked = pl.col("open") & pl.col("customer_id").is_in(open_for)
        return frame.filter(may_meet | asked)

    return keep


def counts_from_engine(late: pl.DataFrame, wanted: Wanted) -> Counts:
    """The counters (LOAN_COUNTS, CARD_COUNTS) from the engine pass's rows (LATENESS, through
    `engine_keep`), with each account's own thresholds."""
    frame = _with_thresholds(late, wanted, kind="account_type")
    loan = pl.col("account_type") == "loan"
    consecutive = (
        pl.when(loan)
        .then(pl.col("consecutive_late"))
        .otherwise(pl.col("consecutive_not_paid_in_full"))
    )
    met = (consecutive >= pl.col("min_consecutive")) | (
        pl.col("window_late") >= pl.col("min_window")
    )
    frame = frame.with_columns(met.alias("met")).filter(
        pl.col("met") | (pl.col("open_wanted") & pl.col("open"))
    )
    # A loan's open state is only asked for rule (c)'s customers (as `account_counts` does).
    loans = (
        frame.filter(loan)
        .rename({"consecutive_late": "consecutive"})
        .with_columns(pl.col("open") & pl.col("open_wanted"))
    )
    cards = frame.filter(~loan)
    return Counts(
        loans.select(list(LOAN_COUNTS)).cast(LOAN_COUNTS),  # type: ignore[arg-type]
        cards.select(list(CARD_COUNTS)).cast(CARD_COUNTS),  # type: ignore[arg-type]
    )
