"""Churn identification as of D (SPEC CH-1/CH-2; DATA_CONTRACT "Semantics of churn
identification as of D"), vectorised over the whole history.

Rules (a) and (b) read the account counters of `rules.lateness`; rules (c), (d) and (e) are
per customer: for each date, a few as-of look-ups ("the latest X dated on or before D") over
the customers' sorted event and activity dates — one frame operation per date, no
per-customer Python. "n months after E" and "D − n months" roll to the month's last day like
due dates (Jan 31 + 1 month = Feb 28/29).

- (c) `closed_not_reapplied`: E = latest `account_closed` ≤ D; E + X ≤ D; the latest
  application or account opening ≤ D is not after E; no account of the customer open on D.
- (d) `transferred_out`: T = latest `transfer_out` ≤ D; T + X ≤ D; no application or
  opening after T.
- (e) `inactive`: an account opened on or before D − X, and the latest credit transaction
  (payment row that is not a reversal — reversed later or not —, disbursement, card opening,
  statement with purchases, application) and the latest `explanation` are both on or before
  D − X.

Each identified customer carries its evidence per rule as JSON (`EVIDENCE_DOC`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from postloan.churn.rules.frames import EVENTS, IDENTIFIED, RULES
from postloan.churn.rules.lateness import Counts, Wanted, account_counts
from postloan.engine.asof import asof
from postloan.engine.frames import Portfolio
from postloan.engine.schedule_versions import SCHEDULE_CHANGES, ScheduleVersions
from postloan.ledger.dates import add_months
from postloan.policy import Policy

EVIDENCE_DOC = """\
{"loan_overdue": [{"account_id", "consecutive", "window_late"}] — the loans meeting (a);
 "card_default": [{"account_id", "consecutive_not_paid_in_full", "window_late"}] — cards (b);
 "closed_not_reapplied": {"closed_on", "since"} — the account_closed event and E + X months;
 "transferred_out": {"transfer_out_on", "since"};
 "inactive": {"first_opened", "last_transaction", "last_explanation", "quiet_since"};
 "window_from": W} — a rule that does not hold is null; dates ISO."""

_NO_DATE = pl.lit(None, dtype=pl.Date)


@dataclass(frozen=True)
class ChurnInputs:
    """What identification reads: the portfolio with its contract schedules, the areas'
    schedule changes (repayment agreements: SCHEDULE_CHANGES), the customers' events (EVENTS)
    and, when the policy has per-product thresholds, each loan's product (account_id,
    product)."""

    portfolio: Portfolio
    events: pl.DataFrame
    changes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SCHEDULE_CHANGES))
    loan_products: pl.DataFrame | None = None


def identify(inputs: ChurnInputs, dates: Sequence[date], policy: Policy) -> pl.DataFrame:
    """Every customer identified as churned on each date (IDENTIFIED), with its evidence."""
    ordered = sorted(set(dates))
    if not ordered:
        return pl.DataFrame(schema=IDENTIFIED)
    p = inputs.portfolio.conformed()
    events = inputs.events.select(list(EVENTS)).cast(EVENTS)  # type: ignore[arg-type]
    facts = _CustomerFacts.build(p, events)
    counts = _counts(inputs, ordered, policy, facts.closing_customers(ordered[-1]))
    found = [_on(day, facts, counts, policy) for day in ordered]
    out = pl.concat(found) if found else pl.DataFrame(schema=IDENTIFIED)
    return out.select(list(IDENTIFIED)).cast(IDENTIFIED).sort("as_of", "customer_id")  # type: ignore[arg-type]


def _counts(inputs: ChurnInputs, dates: list[date], policy: Policy, open_for: pl.Series) -> Counts:
    """Rules (a)/(b)'s counters, each date with the schedules in force on it (an approved
    repayment agreement replaces its loan's schedule from its effective date, as in account
    status): dates sharing the same schedules are computed together."""
    churn = policy.churn
    wanted = Wanted(
        loan_consecutive=churn.loan_consecutive_overdue_periods,
        loan_window=churn.loan_cumulative_overdue_periods,
        card_consecutive=churn.card_consecutive_months_not_paid_in_full,
        card_window=churn.card_overdue_times,
        lookback_months=churn.cumulative_lookback_months,
        open_for=open_for,
        loan_thresholds=_product_thresholds(inputs.loan_products, policy),
    )
    changes = inputs.changes
    if changes.height == 0:
        return account_counts(inputs.portfolio, dates, policy, wanted)
    versions = ScheduleVersions(inputs.portfolio, changes)
    effective = changes.get_column("effective_date")
    groups: dict[int, list[date]] = {}
    for day in dates:
        groups.setdefault(int((effective <= day).sum()), []).append(day)
    parts = [account_counts(versions.on(days[0]), days, policy, wanted) for days in groups.values()]
    return Counts(pl.concat([c.loans for c in parts]), pl.concat([c.cards for c in parts]))


def _product_thresholds(products: pl.DataFrame | None, policy: Policy) -> pl.DataFrame | None:
    if products is None or not policy.churn.products or products.height == 0:
        return None
    table = pl.DataFrame(
        [(name, *policy.churn.loan_thresholds(name)) for name in policy.churn.products],
        schema={"product": pl.String, "consecutive_min": pl.Int32, "window_min": pl.Int32},
        orient="row",
    )
    return products.select("account_id", "product").join(table, on="product").drop("product")


@dataclass(frozen=True)
class _CustomerFacts:
    """Per customer (dense key `cust`), dates sorted by (cust, date) for as-of look-ups."""

    customers: pl.DataFrame  # cust, customer_id, first_opened
    starts: pl.DataFrame  # applications and account openings
    transactions: pl.DataFrame  # credit transactions (rule e)
    explanations: pl.DataFrame
    closings: pl.DataFrame  # account_closed events
    transfers: pl.DataFrame  # transfer_out events

    @staticmethod
    def build(p: Portfolio, events: pl.DataFrame) -> _CustomerFacts:
        accounts = pl.concat([
            p.loans.select("account_id", "customer_id",
                           pl.col("disbursement_date").alias("date")),
            p.cards.select("account_id", "customer_id", pl.col("open_date").alias("date")),
        ])  # fmt: skip
        ids = (
            pl.concat([accounts.get_column("customer_id"), events.get_column("customer_id")])
            .unique()
            .sort()
        )
        enum = pl.Enum(ids)

        def keyed(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.select(
                pl.col("customer_id").cast(enum).to_physical().cast(pl.UInt32).alias("cust"),
                pl.col("date"),
            )

        def sorted_dates(*frames: pl.DataFrame) -> pl.DataFrame:
            joined = pl.concat([keyed(f) for f in frames]) if frames else None
            assert joined is not None
            return joined.drop_nulls().unique().sort("cust", "date")

        def of_type(kind: str) -> pl.DataFrame:
            return events.filter(pl.col("type") == kind).select("customer_id", "date")

        openings = accounts.select("customer_id", "date")
        owner = accounts.select("account_id", "customer_id")
        payments = (
            p.payments.filter(pl.col("reverses_payment_id").is_null())
            .select("account_id", pl.col("value_date").alias("date"))
            .join(owner, on="account_id")
            .select("customer_id", "date")
        )
        purchases = (
            p.statements.filter(pl.col("purchases") > 0)
            .select("account_id", pl.col("statement_date").alias("date"))
            .join(owner, on="account_id")
            .select("customer_id", "date")
        )
        first = keyed(openings).group_by("cust").agg(pl.col("date").min().alias("first_opened"))
        customers = (
            pl.DataFrame({"customer_id": ids})
            .with_row_index("cust")
            .with_columns(pl.col("cust").cast(pl.UInt32))
            .join(first, on="cust", how="left")
        )
        return _CustomerFacts(
            customers=customers,
            starts=sorted_dates(openings, of_type("application")),
            transactions=sorted_dates(payments, openings, purchases, of_type("application")),
            explanations=sorted_dates(of_type("explanation")),
            closings=sorted_dates(of_type("account_closed")),
            transfers=sorted_dates(of_type("transfer_out")),
        )

    def closing_customers(self, last: date) -> pl.Series:
        """Customers with an `account_closed` event on or before `last` (rule (c) asks
        whether any of their accounts is open)."""
        custs = self.closings.filter(pl.col("date") <= last).get_column("cust").unique()
        return self.customers.filter(pl.col("cust").is_in(custs.implode())).get_column(
            "customer_id"
        )

    def latest(self, rows: pl.DataFrame, dates: pl.DataFrame, name: str) -> pl.DataFrame:
        """Each row (cust, as_of) gets `name`: the latest date of `dates` on or before D."""
        right = dates.rename({"date": name})
        return asof(rows, right, left_on="as_of", right_on=name, by="cust", strategy="backward")


def _on(day: date, facts: _CustomerFacts, counts: Counts, policy: Policy) -> pl.DataFrame:
    """Customers identified on `day`, with their rules and evidence."""
    rows = facts.customers.with_columns(pl.lit(day).alias("as_of"))
    for frame, name in ((facts.starts, "last_start"), (facts.transactions, "last_transaction"),
                        (facts.explanations, "last_explanation"), (facts.closings, "closed_on"),
                        (facts.transfers, "transfer_out_on")):  # fmt: skip
        rows = facts.latest(rows, frame, name)
    loans = counts.loans.filter(pl.col("as_of") == day)
    cards = counts.cards.filter(pl.col("as_of") == day)
    loan_evidence = (
        loans.filter(pl.col("met"))
        .sort("account_id")
        .group_by("customer_id", maintain_order=True)
        .agg(pl.struct("account_id", "consecutive", "window_late").alias("loans_met"))
    )
    card_evidence = (
        cards.filter(pl.col("met"))
        .sort("account_id")
        .group_by("customer_id", maintain_order=True)
        .agg(pl.struct("account_id", "consecutive_not_paid_in_full", "window_late")
             .alias("cards_met"))
    )  # fmt: skip
    open_customers = pl.concat(
        [loans.filter(pl.col("open")).get_column("customer_id"),
         cards.filter(pl.col("open")).get_column("customer_id")]
    ).unique()  # fmt: skip
    rows = (
        rows.join(loan_evidence, on="customer_id", how="left")
        .join(card_evidence, on="customer_id", how="left")
        .with_columns(pl.col("customer_id").is_in(open_customers.implode()).alias("has_open"))
    )
    return _apply_rules(rows, day, policy)


def _apply_rules(rows: pl.DataFrame, day: date, policy: Policy) -> pl.DataFrame:
    churn = policy.churn
    closed_since = pl.col("closed_on").dt.offset_by(
        f"{churn.months_after_closing_without_reapplying}mo"
    )
    transfer_since = pl.col("transfer_out_on").dt.offset_by(
        f"{churn.months_after_transfer_out_without_resuming}mo"
    )
    quiet_since = add_months(day, -churn.months_without_credit_transaction)
    window_from = add_months(day, -churn.cumulative_lookback_months)
    d = pl.lit(day)
    started = pl.col("last_start")

    def not_after(column: str, limit: pl.Expr) -> pl.Expr:
        return pl.col(column).is_null() | (pl.col(column) <= limit)

    rules = {
        "loan_overdue": pl.col("loans_met").is_not_null(),
        "card_default": pl.col("cards_met").is_not_null(),
        "closed_not_reapplied": pl.col("closed_on").is_not_null()
        & (closed_since <= d)
        & (started.is_null() | (started <= pl.col("closed_on")))
        & ~pl.col("has_open"),
        "transferred_out": pl.col("transfer_out_on").is_not_null()
        & (transfer_since <= d)
        & (started.is_null() | (started <= pl.col("transfer_out_on"))),
        "inactive": (pl.col("first_opened") <= pl.lit(quiet_since))
        & not_after("last_transaction", pl.lit(quiet_since))
        & not_after("last_explanation", pl.lit(quiet_since)),
    }
    flagged = rows.with_columns(
        [expr.fill_null(False).alias(name) for name, expr in rules.items()]
    ).filter(pl.any_horizontal(*RULES))
    evidence = pl.struct(
        pl.when(pl.col("loan_overdue")).then(pl.col("loans_met")).alias("loan_overdue"),
        pl.when(pl.col("card_default")).then(pl.col("cards_met")).alias("card_default"),
        pl.when(pl.col("closed_not_reapplied"))
        .then(pl.struct(pl.col("closed_on"), closed_since.alias("since")))
        .alias("closed_not_reapplied"),
        pl.when(pl.col("transferred_out"))
        .then(pl.struct(pl.col("transfer_out_on"), transfer_since.alias("since")))
        .alias("transferred_out"),
        pl.when(pl.col("inactive"))
        .then(pl.struct(pl.col("first_opened"), pl.col("last_transaction"),
                        pl.col("last_explanation"), pl.lit(quiet_since).alias("quiet_since")))
        .alias("inactive"),
        pl.lit(window_from).alias("window_from"),
    )  # fmt: skip
    return flagged.select(
        "as_of", "customer_id", *RULES, evidence.struct.json_encode().alias("evidence")
    )
