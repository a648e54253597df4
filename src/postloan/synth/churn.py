"""Churn paths (SPEC CH-2, CH-3): the events that move customers into and out of the churn pool,
and the signals its reason classification reads.

The accounts already give the rules their customers: chronic late and defaulting loans (a);
revolving, late and defaulting cards (b); early payoffs and card closers, a third of them with a
`transfer_out` (c, d; see `events`); dormant cards and loans repaid long ago (e). What they do
not give is a pool that also *shrinks*, nor reasons to tell the churned apart. So, drawn after
every other event (a seed's accounts, payments and earlier events stay as they were) and
vectorised over events and customers:

- returns after a closure: `REAPPLY_AFTER_CLOSURE` of `account_closed` events are followed by
  an `application` 1-24 months later — `RETURN_SOON` of them within 6 months (the customer never
  enters pool (c)), the rest after it (in the pool, then out on the application date);
- resumptions after a transfer out: `RESUME_AFTER_TRANSFER` of `transfer_out` events, likewise
  for pool (d);
- new accounts after a closure: the `application` (1-14 days before, never before the closure)
  of each loan or card opened after one of its owner's closures;
- explained dormancy: `EXPLAIN_DORMANCY` of the customers without a credit transaction for
  `DORMANT_DAYS` or more explain it (`explanation`) on a day from then to as_of — out of pool
  (e), or never in it;
- service: a `complaint` about the account 5-90 days before `COMPLAINT_BEFORE_CLOSURE` of the
  closures;
- macro-economy: customers in `STRESSED_INDUSTRIES` report an income drop of 20-60 %
  (`income_change` "decrease") — `INCOME_DROP_TROUBLED` of those with a chronic late or
  defaulting loan or a late-paying or defaulting card, `INCOME_DROP` of the others;
- suspected malicious default: an `asset_transfer` from 30 days before to 150 days after the
  default of `ASSET_TRANSFER_LOAN` / `ASSET_TRANSFER_CARD` of the loans / cards in default for
  `SEVERE_DAYS` or more.

Competition (`transfer_out`) and the customer's own reason (an early payoff, then the closure)
come from `events`. Every event is dated on or before as_of (`EventParts.add` drops later ones:
a return not yet made).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from postloan.synth.behaviour import CHRONIC, DEFAULTER, DEFAULTING, LATE_PAYER
from postloan.synth.cards import CardActivity
from postloan.synth.events import DECISIONS, PRODUCTS, EventParts
from postloan.synth.loan_payments import LoanActivity
from postloan.synth.util import IntArray, lookup, uniform_int

STRESSED_INDUSTRIES = ("房地产业", "建筑业")
REAPPLY_AFTER_CLOSURE = 0.30
RESUME_AFTER_TRANSFER = 0.30
RETURN_SOON = 0.35
# "n months after E": 6 months are 181-184 days, so a return within 180 days never lets the
# customer into the pool and one after 185 days always does first.
_SOON_DAYS = (30, 180)
_LATER_DAYS = (185, 730)
COMPLAINT_BEFORE_CLOSURE = 0.15
DORMANT_DAYS = 240
EXPLAIN_DORMANCY = 0.35
_EXPLAIN_WITHIN_DAYS = 540  # explanations are dated at most this long before as_of
INCOME_DROP_TROUBLED = 0.5
INCOME_DROP = 0.2
SEVERE_DAYS = 90
ASSET_TRANSFER_LOAN = 0.3
ASSET_TRANSFER_CARD = 0.2

_DORMANCY_EXPLANATIONS = (
    "no credit need at present",
    "working away from home",
    "keeps the card for emergencies",
    "business closed for the season",
    "uses a family member's card",
)
_SERVICE_COMPLAINTS = (
    "service attitude",
    "fee dispute",
    "slow approval of a limit increase",
    "app outage on due date",
    "interest calculation",
)
_ASSET_TRANSFERS = (
    "property sold",
    "vehicle transferred",
    "equity transferred",
    "large deposit withdrawn",
)


@dataclass(frozen=True)
class ChurnFacts:
    """What the churn paths are drawn from (account indices: loans first, then cards)."""

    customers: pl.DataFrame
    loans: pl.DataFrame
    loan_owner: IntArray
    loan: LoanActivity
    card_owner: IntArray
    card: CardActivity
    last_paid: IntArray  # per account: value date of its latest payment, -1 if none


def add_churn_paths(rng: np.random.Generator, ev: EventParts, facts: ChurnFacts) -> None:
    """Add the events of the module docstring to `ev` (after all the others: same draws)."""
    n_loans = facts.loans.height
    opened = np.concatenate(
        [
            facts.loans["disbursement_date"].cast(pl.Int32).to_numpy().astype(np.int64),
            facts.card.cards["open_date"].cast(pl.Int32).to_numpy().astype(np.int64),
        ]
    )
    owner = np.concatenate([facts.loan_owner, facts.card_owner])
    closures = ev.frame("account_closed")
    transfers = ev.frame("transfer_out")

    # Service: a complaint about the account shortly before it was closed.
    rows = np.flatnonzero(rng.random(closures.height) < COMPLAINT_BEFORE_CLOSURE)
    account = closures["account"].to_numpy()[rows]
    day = closures["day"].to_numpy()[rows] - uniform_int(rng, 5, 90, len(rows))
    ev.add(
        "complaint",
        closures["customer"].to_numpy()[rows],
        np.maximum(day, opened[account]),
        _texts(rng, _SERVICE_COMPLAINTS, len(rows)),
        account=account,
    )

    _returns(rng, ev, closures, REAPPLY_AFTER_CLOSURE)
    _returns(rng, ev, transfers, RESUME_AFTER_TRANSFER)
    amount = np.concatenate(
        [facts.loans["principal"].to_numpy(), facts.card.cards["credit_limit"].to_numpy()]
    )
    _new_account_applications(rng, ev, closures, owner, opened, amount, n_loans)
    _explained_dormancy(rng, ev, facts, owner, opened)

    # Macro-economy: income drops concentrated in the stressed industries.
    n_cust = facts.customers.height
    troubled = np.zeros(n_cust, dtype=bool)
    troubled[facts.loan_owner[np.isin(facts.loan.behaviour, (CHRONIC, DEFAULTING))]] = True
    troubled[facts.card_owner[np.isin(facts.card.behaviour, (DEFAULTER, LATE_PAYER))]] = True
    stressed = facts.customers["industry"].is_in(STRESSED_INDUSTRIES).to_numpy()
    share = np.where(troubled, INCOME_DROP_TROUBLED, INCOME_DROP)
    who = np.flatnonzero(stressed & (rng.random(n_cust) < share))
    income = facts.customers["monthly_income"].to_numpy()[who]
    ev.add(
        "income_change",
        who,
        ev.as_of - rng.integers(0, 541, len(who)),
        pl.repeat("decrease", len(who), eager=True),
        amount=(np.round(income * rng.uniform(0.4, 0.8, len(who)) / 1_000) * 1_000).astype(
            np.int64
        ),
    )

    # Suspected malicious default: assets moved around a default that has lasted 90+ days.
    s_due = facts.loan.event_period_due
    severe_loans = (facts.loan.behaviour == DEFAULTING) & (s_due >= 0)
    severe_loans &= s_due <= ev.as_of - SEVERE_DAYS
    card_day = facts.card.event_date
    severe_cards = (facts.card.behaviour == DEFAULTER) & (card_day >= 0)
    severe_cards &= card_day <= ev.as_of - SEVERE_DAYS
    rows = np.concatenate(
        [
            np.flatnonzero(severe_loans & (rng.random(n_loans) < ASSET_TRANSFER_LOAN)),
            n_loans
            + np.flatnonzero(severe_cards & (rng.random(len(card_day)) < ASSET_TRANSFER_CARD)),
        ]
    )
    default_day = np.concatenate([s_due, card_day])[rows]
    day = np.maximum(default_day + uniform_int(rng, -30, 150, len(rows)), opened[rows])
    assets = facts.customers["total_assets"].to_numpy()[owner[rows]]
    ev.add(
        "asset_transfer",
        owner[rows],
        np.minimum(day, ev.as_of),
        _texts(rng, _ASSET_TRANSFERS, len(rows)),
        account=rows,
        amount=(np.round(assets * rng.uniform(0.2, 0.8, len(rows)) / 10_000) * 10_000).astype(
            np.int64
        ),
    )


def _returns(rng: np.random.Generator, ev: EventParts, after: pl.DataFrame, share: float) -> None:
    """An application by the customer of `share` of the events `after`, 1-24 months later."""
    rows = np.flatnonzero(rng.random(after.height) < share)
    k = len(rows)
    soon = rng.random(k) < RETURN_SOON
    lag = np.where(
        soon, uniform_int(rng, *_SOON_DAYS, size=k), uniform_int(rng, *_LATER_DAYS, size=k)
    )
    ev.add(
        "application",
        after["customer"].to_numpy()[rows],
        after["day"].to_numpy()[rows] + lag,
        _application_detail(rng, k),
        amount=rng.integers(10, 301, k) * 100_000,
    )


def _new_account_applications(
    rng: np.random.Generator,
    ev: EventParts,
    closures: pl.DataFrame,
    owner: IntArray,
    opened: IntArray,
    amount: IntArray,
    n_loans: int,
) -> None:
    """The application of each account opened after one of its owner's closures (loans
    disbursed in the last 90 days have theirs from `events`)."""
    accounts = pl.DataFrame(
        {
            "customer": pl.Series(owner, dtype=pl.Int64),
            "opened": pl.Series(opened, dtype=pl.Int64),
            "account": pl.Series(np.arange(len(owner)), dtype=pl.Int64),
        }
    ).sort("opened", "account")
    closed = closures.select("customer", pl.col("day").alias("closed")).sort("closed", "customer")
    later = (
        accounts.join_asof(
            closed,
            left_on="opened",
            right_on="closed",
            by="customer",
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # sorted by `opened` overall, so within each customer too
        )
        .drop_nulls("closed")
        .filter((pl.col("account") >= n_loans) | (pl.col("opened") < ev.as_of - 90))
        .sort("account")
    )
    account = later["account"].to_numpy()
    k = len(account)
    is_card = account >= n_loans
    day = later["opened"].to_numpy() - rng.integers(1, 15, k)
    ev.add(
        "application",
        later["customer"].to_numpy(),
        np.maximum(day, later["closed"].to_numpy() + 1),
        lookup(
            ("decision=approved", "product=credit_card; decision=approved"),
            is_card.astype(np.int64),
            "detail",
        ),
        account=account,
        amount=amount[account],
    )


def _explained_dormancy(
    rng: np.random.Generator,
    ev: EventParts,
    facts: ChurnFacts,
    owner: IntArray,
    opened: IntArray,
) -> None:
    """Explanations from customers whose latest credit transaction (payment, account opening,
    card purchase, application) is `DORMANT_DAYS` or more before as_of."""
    n_cust = facts.customers.height
    purchase = np.concatenate([np.full(facts.loans.height, -1), facts.card.last_purchase])
    last = np.full(n_cust, -1, dtype=np.int64)
    np.maximum.at(last, owner, np.maximum(np.maximum(opened, facts.last_paid), purchase))
    applied = ev.frame("application")
    np.maximum.at(last, applied["customer"].to_numpy(), applied["day"].to_numpy())
    quiet = last <= ev.as_of - DORMANT_DAYS
    who = np.flatnonzero(quiet & (rng.random(n_cust) < EXPLAIN_DORMANCY))
    low = np.maximum(last[who] + DORMANT_DAYS, ev.as_of - _EXPLAIN_WITHIN_DAYS)
    ev.add(
        "explanation",
        who,
        uniform_int(rng, low, np.full(len(who), ev.as_of)),
        _texts(rng, _DORMANCY_EXPLANATIONS, len(who)),
    )


def _application_detail(rng: np.random.Generator, n: int) -> pl.Series:
    decision = (rng.random(n) >= 0.85).astype(np.int64)  # mostly approved
    return pl.select(
        pl.concat_str(
            pl.lit("product="),
            pl.lit(_texts(rng, PRODUCTS, n)),
            pl.lit("; decision="),
            pl.lit(lookup(DECISIONS, decision, "d")),
        )
    ).to_series()


def _texts(rng: np.random.Generator, options: tuple[str, ...], n: int) -> pl.Series:
    return lookup(options, rng.integers(0, len(options), n), "detail")
