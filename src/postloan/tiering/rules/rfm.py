"""LY-3 RFM adapted to loans, per date over the customers with accounts in status on D:

- R (recency): days from the customer's last repayment (`last_payment_date` of any account, a
  card's included), last drawdown (a loan disbursed on or before D) or last card use (a
  statement of any of the customer's cards dated on or before D with purchases: the contract
  carries no transaction dates, so the statement date stands for its purchases) to D; none of
  these: the worst.
- F (frequency): on-time instalments of the loans open on D (instalments due by D less the
  overdue periods) plus drawdowns (loans disbursed on or before D), plus on the card side, the
  same two: on-time statements of the cards in status on D (statements due on or before D with
  a minimum to pay, less the card's overdue periods — account status counts late statements
  the way it counts late instalments) and months of card use (statements with purchases dated
  on or before D, any of the customer's cards: a purchase is a card's drawdown).
- M (monetary): the balance (outstanding principal on D).

Each is scored 1 (worst) … 5 (best) by quintile of the day's customers: ordered from worst to
best, ties broken by customer id (smaller first), the customer at position i of n scores
⌊5i/n⌋ + 1. Segments: the policy's rules in order, the first whose ranges hold.

Instalments due by D: monthly from the first due date (disbursement + 1 month when the loan has
none), rolled to the month's last day like the ledger's (`ledger.dates`); an imported schedule
with other dates is not read (the count is the contract schedule's).
"""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy
from postloan.tiering.rules.frames import RFM

QUINTILES = 5
WORST = -(2**62)  # the order key of a customer with no activity: below every real one


def due_count(first_due: pl.Expr, day: pl.Expr, term: pl.Expr) -> pl.Expr:
    """Instalments due on or before `day`: due date k is first + k months, its day clamped to
    the month's length (`ledger.dates`), so the one in `day`'s month falls on
    min(first day, month length) — due by `day` when that is not after it."""
    months = ((day.dt.year() - first_due.dt.year()).cast(pl.Int64) * 12
              + day.dt.month().cast(pl.Int64) - first_due.dt.month().cast(pl.Int64))  # fmt: skip
    this_month = (
        pl.min_horizontal(first_due.dt.day().cast(pl.Int64),
                          day.dt.month_end().dt.day().cast(pl.Int64))
        <= day.dt.day().cast(pl.Int64)
    ).cast(pl.Int64)  # fmt: skip
    return (months + this_month).clip(0, None).clip(None, term)


def _score(frame: pl.DataFrame, key: str, name: str) -> pl.DataFrame:
    """Quintile score of `key` (higher is better) per as_of, ties by customer id."""
    ordered = frame.sort("as_of", key, "customer_id")
    return ordered.with_columns(
        (pl.int_range(pl.len()).over("as_of") * QUINTILES // pl.len().over("as_of") + 1)
        .cast(pl.Int64).alias(name)
    )  # fmt: skip


def _card_activity(status: pl.DataFrame, statements: pl.DataFrame) -> pl.DataFrame:
    """as_of, customer_id, card_on_time, card_uses, last_card_use (module doc)."""
    days = status.select("as_of").unique()
    used = days.join(statements.filter(pl.col("purchases") > 0)
                     .select("customer_id", "statement_date"), how="cross").filter(
        pl.col("statement_date") <= pl.col("as_of")
    ).group_by("as_of", "customer_id").agg(
        pl.len().cast(pl.Int64).alias("card_uses"),
        pl.col("statement_date").max().alias("last_card_use"),
    )  # fmt: skip
    cards = status.filter(pl.col("account_type") == "card").select(
        "as_of", "customer_id", pl.col("account_id").alias("card_id"),
        "cumulative_overdue_periods",
    )  # fmt: skip
    on_time = cards.join(
        statements.filter(pl.col("minimum_due") > 0).select("card_id", "due_date"),
        on="card_id", how="left",
    ).group_by("as_of", "customer_id", "card_id").agg(
        (pl.col("due_date") <= pl.col("as_of")).sum().cast(pl.Int64).alias("due"),
        pl.col("cumulative_overdue_periods").first(),
    ).group_by("as_of", "customer_id").agg(
        (pl.col("due") - pl.col("cumulative_overdue_periods")).clip(0, None).sum()
        .cast(pl.Int64).alias("card_on_time")
    )  # fmt: skip
    return on_time.join(used, on=["as_of", "customer_id"], how="full", coalesce=True)


def rfm(
    status: pl.DataFrame, loans: pl.DataFrame, statements: pl.DataFrame, policy: Policy
) -> pl.DataFrame:
    """RFM rows, one per (as_of, customer_id) of `status` (STATUS; LOANS; STATEMENTS)."""
    open_loans = status.filter(pl.col("account_type") == "loan").join(
        loans.select(pl.col("loan_id").alias("account_id"), "term_months", "disbursement_date",
                     "first_due_date"), on="account_id", how="inner",
    ).with_columns(
        due_count(pl.coalesce("first_due_date", pl.col("disbursement_date").dt.offset_by("1mo")),
                  pl.col("as_of"), pl.col("term_months")).alias("due")
    ).group_by("as_of", "customer_id").agg(
        (pl.col("due") - pl.col("cumulative_overdue_periods")).clip(0, None).sum()
        .alias("on_time")
    )  # fmt: skip
    per = status.group_by("as_of", "customer_id").agg(
        pl.col("last_payment_date").max().alias("last_payment"),
        pl.col("outstanding_principal").sum().alias("balance"),
    )
    days = per.select("as_of").unique()
    drawn = days.join(loans.select("customer_id", "disbursement_date"), how="cross").filter(
        pl.col("disbursement_date") <= pl.col("as_of")
    ).group_by("as_of", "customer_id").agg(
        pl.len().cast(pl.Int64).alias("drawdowns"),
        pl.col("disbursement_date").max().alias("last_drawdown"),
    )  # fmt: skip
    per = (
        per.join(open_loans, on=["as_of", "customer_id"], how="left")
        .join(drawn, on=["as_of", "customer_id"], how="left")
        .join(_card_activity(status, statements), on=["as_of", "customer_id"], how="left")
        .with_columns(
            (pl.col("as_of") - pl.max_horizontal("last_payment", "last_drawdown",
                                                 "last_card_use"))
            .dt.total_days().cast(pl.Int64).alias("recency_days"),
            (pl.col("on_time").fill_null(0) + pl.col("drawdowns").fill_null(0)
             + pl.col("card_on_time").fill_null(0) + pl.col("card_uses").fill_null(0))
            .cast(pl.Int64).alias("frequency"),
        )
        .with_columns(pl.col("recency_days").neg().fill_null(WORST).alias("r_key"))
    )  # fmt: skip
    per = _score(per, "r_key", "rfm_r")
    per = _score(per, "frequency", "rfm_f")
    per = _score(per, "balance", "rfm_m")
    return (
        per.with_columns(segment_of(policy).alias("rfm_segment"))
        .select(list(RFM))
        .cast(
            RFM  # type: ignore[arg-type]
        )
        .sort("as_of", "customer_id")
    )


def segment_of(policy: Policy) -> pl.Expr:
    """The first of the policy's segments whose ranges hold (else its `otherwise`)."""
    r = policy.tiering.rfm
    expr: pl.Expr = pl.lit(r.otherwise)
    for s in reversed(r.segments):
        holds = (pl.col("rfm_r").is_between(s.r_min, s.r_max)
                 & pl.col("rfm_f").is_between(s.f_min, s.f_max)
                 & pl.col("rfm_m").is_between(s.m_min, s.m_max))  # fmt: skip
        expr = pl.when(holds).then(pl.lit(s.name)).otherwise(expr)
    return expr


def quintile(position: int, n: int) -> int:
    """The score of the customer at `position` (0 = worst) of `n` (the reference's rule)."""
    return position * QUINTILES // n + 1
