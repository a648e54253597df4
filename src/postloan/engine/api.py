"""Engine entry points: orchestrate histories, loans and cards into the contract's frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from postloan.engine import cards, loans
from postloan.engine.classify import bucket_expr, risk_class_expr
from postloan.engine.frames import ACCOUNT_STATUS, Portfolio
from postloan.engine.history import (
    Histories,
    attach_history,
    build_histories,
    daily_curve,
    effective_payments,
)
from postloan.policy import Policy, default_policy


@dataclass(frozen=True)
class _Prepared:
    accounts: pl.DataFrame  # acct, account_id, customer_id, account_type, opened, close_date, principal
    instalments: pl.DataFrame  # acct-level schedule with queue positions
    statements: pl.DataFrame
    payments: pl.DataFrame  # acct, value_date, amount, reversed_on


def _threshold(policy: Policy) -> int:
    return int(policy.allocation.materiality_threshold * 100)


def _prepare(portfolio: Portfolio, horizon: date, policy: Policy, keep_ids: bool) -> _Prepared:
    """Give every account a dense integer key and attach it to schedules and payments."""
    p = portfolio.conformed()
    accounts = pl.concat(
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
    key = accounts.select("account_id", "acct")
    inst_cols = ["acct", "period", "due_date", "principal_due", "interest_due"]
    st_cols = ["acct", "statement_date", "due_date", "statement_balance", "minimum_due"]
    if keep_ids:
        inst_cols.append("account_id")
        st_cols.append("account_id")
    instalments = p.instalments.join(key, on="account_id").select(inst_cols)
    statements = p.statements.join(key, on="account_id").select(st_cols)
    payments = effective_payments(
        p.payments.join(key, on="account_id").select(
            "payment_id", "acct", "value_date", "amount", "reverses_payment_id"
        ),
        horizon,
    )
    return _Prepared(
        accounts,
        loans.prepare_instalments(instalments, policy.allocation.order),
        cards.prepare_statements(statements),
        payments,
    )


def _split(histories: Histories, is_card: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily payment curves of loan histories and of card histories."""
    curve = daily_curve(histories.payments)
    card_acct = pl.col("acct").is_in(is_card.implode())
    return curve.filter(~card_acct), curve.filter(card_acct)


def _status_rows(
    prep: _Prepared, histories: Histories, dates: Sequence[date], policy: Policy
) -> pl.DataFrame:
    threshold = _threshold(policy)
    card_accts = prep.accounts.filter(pl.col("account_type") == "card")["acct"]
    loan_curve, card_curve = _split(histories, card_accts)
    dates_frame = pl.DataFrame({"as_of": sorted(set(dates))}, schema={"as_of": pl.Date})
    open_rows = (
        prep.accounts.select("acct", "account_type", "opened", "close_date", "principal")
        .join(dates_frame, how="cross")
        .filter(pl.col("opened") <= pl.col("as_of"))
    )
    open_rows = attach_history(open_rows, histories)

    inst_h = loans.history_instalments(prep.instalments, histories, loan_curve, threshold)
    loan_part = loans.loan_rows(
        open_rows.filter(pl.col("account_type") == "loan"), inst_h, loan_curve, threshold
    )
    st_h, covered = cards.history_statements(prep.statements, histories, card_curve, threshold)
    card_open = open_rows.filter(
        (pl.col("account_type") == "card")
        & (pl.col("close_date").is_null() | (pl.col("close_date") > pl.col("as_of")))
    )
    card_part = cards.card_rows(card_open, st_h, covered, threshold)
    return pl.concat([loan_part, card_part])


def _finish(rows: pl.DataFrame, accounts: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    out = rows.join(
        accounts.select("acct", "account_id", "customer_id", "account_type"), on="acct"
    ).with_columns(
        bucket_expr(policy, pl.col("dpd")).alias("bucket"),
        risk_class_expr(policy, pl.col("dpd"), pl.col("account_type")).alias("risk_class"),
    )
    return out.select([pl.col(c).cast(t) for c, t in ACCOUNT_STATUS.items()]).sort(
        "as_of", "account_id"
    )


def account_status(portfolio: Portfolio, as_of: date, policy: Policy | None = None) -> pl.DataFrame:
    """One row per account opened on or before D and not closed on D (DATA_CONTRACT)."""
    policy = policy or default_policy()
    prep, histories = _single_date(portfolio, as_of, policy, keep_ids=False)
    return _finish(_status_rows(prep, histories, [as_of], policy), prep.accounts, policy)


def account_status_history(
    portfolio: Portfolio, dates: Sequence[date], policy: Policy | None = None
) -> pl.DataFrame:
    """Account status on every date of `dates`, computed in one pass (multi-date mode)."""
    policy = policy or default_policy()
    if not dates:
        return pl.DataFrame(schema=ACCOUNT_STATUS)
    prep = _prepare(portfolio, max(dates), policy, keep_ids=False)
    histories = build_histories(prep.payments, dates)
    return _finish(_status_rows(prep, histories, dates, policy), prep.accounts, policy)


def _single_date(
    portfolio: Portfolio, as_of: date, policy: Policy, keep_ids: bool = True
) -> tuple[_Prepared, Histories]:
    prep = _prepare(portfolio, as_of, policy, keep_ids=keep_ids)
    # As of one date, a payment reversed on or before D simply does not count.
    counted = prep.payments.filter(
        pl.col("reversed_on").is_null() | (pl.col("reversed_on") > as_of)
    ).with_columns(pl.lit(None, dtype=pl.Date).alias("reversed_on"))
    return prep, build_histories(counted, [as_of])


def instalment_status(
    portfolio: Portfolio, as_of: date, policy: Policy | None = None
) -> pl.DataFrame:
    """Per loan instalment as of D: covered amounts, completion date, days late."""
    policy = policy or default_policy()
    threshold = _threshold(policy)
    prep, histories = _single_date(portfolio, as_of, policy)
    curve = daily_curve(histories.payments)
    inst_h = loans.history_instalments(prep.instalments, histories, curve, threshold)
    paid = curve.group_by("hk").agg(pl.col("paid").max())
    table = loans.instalment_table(inst_h, curve, paid, as_of, threshold)
    return table.sort("account_id", "period")


def statement_status(
    portfolio: Portfolio, as_of: date, policy: Policy | None = None
) -> pl.DataFrame:
    """Per card statement as of D: minimum covered, completion date, days late, paid in full."""
    policy = policy or default_policy()
    threshold = _threshold(policy)
    prep, histories = _single_date(portfolio, as_of, policy)
    curve = daily_curve(histories.payments)
    st_h, covered = cards.history_statements(prep.statements, histories, curve, threshold)
    table = cards.statement_table(st_h, covered, as_of, threshold)
    return table.sort("account_id", "statement_date", "due_date")
