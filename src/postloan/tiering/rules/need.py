"""LY-3 ABC's need dimension (需求, seed 004 "ABC模型: 基于客户的价值(A)、风险(B)和需求(C)").

The seed reads need as the customer's financial goals and service needs (财务目标、投资偏好、服务
需求). The contract carries no stated goals; what the accounts show of a need on D are two
signals, each a policy setting (`[tiering.abc]`):

- **renewal** (续贷): a loan in status on D with principal outstanding whose last instalment
  (first due date + (term − 1) months, rolled to month end like the ledger; no first due date:
  disbursement + 1 month) falls on or after D and on or before D + `need_renewal_within_months`
  months — the financing need outlives the loan.
- **credit_line** (额度): a card in status on D with a positive credit limit and a balance of at
  least `need_utilisation_percent` % of it (integer comparison: balance × 100 ≥ percent × limit).

`need_signals`: the signals found, comma-separated in that order ("" for none); `need`: **high**
with both, **medium** with one, **low** with none. Value (A) is `rules/abc.py`, risk (B) the tier.
"""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy

CARDS = {"card_id": pl.String, "credit_limit": pl.Int64}
NEED = {"as_of": pl.Date, "customer_id": pl.String, "need_signals": pl.String, "need": pl.String}
SIGNALS = ("renewal", "credit_line")
LEVELS = ("low", "medium", "high")  # by the number of signals


def need_of(
    status: pl.DataFrame, loans: pl.DataFrame, cards: pl.DataFrame, policy: Policy
) -> pl.DataFrame:
    """NEED rows, one per (as_of, customer_id) of `status` (STATUS; LOANS; CARDS)."""
    a = policy.tiering.abc
    first_due = pl.coalesce("first_due_date", pl.col("disbursement_date").dt.offset_by("1mo"))
    last_due = first_due.dt.offset_by(pl.format("{}mo", pl.col("term_months") - 1))
    horizon = pl.col("as_of").dt.offset_by(f"{a.need_renewal_within_months}mo")
    terms = loans.select(pl.col("loan_id").alias("account_id"), "first_due_date",
                         "disbursement_date", "term_months")  # fmt: skip
    limits = cards.select(pl.col("card_id").alias("account_id"), "credit_limit")
    per_account = (
        status.join(terms, on="account_id", how="left")
        .join(limits, on="account_id", how="left")
        .with_columns(last_due.alias("last_due"))
        .with_columns(
            ((pl.col("account_type") == "loan") & (pl.col("outstanding_principal") > 0)
             & pl.col("last_due").is_not_null() & (pl.col("last_due") >= pl.col("as_of"))
             & (pl.col("last_due") <= horizon)).fill_null(False).alias("renewal"),
            ((pl.col("account_type") == "card") & (pl.col("credit_limit") > 0)
             & (pl.col("outstanding_principal") * 100
                >= a.need_utilisation_percent * pl.col("credit_limit")))
            .fill_null(False).alias("credit_line"),
        )
    )  # fmt: skip
    per = per_account.group_by("as_of", "customer_id").agg(
        pl.col("renewal").any(), pl.col("credit_line").any()
    )
    count = pl.col("renewal").cast(pl.Int64) + pl.col("credit_line").cast(pl.Int64)
    return (
        per.with_columns(
            pl.concat_str(
                [pl.when(pl.col(s)).then(pl.lit(s)) for s in SIGNALS], separator=",",
                ignore_nulls=True,
            ).fill_null("").alias("need_signals"),
            count.replace_strict(list(range(3)), list(LEVELS), return_dtype=pl.String)
            .alias("need"),
        )
        .select(list(NEED))
        .cast(NEED)  # type: ignore[arg-type]
        .sort("as_of", "customer_id")
    )  # fmt: skip
