"""`generate(accounts, seed, as_of)`: a whole synthetic portfolio, deterministic by its arguments.

Order of work (and of random draws, which is what makes a seed reproducible): customers,
the split of accounts into loans and cards and their owners, loans and their schedules,
behaviours, loan repayments, cards with statements and repayments, reversals and payment ids,
events, then the churn paths' events (`churn`: drawn last, so the rest is what the same seed
gave before them); last, ids are handed out plain records first (`order.quiet_head`: rare
events never in the first rows a reader sees, spread over the rest). Frames are in engine
units (cents, rates in 1e-8, `pl.Date`) with `account_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import polars as pl

from postloan.engine.frames import CARDS, INSTALMENTS, LOANS, PAYMENTS, Portfolio, conform
from postloan.ledger import generate_instalments
from postloan.synth.behaviour import (
    CARD_BEHAVIOURS,
    CARD_NAMES,
    LOAN_BEHAVIOURS,
    LOAN_NAMES,
    assign,
)
from postloan.synth.cards import make_cards
from postloan.synth.churn import ChurnFacts, add_churn_paths
from postloan.synth.customers import make_customers
from postloan.synth.events import make_events
from postloan.synth.loan_payments import loan_payments
from postloan.synth.loans import make_loans
from postloan.synth.order import quiet_head
from postloan.synth.payments import assemble_payments, last_payment, offset_rows
from postloan.synth.risk import add_warning_paths
from postloan.synth.util import epoch_days, lookup, widen

LOAN_SHARE = 0.70
ACCOUNTS_PER_CUSTOMER = 1.4


@dataclass(frozen=True)
class SyntheticPortfolio:
    """A generated portfolio. Frames use engine units; `loans`/`cards` keep their attributes
    and the (unpublished) `behaviour` label, which the contract files leave out."""

    as_of: date
    seed: int
    customers: pl.DataFrame
    loans: pl.DataFrame
    instalments: pl.DataFrame  # effective schedules: generated, early payoffs revised
    schedule_overrides: pl.DataFrame  # the revised schedules alone (the `schedules` file)
    cards: pl.DataFrame
    statements: pl.DataFrame
    payments: pl.DataFrame  # frames.PAYMENTS + channel
    events: pl.DataFrame
    portfolio: Portfolio


def generate(
    accounts: int,
    seed: int,
    as_of: date,
    customers: int | None = None,
    loan_share: float = LOAN_SHARE,
) -> SyntheticPortfolio:
    """Exactly `accounts` accounts (`loan_share` loans, 70 % unless told, the rest cards),
    `customers` customers (about accounts / 1.4 unless told; at most `accounts`, each owns
    one), everything dated on or before `as_of`."""
    if accounts < 1:
        raise ValueError("accounts must be >= 1")
    if customers is not None and not 1 <= customers <= accounts:
        raise ValueError("customers must be between 1 and accounts")
    if not 0 <= loan_share <= 1:
        raise ValueError("loan_share must be between 0 and 1")
    rng = np.random.default_rng(seed)
    today = epoch_days(as_of)

    n_customers = customers or max(1, round(accounts / ACCOUNTS_PER_CUSTOMER))
    people = make_customers(rng, n_customers, today)
    # Every customer has at least one account; the rest go to random customers.
    owner = np.concatenate(
        [np.arange(n_customers), rng.integers(0, n_customers, accounts - n_customers)]
    )
    owner = rng.permutation(owner)
    n_loans = round(accounts * loan_share)
    loan_owner, card_owner = owner[:n_loans], owner[n_loans:]
    customer_ids = people.frame["customer_id"]

    loans = make_loans(rng, loan_owner, customer_ids, people.branch, today)
    generated = generate_instalments(loans)
    loan_behaviour = assign(rng, LOAN_BEHAVIOURS, people.risk[loan_owner])
    loan_rows, loan = loan_payments(rng, loans, generated, loan_behaviour, today)
    instalments = loan.instalments  # == override_instalments(generated, loan.overrides)
    del generated

    card_behaviour = assign(rng, CARD_BEHAVIOURS, people.risk[card_owner])
    card_rows, card = make_cards(
        rng, card_owner, customer_ids, people.income, card_behaviour, today
    )

    account_ids = pl.concat([loans["account_id"], card.cards["account_id"]])
    rows = [loan_rows, offset_rows(card_rows, n_loans)]
    payments = assemble_payments(rng, rows, account_ids, today)
    last_paid = last_payment(rows, accounts)
    del loan_rows, card_rows, rows
    event_parts = make_events(rng, people.frame, loans, loan_owner, loan, card_owner, card, today)
    add_churn_paths(
        rng,
        event_parts,
        ChurnFacts(people.frame, loans, loan_owner, loan, card_owner, card, last_paid),
    )
    # Recent warning signs (complaints, lawsuits, asset transfers): drawn last of all.
    add_warning_paths(rng, event_parts, np.concatenate([loan_owner, card_owner]))
    events = event_parts.finish(customer_ids, account_ids)
    del event_parts

    numbered_as_generated = SyntheticPortfolio(
        as_of=as_of,
        seed=seed,
        customers=people.frame,
        loans=loans.with_columns(lookup(LOAN_NAMES, loan.behaviour, "behaviour")),
        instalments=instalments,
        schedule_overrides=loan.overrides,
        cards=card.cards.with_columns(lookup(CARD_NAMES, card.behaviour, "behaviour")),
        statements=card.statements,
        payments=payments,
        events=events,
        portfolio=Portfolio(),
    )
    sp = quiet_head(numbered_as_generated)
    return replace(
        sp,
        portfolio=Portfolio(
            loans=conform(sp.loans, widen(LOANS)),
            instalments=conform(sp.instalments, widen(INSTALMENTS)),
            cards=conform(sp.cards, widen(CARDS)),
            statements=sp.statements,
            payments=conform(sp.payments, widen(PAYMENTS)),
        ),
    )
