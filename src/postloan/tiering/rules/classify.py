"""LY-1 classification and LY-2 qualified tiers per customer and date, over whole frames.

For each customer with accounts in the account status of D:
- purpose class: the policy's class of the purpose of the account with the largest outstanding
  principal on D (ties: the smallest account id); a card is `purposes.card`.
- credit status: poor from `poor_min_dpd` worst DPD on D or `poor_min_times_late` overdue
  periods ever (summed over the accounts, as account status counts them); good with DPD 0 on D
  and at most `good_max_times_late`; average otherwise.
- capacity: instalments = per loan open on D, principal ÷ term + a month's interest on the
  principal (the first instalment of equal-principal repayment, an upper bound of the regular
  instalment of every method) in whole minor units; DSR = instalments ÷ monthly income, DTI =
  total liabilities ÷ (12 × monthly income). Strong: DSR and DTI within the strong cut-offs;
  weak: either above its weak cut-off; average otherwise; no positive income: the policy's
  `when_income_unknown`. Integer comparisons only (no rounding question).
- qualified tier: the policy matrix's tier for (credit, capacity), lowered to the floors — the
  worst five-category class of the accounts on D and an open collections case.
"""

from __future__ import annotations

import polars as pl

from postloan.policy import Policy
from postloan.policy.tiering import CAPACITIES, CREDIT_STATUSES, TIERS
from postloan.tiering.rules.frames import CLASS_RANK, CLASSIFIED, NPL_CLASSES

RATE_SCALE = 100_000_000  # annual rates are integers of 1e-8


def tier_rank(column: str | pl.Expr) -> pl.Expr:
    """premium 0 … high 3 (higher is riskier)."""
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.replace_strict(list(TIERS), list(range(len(TIERS))), return_dtype=pl.Int64)


def tier_of_rank(expr: pl.Expr) -> pl.Expr:
    return expr.replace_strict(list(range(len(TIERS))), list(TIERS), return_dtype=pl.String)


def floor_tier(policy: Policy, risk_class: str, open_case: bool) -> str:
    """The least risky tier allowed (one customer; the frame rule below does the same)."""
    floors = policy.tiering.floors
    found = {"normal": "premium", "special_mention": floors.special_mention,
             "substandard": floors.substandard, "doubtful": floors.doubtful,
             "loss": floors.loss}[risk_class]  # fmt: skip
    if open_case:
        found = TIERS[max(TIERS.index(found), TIERS.index(floors.open_case))]
    return found


def _purpose_class(policy: Policy) -> pl.Expr:
    mapping = policy.tiering.purposes.model_dump()
    card, unknown = mapping.pop("card"), mapping.pop("unknown")
    return (
        pl.when(pl.col("account_type") == "card")
        .then(pl.lit(card))
        .otherwise(pl.col("purpose").replace_strict(mapping, default=unknown,
                                                     return_dtype=pl.String))
    )  # fmt: skip


def _open_cases(cases: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    """as_of, customer_id of customers with a case open on as_of (any of `days`)."""
    return (
        days.join(cases, how="cross")
        .filter((pl.col("opened_on") <= pl.col("as_of"))
                & (pl.col("closed_on").is_null() | (pl.col("closed_on") > pl.col("as_of"))))
        .select("as_of", "customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("open_case"))
    )  # fmt: skip


def classify(
    status: pl.DataFrame,
    loans: pl.DataFrame,
    customers: pl.DataFrame,
    cases: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """CLASSIFIED rows, one per (as_of, customer_id) of `status` (STATUS)."""
    accounts = status.join(
        loans.select(pl.col("loan_id").alias("account_id"), "principal", "annual_rate",
                     "term_months", "purpose"),
        on="account_id", how="left",
    ).with_columns(
        _purpose_class(policy).alias("purpose_class"),
        pl.when((pl.col("account_type") == "loan") & (pl.col("outstanding_principal") > 0))
        .then(pl.col("principal") // pl.col("term_months")
              + pl.col("principal") * pl.col("annual_rate") // (12 * RATE_SCALE))
        .otherwise(0).alias("instalment"),
        pl.col("risk_class").replace_strict(CLASS_RANK, return_dtype=pl.Int64).alias("class_rank"),
        pl.when(pl.col("risk_class").is_in(NPL_CLASSES)).then(pl.col("outstanding_principal"))
        .otherwise(0).alias("npl"),
    )  # fmt: skip
    per = accounts.sort(["as_of", "customer_id", "outstanding_principal", "account_id"],
                        descending=[False, False, True, False]).group_by(
        "as_of", "customer_id", maintain_order=True
    ).agg(
        pl.col("purpose_class").first(),
        pl.col("outstanding_principal").sum().alias("balance"),
        pl.col("npl").sum().alias("npl_balance"),
        pl.col("dpd").max().alias("max_dpd"),
        pl.col("cumulative_overdue_periods").sum().alias("times_late"),
        pl.col("instalment").sum().alias("instalments"),
        pl.col("class_rank").max().alias("class_rank"),
    )  # fmt: skip
    days = per.select("as_of").unique()
    open_cases = _open_cases(cases.select("customer_id", "opened_on", "closed_on"), days)
    per = (
        per.join(customers.select("customer_id", "branch_id", "monthly_income",
                                  "total_liabilities"), on="customer_id", how="left")
        .join(open_cases, on=["as_of", "customer_id"], how="left")
        .with_columns(pl.col("open_case").fill_null(False))
    )  # fmt: skip
    worst = {rank: name for name, rank in CLASS_RANK.items()}
    return (
        qualify(per, policy)
        .with_columns(pl.col("class_rank").replace_strict(worst, return_dtype=pl.String)
                      .alias("worst_class"))
        .select(list(CLASSIFIED))
        .cast(CLASSIFIED)  # type: ignore[arg-type]
        .sort("as_of", "customer_id")
    )  # fmt: skip


def qualify(per: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """`per` (one row per customer and date with max_dpd, times_late, instalments,
    monthly_income, total_liabilities, class_rank, open_case) with its credit_status, capacity
    and qualified_tier (the matrix lowered to the floors) — the step's rule, and the what-if's
    on stored figures under a candidate policy."""
    t = policy.tiering
    c, k = t.credit, t.capacity
    income = pl.col("monthly_income")
    liabilities = pl.col("total_liabilities").fill_null(0)
    instalments100 = pl.col("instalments") * 100
    credit = (
        pl.when((pl.col("max_dpd") >= c.poor_min_dpd)
                | (pl.col("times_late") >= c.poor_min_times_late)).then(pl.lit("poor"))
        .when((pl.col("max_dpd") == 0) & (pl.col("times_late") <= c.good_max_times_late))
        .then(pl.lit("good"))
        .otherwise(pl.lit("average"))
    )  # fmt: skip
    capacity = (
        pl.when(income.is_null() | (income <= 0)).then(pl.lit(k.when_income_unknown))
        .when((instalments100 > k.weak_min_dsr_percent * income)
              | (liabilities * 100 > k.weak_min_dti_percent * 12 * income)).then(pl.lit("weak"))
        .when((instalments100 <= k.strong_max_dsr_percent * income)
              & (liabilities * 100 <= k.strong_max_dti_percent * 12 * income))
        .then(pl.lit("strong"))
        .otherwise(pl.lit("average"))
    )  # fmt: skip
    per = per.with_columns(credit.alias("credit_status"), capacity.alias("capacity"))
    matrix = pl.DataFrame(
        [(cs, cap, getattr(getattr(t.matrix, cs), cap))
         for cs in CREDIT_STATUSES for cap in CAPACITIES],
        schema={"credit_status": pl.String, "capacity": pl.String, "matrix_tier": pl.String},
        orient="row",
    )  # fmt: skip
    floor_of_class = [0, TIERS.index(t.floors.special_mention), TIERS.index(t.floors.substandard),
                      TIERS.index(t.floors.doubtful), TIERS.index(t.floors.loss)]  # fmt: skip
    floor = pl.max_horizontal(
        pl.col("class_rank").replace_strict(list(range(5)), floor_of_class,
                                            return_dtype=pl.Int64),
        pl.when(pl.col("open_case")).then(TIERS.index(t.floors.open_case)).otherwise(0),
    )  # fmt: skip
    return (
        per.join(matrix, on=["credit_status", "capacity"], how="left")
        .with_columns(
            tier_of_rank(pl.max_horizontal(tier_rank("matrix_tier"), floor))
            .alias("qualified_tier"),
        )
        .drop("matrix_tier")
    )  # fmt: skip
