"""Degree (CH-4), grade (CH-5) and the suggested reason (CH-3) of each identified customer on
D, from the rules that hold, the customer's accounts on D (account status), the customer file
and the events up to D. The rules and their defaults are in `docs/churn.md` and the policy's
`[churn.degree]`, `[churn.grade]`, `[churn.reasons]`; every input they read is kept with the
row (`signals`), so an officer sees why.

Degree — the worst that applies:
- severe: a rule of `degree.severe_rules` holds (closed, transferred out), or worst DPD ≥
  `severe_min_dpd`;
- moderate: worst DPD ≥ `moderate_min_dpd`, or an account `moderate_min_overdue_periods`
  periods late in a row, or inactive with no two-way `contact` for `contact_lookback_months`;
- light: otherwise (occasional lateness, a quieter customer who still talks to the lender).

Grade — level 1 is the riskiest:
- 1: worst DPD ≥ `level1_min_dpd`, or overdue amount ≥ `level1_min_overdue_amount`, or a
  malicious signal (`asset_transfer` by default) within `malicious_lookback_months` while
  money is overdue;
- 2: worst DPD ≥ `level2_min_dpd`, or overdue ≥ `level2_min_overdue_amount`, or a capacity
  problem (income dropped ≥ `capacity_income_drop_percent`, or liabilities above
  `capacity_max_liabilities_to_annual_income` years of income) with money overdue or an
  overdue rule holding;
- 3: otherwise.

Reason — the first class that applies, else none (an officer decides):
service (a complaint), competition (moved to another lender), macro (stressed industry, or
an income drop ≥ `macro_income_drop_percent` with an overdue rule), policy (an application
with no account opened within `application_unanswered_days`), customer's own (closed after
paying up, nothing overdue), marketing (inactive, no contact within the degree's window).
"""

from __future__ import annotations

import polars as pl

from postloan.churn.rules.frames import CUSTOMERS, EVENTS, GRADED, IDENTIFIED, STATUS
from postloan.policy import Policy

OPENINGS = {"customer_id": pl.String, "date": pl.Date}


def _months_before(months: int) -> pl.Expr:
    return pl.col("as_of").dt.offset_by(f"-{months}mo")


def grade(
    identified: pl.DataFrame,
    status: pl.DataFrame,
    customers: pl.DataFrame,
    events: pl.DataFrame,
    openings: pl.DataFrame,
    policy: Policy,
) -> pl.DataFrame:
    """IDENTIFIED rows with degree, grade, suggested reason and what they read (GRADED).
    `status`: STATUS rows of the customers' open accounts on D (none: nothing open);
    `openings`: every account's opening (customer_id, date)."""
    keys = ["as_of", "customer_id"]
    base = (
        identified.select(list(IDENTIFIED))
        .join(status.select(list(STATUS)), on=keys, how="left")
        .join(customers.select(list(CUSTOMERS)), on="customer_id", how="left")
        .with_columns(
            pl.col("balance", "overdue_amount").fill_null(0),
            pl.col("max_dpd", "max_consecutive", "open_accounts").fill_null(0),
        )
    )
    facts = _event_facts(base.select(keys), events, openings, policy)
    rows = base.join(facts, on=keys, how="left")
    rows = rows.with_columns(
        _capacity(policy).alias("capacity_problem"),
        _income_drop().alias("income_drop_percent"),
    )
    rows = rows.with_columns(
        _degree(policy).alias("degree"),
        _grade(policy).alias("grade"),
        _reason(policy).alias("suggested_reason"),
        pl.struct(
            "max_dpd", "max_consecutive", "overdue_amount", "malicious_on", "complaint_on",
            "transfer_out_seen", "contact_on", "income_reported", "income_drop_percent",
            "capacity_problem", "unanswered_application_on",
            pl.col("industry").is_in(policy.churn.reasons.stressed_industries)
            .fill_null(False).alias("stressed_industry"),
        ).struct.json_encode().alias("signals"),
    )  # fmt: skip
    return rows.select(list(GRADED)).cast(GRADED).sort(keys)  # type: ignore[arg-type]


def _event_facts(
    keys: pl.DataFrame, events: pl.DataFrame, openings: pl.DataFrame, policy: Policy
) -> pl.DataFrame:
    """Per (as_of, customer): the events grading and the reason read (dates on or before D)."""
    churn = policy.churn
    ev = keys.join(events.select(list(EVENTS)), on="customer_id").filter(
        pl.col("date") <= pl.col("as_of")
    )
    kind, when = pl.col("type"), pl.col("date")
    in_reason_window = when > _months_before(churn.reasons.lookback_months)
    unanswered_by = pl.col("as_of") - pl.duration(days=churn.reasons.application_unanswered_days)
    facts = ev.group_by("as_of", "customer_id").agg(
        when.filter(kind.is_in(list(churn.grade.malicious_signals))
                    & (when > _months_before(churn.grade.malicious_lookback_months)))
        .max().alias("malicious_on"),
        when.filter((kind == "complaint") & in_reason_window).max().alias("complaint_on"),
        when.filter((kind == "transfer_out") & in_reason_window).max().alias("transfer_out_seen"),
        when.filter(kind == "contact").max().alias("contact_on"),
        pl.col("amount").filter((kind == "income_change")
                                & (when > _months_before(churn.grade.income_lookback_months)))
        .sort_by(when.filter((kind == "income_change")
                             & (when > _months_before(churn.grade.income_lookback_months))))
        .last().alias("income_reported"),
        when.filter((kind == "application") & in_reason_window & (when <= unanswered_by))
        .max().alias("application_on"),
    )  # fmt: skip
    facts = keys.join(facts, on=["as_of", "customer_id"], how="left")
    # An application is unanswered when no account was opened from it until the days allowed.
    followed = (
        facts.filter(pl.col("application_on").is_not_null())
        .select("as_of", "customer_id", "application_on")
        .join(openings.select(list(OPENINGS)), on="customer_id")
        .filter(
            (pl.col("date") >= pl.col("application_on"))
            & (
                pl.col("date")
                <= pl.col("application_on")
                + pl.duration(days=churn.reasons.application_unanswered_days)
            )
        )
        .select("as_of", "customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("_followed"))
    )
    return (
        facts.join(followed, on=["as_of", "customer_id"], how="left")
        .with_columns(
            pl.when(pl.col("_followed").is_null())
            .then(pl.col("application_on"))
            .alias("unanswered_application_on")
        )
        .drop("_followed", "application_on")
    )


def _income_drop() -> pl.Expr:
    """Percent the latest reported income is below the income on file (null: unknown)."""
    on_file = pl.col("monthly_income")
    return (
        pl.when((on_file > 0) & pl.col("income_reported").is_not_null())
        .then(((on_file - pl.col("income_reported")) * 100 // on_file).clip(lower_bound=0))
        .cast(pl.Int64)
    )


def _capacity(policy: Policy) -> pl.Expr:
    g = policy.churn.grade
    income = pl.col("monthly_income")
    dropped = _income_drop() >= g.capacity_income_drop_percent
    leveraged = (income > 0) & (
        pl.col("total_liabilities") > income * 12 * g.capacity_max_liabilities_to_annual_income
    )
    return (dropped.fill_null(False) | leveraged.fill_null(False)).alias("capacity_problem")


def _overdue_rule() -> pl.Expr:
    return pl.col("loan_overdue") | pl.col("card_default")


def _degree(policy: Policy) -> pl.Expr:
    d = policy.churn.degree
    severe_rule = pl.any_horizontal(*[pl.col(r) for r in d.severe_rules]) if d.severe_rules \
        else pl.lit(False)  # fmt: skip
    quiet = pl.col("inactive") & (
        pl.col("contact_on").is_null()
        | (pl.col("contact_on") <= _months_before(d.contact_lookback_months))
    )
    return (
        pl.when(severe_rule | (pl.col("max_dpd") >= d.severe_min_dpd))
        .then(pl.lit("severe"))
        .when((pl.col("max_dpd") >= d.moderate_min_dpd)
              | (pl.col("max_consecutive") >= d.moderate_min_overdue_periods) | quiet)
        .then(pl.lit("moderate"))
        .otherwise(pl.lit("light"))
    )  # fmt: skip


def _grade(policy: Policy) -> pl.Expr:
    g = policy.churn.grade
    owing = pl.col("overdue_amount") > 0
    level1 = (
        (pl.col("max_dpd") >= g.level1_min_dpd)
        | (pl.col("overdue_amount") >= g.level1_min_overdue_amount * 100)
        | (pl.col("malicious_on").is_not_null() & owing)
    )
    level2 = (
        (pl.col("max_dpd") >= g.level2_min_dpd)
        | (pl.col("overdue_amount") >= g.level2_min_overdue_amount * 100)
        | (pl.col("capacity_problem") & (owing | _overdue_rule()))
    )
    return pl.when(level1).then(1).when(level2).then(2).otherwise(3).cast(pl.Int32)


def _reason(policy: Policy) -> pl.Expr:
    r, d = policy.churn.reasons, policy.churn.degree
    stressed = pl.col("industry").is_in(r.stressed_industries).fill_null(False)
    income_collapse = _overdue_rule() & (_income_drop() >= r.macro_income_drop_percent).fill_null(
        False
    )
    paid_up_and_closed = (
        pl.col("closed_not_reapplied") & ~_overdue_rule() & (pl.col("overdue_amount") == 0)
    )
    no_contact = pl.col("contact_on").is_null() | (
        pl.col("contact_on") <= _months_before(d.contact_lookback_months)
    )
    return (
        pl.when(pl.col("complaint_on").is_not_null())
        .then(pl.lit("service"))
        .when(pl.col("transferred_out") | pl.col("transfer_out_seen").is_not_null())
        .then(pl.lit("competition"))
        .when(stressed | income_collapse)
        .then(pl.lit("macro"))
        .when(pl.col("unanswered_application_on").is_not_null())
        .then(pl.lit("policy"))
        .when(paid_up_and_closed)
        .then(pl.lit("customer_own"))
        .when(pl.col("inactive") & no_contact)
        .then(pl.lit("marketing"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
