"""Engine entry points: orchestrate histories, loans and cards into the contract's frames.

The portfolio is cut into partitions of accounts (`partition_size`) computed one after the
other: every step is a sort or an as-of join whose cost grows faster than linearly with frame
size on this hardware, and the working set of one partition stays small, so peak memory is
bounded by the inputs plus one partition. Partitions are independent — the same cut is what a
cluster runner would distribute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine import cards, lateness, loans
from postloan.engine.classify import bucket_expr, risk_class_expr
from postloan.engine.frames import ACCOUNT_STATUS, Portfolio
from postloan.engine.history import (
    Histories,
    attach_history,
    build_histories,
    daily_curve,
    effective_payments,
)
from postloan.engine.keys import attach_keys, partitions, split_by_account
from postloan.engine.lateness import LATENESS, LatenessWanted
from postloan.policy import Policy, default_policy

DEFAULT_PARTITION_SIZE = 100_000  # accounts per partition for one date
MIN_PARTITION_SIZE = 10_000
PARTITION_ROWS = 400_000  # (account, date) rows per partition in multi-date mode


def _partition_size(requested: int | None, n_dates: int) -> int:
    """Partitions hold about PARTITION_ROWS account-date rows: with 30 dates, ~13k accounts.
    (Measured: 100k accounts x 30 dates ran 22 % faster and 20 % lighter in 10k-25k-account
    partitions than in one of 100k.)"""
    if requested is not None:
        return requested
    return max(MIN_PARTITION_SIZE, min(DEFAULT_PARTITION_SIZE, PARTITION_ROWS // max(n_dates, 1)))


Progress = Callable[[int, int], None]  # (partitions done, partitions in all)


@dataclass(frozen=True)
class _Prepared:
    accounts: (
        pl.DataFrame
    )  # acct, account_id, customer_id, account_type, opened, close_date, principal
    instalments: pl.DataFrame  # acct + schedule columns
    statements: pl.DataFrame  # acct + statement columns
    payments: pl.DataFrame  # acct, value_date, amount, reversed_on


def _threshold(policy: Policy) -> int:
    return int(policy.allocation.materiality_threshold * 100)


def _accounts(p: Portfolio) -> pl.DataFrame:
    return pl.concat(
        [
            p.loans.select(
                "account_id",
                "customer_id",
                pl.lit("loan").alias("account_type"),
                pl.col("disbursement_date").alias("opened"),
                pl.lit(None, dtype=pl.Date).alias("close_date"),
                "principal",
            ),
            p.cards.select(
                "account_id",
                "customer_id",
                pl.lit("card").alias("account_type"),
                pl.col("open_date").alias("opened"),
                "close_date",
                pl.lit(None, dtype=pl.Int64).alias("principal"),
            ),
        ]
    ).with_row_index("acct")


def _prepare(portfolio: Portfolio, horizon: date, keep_ids: bool) -> _Prepared:
    """Give every account a dense integer key and attach it to schedules and payments."""
    p = portfolio.conformed()
    accounts = _accounts(p)
    if accounts.get_column("account_id").is_duplicated().any():
        dupes = accounts.filter(pl.col("account_id").is_duplicated())["account_id"].head(5)
        raise ValueError(f"account ids must be unique across loans and cards: {dupes.to_list()}")
    keys = accounts.get_column("account_id").cast(pl.Enum(accounts.get_column("account_id")))
    inst_cols = ["acct", "period", "due_date", "principal_due", "interest_due"]
    st_cols = ["acct", "statement_date", "due_date", "statement_balance", "minimum_due"]
    if keep_ids:
        inst_cols.append("account_id")
        st_cols.append("account_id")
    instalments = attach_keys(p.instalments, keys, "instalments").select(inst_cols)
    statements = attach_keys(p.statements, keys, "statements").select(st_cols)
    payments = attach_keys(p.payments, keys, "payments").select(
        "payment_id", "acct", "value_date", "amount", "reverses_payment_id"
    )
    return _Prepared(accounts, instalments, statements, effective_payments(payments, horizon))


def _partitioned(prep: _Prepared, size: int) -> list[_Prepared]:
    n_parts = max(1, -(-prep.accounts.height // size))
    accounts = [
        prep.accounts.slice(lo, hi - lo) for lo, hi in partitions(prep.accounts.height, size)
    ]
    inst = split_by_account(prep.instalments, size, n_parts)
    stmts = split_by_account(prep.statements, size, n_parts)
    pays = split_by_account(prep.payments, size, n_parts)
    return [_Prepared(*parts) for parts in zip(accounts, inst, stmts, pays, strict=True)]


def _status_rows(
    prep: _Prepared,
    histories: Histories,
    dates: Sequence[date],
    policy: Policy,
    wanted: LatenessWanted | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Status rows (acct, as_of, …) of the partition and, when `wanted`, its lateness rows
    (`engine.lateness`: from the same histories, settle dates and look-ups)."""
    threshold = _threshold(policy)
    is_card = pl.col("acct").is_in(
        prep.accounts.filter(pl.col("account_type") == "card")["acct"].implode()
    )
    curve = daily_curve(histories.payments)
    loan_curve, card_curve = curve.filter(~is_card), curve.filter(is_card)
    dates_frame = pl.DataFrame({"as_of": sorted(set(dates))}, schema={"as_of": pl.Date})
    open_rows = (
        prep.accounts.select("acct", "account_type", "opened", "close_date", "principal")
        .join(dates_frame, how="cross")
        .filter(pl.col("opened") <= pl.col("as_of"))
    )
    open_rows = attach_history(open_rows, histories)

    instalments = loans.prepare_instalments(prep.instalments, policy.allocation.order)
    inst_h = loans.history_instalments(instalments, histories, loan_curve, threshold)
    window = lateness.window_from(wanted.lookback_months) if wanted is not None else None
    looked_up = loans.loan_lookups(
        open_rows.filter(pl.col("account_type") == "loan"), inst_h, loan_curve, threshold, window
    )
    loan_part = loans.loan_status(looked_up, threshold)
    statements = cards.prepare_statements(prep.statements)
    st_h, covered = cards.history_statements(statements, histories, card_curve, threshold)
    every_card = open_rows.filter(pl.col("account_type") == "card")
    card_open = every_card.filter(
        pl.col("close_date").is_null() | (pl.col("close_date") > pl.col("as_of"))
    )
    card_part = cards.card_rows(card_open, st_h, covered, threshold)
    status = pl.concat([loan_part, card_part])
    if wanted is None:
        return status, None
    late = pl.concat([
        lateness.loans(looked_up),
        lateness.cards(every_card, st_h, covered, wanted.lookback_months),
    ])  # fmt: skip
    return status, late


def _finish(rows: pl.DataFrame, accounts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    out = rows.join(
        accounts.select("acct", "account_id", "customer_id", "account_type"), on="acct"
    ).with_columns(
        bucket_expr(policy, pl.col("dpd")).alias("bucket"),
        risk_class_expr(policy, pl.col("dpd"), pl.col("account_type")).alias("risk_class"),
    )
    return out.select([pl.col(c).cast(t) for c, t in ACCOUNT_STATUS.items()])


def _counted_as_of(prep: _Prepared, as_of: date) -> _Prepared:
    """As of one date, a payment reversed on or before D simply does not count."""
    counted = prep.payments.filter(
        pl.col("reversed_on").is_null() | (pl.col("reversed_on") > as_of)
    ).with_columns(pl.lit(None, dtype=pl.Date).alias("reversed_on"))
    return _Prepared(prep.accounts, prep.instalments, prep.statements, counted)


def account_status(
    portfolio: Portfolio,
    as_of: date,
    policy: Policy | None = None,
    *,
    partition_size: int | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """One row per account opened on or before D and not closed on D (DATA_CONTRACT)."""
    return account_status_history(
        portfolio, [as_of], policy, partition_size=partition_size, progress=progress
    )


def account_status_history(
    portfolio: Portfolio,
    dates: Sequence[date],
    policy: Policy | None = None,
    *,
    partition_size: int | None = None,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Account status on every date of `dates`, computed in one pass (multi-date mode)."""
    status, _ = status_and_lateness(
        portfolio, dates, policy, partition_size=partition_size, progress=progress
    )
    return status


def status_and_lateness(
    portfolio: Portfolio,
    dates: Sequence[date],
    policy: Policy | None = None,
    *,
    wanted: LatenessWanted | None = None,
    partition_size: int | None = None,
    progress: Progress | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`account_status_history`, and when `wanted` the lateness counters of every account
    opened on each date (`engine.lateness`, LATENESS rows through `wanted.keep`; else empty),
    from the same pass."""
    policy = policy or default_policy()
    empty_late = pl.DataFrame(schema=LATENESS)
    if not dates:
        return pl.DataFrame(schema=ACCOUNT_STATUS), empty_late
    prep = _prepare(portfolio, max(dates), keep_ids=False)
    if len(set(dates)) == 1:
        prep = _counted_as_of(prep, dates[0])
    parts = _partitioned(prep, _partition_size(partition_size, len(set(dates))))
    results, late_parts = [], []
    for i, part in enumerate(parts):
        histories = build_histories(part.payments, dates)
        status, late = _status_rows(part, histories, dates, policy, wanted)
        results.append(_finish(status, part.accounts, policy))
        if late is not None and wanted is not None:
            late_parts.append(lateness.finish(late, part.accounts, wanted))
        if progress:
            progress(i + 1, len(parts))
    late_all = pl.concat(late_parts, how="vertical_relaxed") if late_parts else empty_late
    return pl.concat(results).sort("as_of", "account_id"), late_all


def _single_date(portfolio: Portfolio, as_of: date) -> tuple[_Prepared, Histories]:
    prep = _counted_as_of(_prepare(portfolio, as_of, keep_ids=True), as_of)
    return prep, build_histories(prep.payments, [as_of])


def instalment_status(
    portfolio: Portfolio, as_of: date, policy: Policy | None = None
) -> pl.DataFrame:
    """Per loan instalment as of D: covered amounts, completion date, days late."""
    policy = policy or default_policy()
    threshold = _threshold(policy)
    prep, histories = _single_date(portfolio, as_of)
    curve = daily_curve(histories.payments)
    instalments = loans.prepare_instalments(prep.instalments, policy.allocation.order)
    inst_h = loans.history_instalments(instalments, histories, curve, threshold)
    paid = curve.group_by("hk").agg(pl.col("paid").max())
    table = loans.instalment_table(inst_h, curve, paid, as_of, threshold)
    return table.sort("account_id", "period")


def statement_status(
    portfolio: Portfolio, as_of: date, policy: Policy | None = None
) -> pl.DataFrame:
    """Per card statement as of D: minimum covered, completion date, days late, paid in full."""
    policy = policy or default_policy()
    threshold = _threshold(policy)
    prep, histories = _single_date(portfolio, as_of)
    curve = daily_curve(histories.payments)
    statements = cards.prepare_statements(prep.statements)
    st_h, covered = cards.history_statements(statements, histories, curve, threshold)
    table = cards.statement_table(st_h, covered, as_of, threshold)
    return table.sort("account_id", "statement_date", "due_date")
