"""Customer events: applications, closures, transfers out, contacts, explanations, complaints,
lawsuits, bureau updates, income changes and asset transfers.

Most events follow from what the accounts did (a payoff closes an account and often moves the
business elsewhere; a default brings collection contacts, sometimes a lawsuit, an income drop
or an asset transfer before it), the rest is background noise spread over the last years.
Every event is dated on or before as_of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from postloan.synth.behaviour import (
    CHRONIC,
    CLOSER,
    CURING,
    DEFAULTER,
    DEFAULTING,
    EARLY_PAYOFF,
    LATE_PAYER,
    OCCASIONAL,
)
from postloan.synth.cards import CardActivity
from postloan.synth.loan_payments import LoanActivity
from postloan.synth.util import BoolArray, IntArray, ids, lookup

EVENT_ID_WIDTH = 9
EVENT_TYPES = (
    "application",
    "account_closed",
    "transfer_out",
    "contact",
    "explanation",
    "complaint",
    "lawsuit",
    "bureau_update",
    "income_change",
    "asset_transfer",
)
_SERVICE_CONTACTS = (
    "inbound call: balance enquiry",
    "outbound call: product offer",
    "branch visit",
    "app chat: repayment question",
    "sms reply: address update",
)
_COLLECTION_CONTACTS = (
    "collection call: promised to pay",
    "collection call: asked for more time",
    "collection call: disputes the amount",
    "collection sms: replied",
    "field visit: met the borrower",
)
_EXPLANATIONS = (
    "salary paid late",
    "in hospital",
    "business cash-flow gap",
    "debit account not topped up",
    "travelling abroad",
)
_COMPLAINTS = (
    "fee dispute",
    "collection conduct",
    "service attitude",
    "app outage on due date",
    "interest calculation",
)
_ASSET_TRANSFERS = (
    "property sold",
    "vehicle transferred",
    "equity transferred",
    "large deposit withdrawn",
)
PRODUCTS = ("cash_loan", "car_loan", "credit_card", "micro_business_loan", "home_mortgage")
DECISIONS = ("approved", "declined")


@dataclass
class EventParts:
    """Parts of the events frame (account indices: loans first, then cards; -1 = none),
    concatenated and numbered by `finish`."""

    as_of: int
    parts: list[pl.DataFrame] = field(default_factory=list)

    def add(
        self,
        kind: str,
        customer: IntArray,
        date: IntArray,
        detail: pl.Series,
        account: IntArray | None = None,
        amount: IntArray | None = None,
    ) -> None:
        n = len(customer)
        frame = pl.DataFrame(
            {
                "customer": pl.Series(customer, dtype=pl.Int64),
                "account": pl.Series(
                    np.full(n, -1) if account is None else account, dtype=pl.Int64
                ),
                "day": pl.Series(date, dtype=pl.Int64),
                "type": pl.Series([EVENT_TYPES.index(kind)] * n, dtype=pl.Int8),
                "amount": pl.Series(np.full(n, -1) if amount is None else amount, dtype=pl.Int64),
                "detail": detail.cast(pl.String).alias("detail"),
            }
        )
        self.parts.append(frame.filter(pl.col("day") <= self.as_of))

    def frame(self, *kinds: str) -> pl.DataFrame:
        """The events so far (columns customer, account, day, type, amount, detail), in
        generation order; only those of `kinds` when given."""
        frame = pl.concat(self.parts)
        if kinds:
            frame = frame.filter(pl.col("type").is_in([EVENT_TYPES.index(k) for k in kinds]))
        return frame

    def finish(self, customer_ids: pl.Series, account_ids: pl.Series) -> pl.DataFrame:
        """The events frame: ids in (date, customer, type, account) order, generation order on
        ties."""
        frame = self.frame().sort(["day", "customer", "type", "account"], maintain_order=True)
        n = frame.height
        has_account = frame["account"] >= 0
        has_amount = frame["amount"] >= 0
        return (
            pl.DataFrame(
                {
                    "event_id": ids("E", n, EVENT_ID_WIDTH),
                    "customer_id": customer_ids.gather(frame["customer"]),
                    "account_id": account_ids.gather(frame["account"].clip(0, None)),
                    "date": frame["day"].cast(pl.Int32).cast(pl.Date),
                    "type": lookup(EVENT_TYPES, frame["type"].to_numpy().astype(np.int64), "type"),
                    "amount": frame["amount"],
                    "detail": frame["detail"],
                    "has_account": has_account,
                    "has_amount": has_amount,
                }
            )
            .with_columns(
                pl.when("has_account").then(pl.col("account_id")).alias("account_id"),
                pl.when("has_amount").then(pl.col("amount")).alias("amount"),
            )
            .drop("has_account", "has_amount")
        )


def make_events(
    rng: np.random.Generator,
    customers: pl.DataFrame,
    loans: pl.DataFrame,
    loan_owner: IntArray,
    loan: LoanActivity,
    card_owner: IntArray,
    card: CardActivity,
    as_of: int,
) -> EventParts:
    """The account-driven and background events; `churn.add_churn_paths` adds to them and
    `EventParts.finish` numbers them."""
    ev = EventParts(as_of)
    n_cust = customers.height
    n_loans = loans.height
    disbursed = loans["disbursement_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    principal = loans["principal"].to_numpy()
    score = customers["bureau_score"].to_numpy().astype(np.int64)
    income = customers["monthly_income"].to_numpy()
    assets = customers["total_assets"].to_numpy()

    def pick(mask: BoolArray, share: float) -> IntArray:
        return np.flatnonzero(mask & (rng.random(len(mask)) < share))

    def texts(options: tuple[str, ...], n: int) -> pl.Series:
        return lookup(options, rng.integers(0, len(options), n), "detail")

    # Applications: for recent loans (the application before disbursement) and re-applications.
    recent = np.flatnonzero(disbursed >= as_of - 90)
    ev.add(
        "application",
        loan_owner[recent],
        disbursed[recent] - rng.integers(1, 15, len(recent)),
        pl.repeat("decision=approved", len(recent), eager=True),
        account=recent,
        amount=principal[recent],
    )
    again = pick(np.ones(n_cust, dtype=bool), 0.12)
    day = as_of - rng.integers(0, 731, len(again))
    decision = np.where(rng.random(len(again)) < 0.6, 0, 1)
    detail = pl.select(
        pl.concat_str(
            pl.lit("product="),
            pl.lit(texts(PRODUCTS, len(again))),
            pl.lit("; decision="),
            pl.lit(lookup(DECISIONS, decision, "d")),
        )
    ).to_series()
    amount = rng.integers(10, 301, len(again)) * 100_000
    ev.add("application", again, day, detail, amount=amount)

    b = loan.behaviour
    s_due = loan.event_period_due

    # Early payoffs close the loan; a third also move their business elsewhere.
    payoff = np.flatnonzero(b == EARLY_PAYOFF)
    ev.add(
        "account_closed",
        loan_owner[payoff],
        loan.event_date[payoff],
        pl.repeat("loan repaid early in full", len(payoff), eager=True),
        account=payoff,
        amount=loan.event_amount[payoff],
    )
    moved = payoff[rng.random(len(payoff)) < 0.35]
    ev.add(
        "transfer_out",
        loan_owner[moved],
        loan.event_date[moved] + rng.integers(0, 21, len(moved)),
        pl.repeat("refinanced at another bank", len(moved), eager=True),
        account=moved,
        amount=loan.event_amount[moved],
    )
    cb = card.behaviour
    closed = np.flatnonzero(cb == CLOSER)
    ev.add(
        "account_closed",
        card_owner[closed],
        card.event_date[closed],
        pl.repeat("card closed at the customer's request", len(closed), eager=True),
        account=closed + n_loans,
    )
    moved = closed[rng.random(len(closed)) < 0.3]
    ev.add(
        "transfer_out",
        card_owner[moved],
        card.event_date[moved] + rng.integers(0, 21, len(moved)),
        pl.repeat("moved card spending to another issuer", len(moved), eager=True),
        account=moved + n_loans,
    )

    # Collection contacts after missed payments, explanations from the curing.
    trouble = np.flatnonzero(np.isin(b, (CURING, DEFAULTING)))
    reps = rng.integers(1, 5, len(trouble))
    rows = np.repeat(trouble, reps)
    ev.add(
        "contact",
        loan_owner[rows],
        s_due[rows] + rng.integers(3, 91, len(rows)),
        texts(_COLLECTION_CONTACTS, len(rows)),
        account=rows,
    )
    card_trouble = np.flatnonzero(cb == DEFAULTER)
    reps = rng.integers(1, 5, len(card_trouble))
    rows = np.repeat(card_trouble, reps)
    ev.add(
        "contact",
        card_owner[rows],
        card.event_date[rows] + rng.integers(3, 91, len(rows)),
        texts(_COLLECTION_CONTACTS, len(rows)),
        account=rows + n_loans,
    )
    late = pick(np.isin(b, (CHRONIC,)), 0.6)
    ev.add(
        "contact",
        loan_owner[late],
        as_of - rng.integers(0, 366, len(late)),
        texts(_COLLECTION_CONTACTS, len(late)),
        account=late,
    )
    service = pick(np.ones(n_cust, dtype=bool), 0.2)
    reps = rng.integers(1, 4, len(service))
    rows = np.repeat(service, reps)
    ev.add(
        "contact",
        rows,
        as_of - rng.integers(0, 366, len(rows)),
        texts(_SERVICE_CONTACTS, len(rows)),
    )

    explain = pick(b == CURING, 0.5)
    ev.add(
        "explanation",
        loan_owner[explain],
        s_due[explain] + rng.integers(3, 26, len(explain)),
        texts(_EXPLANATIONS, len(explain)),
        account=explain,
    )
    explain = pick(b == OCCASIONAL, 0.05)
    ev.add(
        "explanation",
        loan_owner[explain],
        as_of - rng.integers(0, 366, len(explain)),
        texts(_EXPLANATIONS, len(explain)),
        account=explain,
    )
    explain = pick(cb == LATE_PAYER, 0.1)
    ev.add(
        "explanation",
        card_owner[explain],
        as_of - rng.integers(0, 366, len(explain)),
        texts(_EXPLANATIONS, len(explain)),
        account=explain + n_loans,
    )

    # Complaints: background, more among customers in collections.
    who = np.concatenate(
        [
            pick(np.ones(n_cust, dtype=bool), 0.015),
            loan_owner[pick(np.isin(b, (CHRONIC, DEFAULTING)), 0.05)],
        ]
    )
    ev.add("complaint", who, as_of - rng.integers(0, 541, len(who)), texts(_COMPLAINTS, len(who)))

    # Lawsuits on loans in default for more than about half a year.
    old = pick((b == DEFAULTING) & (s_due >= 0) & (s_due <= as_of - 180), 0.3)
    span = np.maximum(as_of - s_due[old] - 150, 0)
    ev.add(
        "lawsuit",
        loan_owner[old],
        s_due[old] + 150 + np.floor(rng.random(len(old)) * (span + 1)).astype(np.int64),
        pl.repeat("suit filed for recovery", len(old), eager=True),
        account=old,
        amount=loan.event_amount[old],
    )
    old = pick((cb == DEFAULTER) & (card.event_date >= 0) & (card.event_date <= as_of - 180), 0.1)
    ev.add(
        "lawsuit",
        card_owner[old],
        card.event_date[old] + 150 + rng.integers(0, 30, len(old)),
        pl.repeat("suit filed for recovery", len(old), eager=True),
        account=old + n_loans,
        amount=card.event_amount[old],
    )

    # Bureau updates: background drift, and a drop after a default.
    who = pick(np.ones(n_cust, dtype=bool), 0.15)
    new_score = (score[who] + rng.normal(0, 25, len(who))).round().clip(350, 950).astype(np.int64)
    ev.add("bureau_update", who, as_of - rng.integers(0, 366, len(who)), _score_text(new_score))
    dflt = pick((b == DEFAULTING) & (s_due >= 0), 0.5)
    owner = loan_owner[dflt]
    new_score = (score[owner] - rng.integers(60, 151, len(dflt))).clip(350, 950)
    ev.add(
        "bureau_update",
        owner,
        s_due[dflt] + rng.integers(30, 91, len(dflt)),
        _score_text(new_score),
    )

    # Income changes and asset transfers: background, and warning signs before a default.
    who = pick(np.ones(n_cust, dtype=bool), 0.04)
    factor = np.exp(rng.normal(0, 0.25, len(who)))
    ev.add(
        "income_change",
        who,
        as_of - rng.integers(0, 541, len(who)),
        lookup(("decrease", "increase"), (factor >= 1).astype(np.int64), "detail"),
        amount=(np.round(income[who] * factor / 1_000) * 1_000).astype(np.int64),
    )
    dflt = pick((b == DEFAULTING) & (s_due >= 0), 0.2)
    owner = loan_owner[dflt]
    ev.add(
        "income_change",
        owner,
        s_due[dflt] - rng.integers(0, 121, len(dflt)),
        pl.repeat("decrease", len(dflt), eager=True),
        amount=(np.round(income[owner] * rng.uniform(0.3, 0.8, len(dflt)) / 1_000) * 1_000).astype(
            np.int64
        ),
    )
    who = np.concatenate(
        [
            pick(np.ones(n_cust, dtype=bool), 0.01),
            loan_owner[pick((b == DEFAULTING) & (s_due >= 0), 0.1)],
        ]
    )
    day = as_of - rng.integers(0, 541, len(who))
    ev.add(
        "asset_transfer",
        who,
        day,
        texts(_ASSET_TRANSFERS, len(who)),
        amount=(np.round(assets[who] * rng.uniform(0.1, 0.6, len(who)) / 10_000) * 10_000).astype(
            np.int64
        ),
    )
    return ev


def _score_text(score: IntArray) -> pl.Series:
    return pl.select(
        pl.concat_str(pl.lit("score="), pl.lit(pl.Series(score).cast(pl.String)))
    ).to_series()
