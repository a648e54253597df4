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
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from postloan.churn.rules.frames import EVENTS, IDENTIFIED, RULES
from postloan.churn.rules.keying import Prepared, keyed_schedules, prepare
from postloan.churn.rules.lateness import Counts, Wanted, account_counts, counts_from_engine
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
    # The counters of rules (a)/(b) from the run's engine pass (`engine.lateness` rows kept by
    # `lateness.engine_keep(lateness_wanted(...))`, covering the dates): when given, they are
    # not computed again here (the schedule changes were applied by that pass).
    engine_lateness: pl.DataFrame | None = None


def identify(inputs: ChurnInputs, dates: Sequence[date], policy: Policy) -> pl.DataFrame:
    """Every customer identified as churned on each date (IDENTIFIED), with its evidence."""
    ordered = sorted(set(dates))
    if not ordered:
        return pl.DataFrame(schema=IDENTIFIED)
    events = inputs.events.select(list(EVENTS)).cast(EVENTS)  # type: ignore[arg-type]
    closing = (
        events.filter((pl.col("type") == "account_closed") & (pl.col("date") <= ordered[-1]))
        .get_column("customer_id")
        .unique()
    )
    wanted = lateness_wanted(policy, closing, inputs.loan_products)
    late = inputs.engine_lateness
    prepared = prepare(inputs.portfolio, ordered, closing, schedules=late is None)
    facts = _CustomerFacts.build(prepared, events, ordered)
    if late is None:
        counts = _counts(inputs, prepared, ordered, policy, wanted)
    else:
        counts = counts_from_engine(late.filter(pl.col("as_of").is_in(ordered)), wanted)
    found = [_on(i, day, facts, counts, policy) for i, day in enumerate(ordered)]
    out = pl.concat(found) if found else pl.DataFrame(schema=IDENTIFIED)
    return out.select(list(IDENTIFIED)).cast(IDENTIFIED).sort("as_of", "customer_id")  # type: ignore[arg-type]


def lateness_wanted(
    policy: Policy, open_for: pl.Series, loan_products: pl.DataFrame | None
) -> Wanted:
    """What rules (a)/(b) ask of the counters: the policy's thresholds (a loan's product may
    have its own) and the customers whose open accounts rule (c) asks about."""
    churn = policy.churn
    return Wanted(
        loan_consecutive=churn.loan_consecutive_overdue_periods,
        loan_window=churn.loan_cumulative_overdue_periods,
        card_consecutive=churn.card_consecutive_months_not_paid_in_full,
        card_window=churn.card_overdue_times,
        lookback_months=churn.cumulative_lookback_months,
        open_for=open_for,
        loan_thresholds=_product_thresholds(loan_products, policy),
    )


def _counts(
    inputs: ChurnInputs, prepared: Prepared, dates: list[date], policy: Policy, wanted: Wanted
) -> Counts:
    """Rules (a)/(b)'s counters, each date with the schedules in force on it (an approved
    repayment agreement replaces its loan's schedule from its effective date, as in account
    status): dates sharing the same schedules are computed together."""
    open_for = wanted.open_for
    changes = inputs.changes
    if changes.height == 0:
        return account_counts(prepared, dates, policy, wanted)
    versions = ScheduleVersions(inputs.portfolio, changes)
    effective = changes.get_column("effective_date")
    groups: dict[int, list[date]] = {}
    for day in dates:
        groups.setdefault(int((effective <= day).sum()), []).append(day)
    parts = []
    for days in groups.values():
        schedules, owed = keyed_schedules(
            versions.on(days[0]).instalments, prepared.accounts, dates[-1], open_for
        )
        keyed = replace(prepared, instalments=schedules, owed=owed)
        parts.append(account_counts(keyed, days, policy, wanted))
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
    """Per customer (dense key `cust`): for each of the run's dates (index `at` into them),
    the latest date of each kind of fact on or before it (`latest`).

    A fact dated t belongs to the first run date on or after t (a binary search); per
    (customer, date index) only the latest fact is kept, and the maximum over the date
    indexes up to D's gives "the latest on or before D" — a group-by over the facts, then a
    few rows per customer, instead of sorting every payment date."""

    customers: pl.DataFrame  # cust, customer_id, first_opened
    latest: pl.DataFrame  # cust, at (date index), then one date column per kind (LATEST_KINDS)

    @staticmethod
    def build(prepared: Prepared, events: pl.DataFrame, dates: list[date]) -> _CustomerFacts:
        accounts = prepared.accounts
        ids = (
            pl.concat([accounts.get_column("customer_id"), events.get_column("customer_id")])
            .unique()
            .sort()
        )
        customers = pl.DataFrame({"customer_id": ids}).with_row_index("cust")
        cust_of = (
            accounts.select("acct", "customer_id")
            .join(customers, on="customer_id", maintain_order="left")
            .get_column("cust")
        )
        horizon = dates[-1]
        code = {kind: i for i, kind in enumerate(LATEST_KINDS)}
        at = pl.Series(dates, dtype=pl.Date)

        def bucketed(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
            """(cust, at, kind, date): the latest fact of the kind per customer and run date."""
            frame = frame.filter(pl.col("date") <= horizon)
            return (
                frame.with_columns(at.search_sorted(frame.get_column("date")).alias("at"))
                .group_by("cust", "at")
                .agg(pl.col("date").max())
                .with_columns(pl.lit(code[kind], dtype=pl.UInt8).alias("kind"))
            )

        def by_account(frame: pl.DataFrame, column: str) -> pl.DataFrame:
            return frame.select(cust_of.gather(frame.get_column("acct")).alias("cust"),
                                pl.col(column).alias("date"))  # fmt: skip

        def by_customer(kind: str) -> pl.DataFrame:
            return (
                events.filter(pl.col("type") == kind)
                .join(customers, on="customer_id")
                .select("cust", "date")
            )

        openings = by_account(accounts, "opened")
        applications = by_customer("application")
        payments = _latest_per_account(
            prepared.payments.filter(pl.col("reverses_payment_id").is_null()),
            "value_date", at, horizon,
        )  # fmt: skip
        purchases = prepared.statements.filter(pl.col("purchases") > 0)
        starts = pl.concat([openings, applications])
        facts = pl.concat([
            bucketed(starts, "start"),
            bucketed(pl.concat([starts, by_account(purchases, "statement_date"),
                                by_account(payments, "value_date")]), "transaction"),
            bucketed(by_customer("explanation"), "explanation"),
            bucketed(by_customer("account_closed"), "closed"),
            bucketed(by_customer("transfer_out"), "transfer"),
        ])  # fmt: skip
        latest = facts.pivot(
            "kind", index=["cust", "at"], values="date", aggregate_function="max"
        ).rename({str(i): kind for kind, i in code.items()}, strict=False)
        for kind in LATEST_KINDS:
            if kind not in latest.columns:
                latest = latest.with_columns(pl.lit(None, dtype=pl.Date).alias(kind))
        latest = latest.select(
            "cust", pl.col("at").cast(pl.Int64), *[pl.col(k).cast(pl.Date) for k in LATEST_KINDS]
        )
        first = openings.group_by("cust").agg(pl.col("date").min().alias("first_opened"))
        return _CustomerFacts(customers.join(first, on="cust", how="left"), latest)

    def on(self, index: int) -> pl.DataFrame:
        """Every customer with the latest fact of each kind on or before the run's date
        `index`: cust, customer_id, first_opened, last_start, last_transaction,
        last_explanation, closed_on, transfer_out_on."""
        known = (
            self.latest.filter(pl.col("at") <= index)
            .group_by("cust")
            .agg(pl.col(list(LATEST_KINDS)).max())
        )
        return self.customers.join(known, on="cust", how="left").rename(
            {"start": "last_start", "transaction": "last_transaction",
             "explanation": "last_explanation", "closed": "closed_on",
             "transfer": "transfer_out_on"}
        )  # fmt: skip


LATEST_KINDS = ("start", "transaction", "explanation", "closed", "transfer")


def _latest_per_account(
    frame: pl.DataFrame, column: str, at: pl.Series, horizon: date
) -> pl.DataFrame:
    """The rows of `frame` (acct, `column` a date) that are the latest of their account for
    a run date: with rows grouped by account in date order (the store's payments), the last
    row of each run of (account, run date) — a comparison with the next row, no grouping of
    millions of rows; in any other order, all rows (the caller groups them)."""
    frame = frame.filter(pl.col(column) <= horizon).select("acct", column)
    if frame.height == 0 or not frame.get_column("acct").is_sorted():
        return frame
    when = at.search_sorted(frame.get_column(column))
    nxt = pl.col("acct").shift(-1)
    same_run = (nxt == pl.col("acct")) & (pl.Series(when).shift(-1) == pl.Series(when))
    ordered = (pl.col(column) <= pl.col(column).shift(-1)) | (nxt != pl.col("acct"))
    if not frame.select(ordered.fill_null(True).all()).item():
        return frame
    return frame.filter(~same_run.fill_null(False))


def _on(
    index: int, day: date, facts: _CustomerFacts, counts: Counts, policy: Policy
) -> pl.DataFrame:
    """Customers identified on `day` (the run's date `index`), with rules and evidence."""
    rows = facts.on(index).with_columns(pl.lit(day).alias("as_of"))
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
