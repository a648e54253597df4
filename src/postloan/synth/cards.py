"""Credit cards: limits and dates, monthly statements and repayments, one loop over months.

Each card has a fixed statement day (1-28) and a due date 20-25 days after each statement. The
loop walks calendar months and updates every card open in that month at once:

    balance_t = (balance_{t-1} − payments credited in the cycle) + interest + purchases_t

where interest is 1.5 % of a positive carried balance (about the PRC 0.05 %/day), purchases are
capped by the free credit limit and a payment dated after the next statement date is credited
one cycle later. minimum_due = min(balance, max(10 % of balance, 100.00)), 0 when balance is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from postloan.synth.behaviour import (
    CARD_REVERSIBLE,
    CLOSER,
    DEFAULTER,
    DORMANT,
    LATE_PAYER,
    REVOLVER,
    TRANSACTOR,
)
from postloan.synth.loan_payments import AUTO_DEBIT, COUNTER, TRANSFER, PaymentRows
from postloan.synth.util import BoolArray, IntArray, days_to_date, ids, month_index, month_start

CARD_ID_WIDTH = 8
OPEN_WINDOW_DAYS = 5 * 365
MONTHLY_INTEREST = 0.015
MINIMUM_FLOOR = 10_000  # 100.00
MINIMUM_SHARE = 10  # minimum = balance / 10


@dataclass(frozen=True)
class CardActivity:
    cards: pl.DataFrame  # frames.CARDS (+ behaviour added by the caller)
    statements: pl.DataFrame  # frames.STATEMENTS, sorted by account_id, statement_date
    behaviour: IntArray  # after fallbacks
    event_date: IntArray  # defaulter: first unpaid due date; closer: close date; else -1
    event_amount: IntArray  # defaulter: balance at default; else 0
    last_purchase: IntArray  # statement date of the card's latest statement with purchases; -1


def make_cards(
    rng: np.random.Generator,
    owner: IntArray,
    customer_ids: pl.Series,
    income: IntArray,
    behaviour: IntArray,
    as_of: int,
) -> tuple[PaymentRows, CardActivity]:
    """Cards, their statements and their payments (`account` = card index, 0-based)."""
    n = len(owner)
    behaviour = behaviour.copy()
    limit_yuan = np.exp(rng.normal(np.log(income[owner] / 100 * 2.5), 0.5)).clip(3_000, 300_000)
    limit = (np.round(limit_yuan / 1_000) * 100_000).astype(np.int64)
    opened = as_of - rng.integers(20, OPEN_WINDOW_DAYS + 1, n)
    stmt_day = rng.integers(1, 29, n)
    grace = rng.integers(20, 26, n)
    channel = np.where(rng.random(n) < 0.75, AUTO_DEBIT, TRANSFER)

    # Statement months of each card: first = first statement after opening, last <= as_of.
    open_month = month_index(opened)
    first = np.where(month_start(open_month) + stmt_day - 1 > opened, open_month, open_month + 1)
    as_of_month = int(month_index(np.array([as_of]))[0])
    last_day_in_month = month_start(np.full(n, as_of_month)) + stmt_day - 1
    last = np.where(last_day_in_month <= as_of, as_of_month, as_of_month - 1)
    count = last - first + 1  # >= 0 statements

    # Behaviours that need history fall back: closers and defaulters need 4 statements.
    behaviour[(behaviour == CLOSER) & (count < 4)] = TRANSACTOR
    behaviour[(behaviour == DEFAULTER) & (count < 4)] = REVOLVER
    close_month = np.where(
        behaviour == CLOSER, first + 3 + np.floor(rng.random(n) * (count - 3)).astype(np.int64), -1
    )
    default_month = np.where(
        behaviour == DEFAULTER,
        # the first unpaid statement is due before as_of (it is never the last statement)
        np.maximum(first + 2, last - 1 - np.floor(rng.random(n) * 24).astype(np.int64)),
        -1,
    )
    end = np.where(behaviour == CLOSER, close_month, last)
    spend = limit * np.exp(rng.normal(np.log(0.12), 0.6, n))  # typical monthly spend, cents

    balance = np.zeros(n, dtype=np.int64)
    credit_next = np.zeros(n, dtype=np.int64)  # payments credited at the next statement
    credit_later = np.zeros(n, dtype=np.int64)  # ... at the one after
    default_day = np.full(n, -1, dtype=np.int64)
    default_balance = np.zeros(n, dtype=np.int64)
    last_purchase = np.full(n, -1, dtype=np.int64)
    stmts: list[tuple[IntArray, ...]] = []
    pays: list[tuple[IntArray, ...]] = []
    for month in range(int(first.min()) if n else 0, as_of_month + 1):
        idx = np.flatnonzero((first <= month) & (month <= end))
        if len(idx) == 0:
            continue
        k = len(idx)
        b = behaviour[idx]
        stmt = month_start(np.full(k, month)) + stmt_day[idx] - 1
        due = stmt + grace[idx]
        next_stmt = month_start(np.full(k, month + 1)) + stmt_day[idx] - 1

        carried = balance[idx] - credit_next[idx]
        credit_next[idx] = credit_later[idx]
        credit_later[idx] = 0
        interest = np.where(carried > 0, np.round(carried * MONTHLY_INTEREST), 0).astype(np.int64)
        carried = np.maximum(carried, 0) + interest
        defaulted = (b == DEFAULTER) & (month >= default_month[idx])
        closing = (b == CLOSER) & (month >= close_month[idx] - 1)
        # A month without purchases now and then; never for a defaulter-to-be, whose balance
        # must be positive when it stops paying.
        idle = (rng.random(k) < 0.12) & (b != DEFAULTER)
        active = (b != DORMANT) & ~defaulted & ~closing & ~idle
        cents = np.round(spend[idx] * np.exp(rng.normal(0, 0.5, k))).astype(np.int64)
        purchases = np.where(active, np.minimum(cents, np.maximum(limit[idx] - carried, 0)), 0)
        bal = carried + purchases
        minimum = np.minimum(bal, np.maximum(bal // MINIMUM_SHARE, MINIMUM_FLOOR))
        stmts.append((idx, stmt, due, bal, minimum, purchases))
        bought = purchases > 0
        last_purchase[idx[bought]] = stmt[bought]

        first_default = defaulted & (month == default_month[idx])
        default_day[idx[first_default]] = due[first_default]
        default_balance[idx[first_default]] = bal[first_default]

        amount, date, chan = _card_payment(rng, b, bal, minimum, stmt, due, defaulted)
        amount = np.where(bal > 0, amount, 0)
        chan = np.where(chan < 0, channel[idx], chan)
        paid = amount > 0
        on_time_credit = paid & (date <= next_stmt)
        credit_next[idx] += np.where(on_time_credit, amount, 0)
        credit_later[idx] += np.where(paid & ~on_time_credit, amount, 0)
        pays.append((idx[paid], date[paid], amount[paid], chan[paid]))
        balance[idx] = bal

    close_day = np.where(
        behaviour == CLOSER,
        month_start(np.maximum(close_month, 0)) + stmt_day - 1 + rng.integers(1, 21, n),
        -1,
    )
    close_day = np.where((behaviour == CLOSER) & (close_day > as_of), as_of, close_day)
    cards = pl.DataFrame(
        {
            "account_id": ids("C", n, CARD_ID_WIDTH),
            "customer_id": customer_ids.gather(owner),
            "credit_limit": pl.Series(limit, dtype=pl.Int64),
            "open_date": days_to_date(opened, "open_date"),
            "close_date": days_to_date(np.maximum(close_day, 0), "close_date"),
            "closed": behaviour == CLOSER,
        }
    ).with_columns(pl.when(pl.col("closed")).then(pl.col("close_date")).alias("close_date"))
    statements = _statement_frame(cards["account_id"], stmts)
    payments = _payment_rows(pays, behaviour, as_of)
    return payments, CardActivity(
        cards=cards.drop("closed"),
        statements=statements,
        behaviour=behaviour,
        event_date=np.where(behaviour == CLOSER, close_day, default_day),
        event_amount=default_balance,
        last_purchase=last_purchase,
    )


def _card_payment(
    rng: np.random.Generator,
    b: IntArray,
    bal: IntArray,
    minimum: IntArray,
    stmt: IntArray,
    due: IntArray,
    defaulted: BoolArray,
) -> tuple[IntArray, IntArray, IntArray]:
    """(amount, value date, channel or -1 = the card's usual one) of a statement's payment."""
    k = len(b)
    full = (b == TRANSACTOR) | (b == CLOSER)
    revolving = (b == REVOLVER) | (b == LATE_PAYER) | (b == DEFAULTER)
    extra = np.floor((bal - minimum) * rng.random(k) ** 2 * 0.5).astype(np.int64)
    pays_full = (rng.random(k) < 0.12) & (b != DEFAULTER)
    revolver_amount = np.where(pays_full, bal, minimum + extra)
    amount = np.where(full, bal, np.where(revolving, revolver_amount, 0))
    early = rng.integers(0, 11, k)
    date = np.where(full, np.maximum(due - early, stmt + 1), due - early % 6)
    late = (b == LATE_PAYER) & (rng.random(k) < 0.4)
    date = np.where(late, due + rng.integers(5, 31, k), date)
    chan = np.full(k, -1, dtype=np.int64)
    # A defaulted card pays nothing, except now and then a fraction of the minimum at the counter.
    partial = defaulted & (rng.random(k) < 0.15)
    amount = np.where(
        defaulted,
        np.where(partial, np.floor(minimum * (0.1 + 0.4 * rng.random(k))).astype(np.int64), 0),
        amount,
    )
    date = np.where(defaulted, due + rng.integers(0, 26, k), date)
    chan = np.where(defaulted, COUNTER, np.where(late, TRANSFER, chan))
    return amount, date, chan


def _statement_frame(card_ids: pl.Series, stmts: list[tuple[IntArray, ...]]) -> pl.DataFrame:
    cols = [
        np.concatenate([s[i] for s in stmts]) if stmts else np.zeros(0, np.int64) for i in range(6)
    ]
    idx, stmt, due, bal, minimum, purchases = cols
    frame = pl.DataFrame(
        {
            "card": pl.Series(idx, dtype=pl.Int64),
            "statement_date": days_to_date(stmt, "statement_date"),
            "due_date": days_to_date(due, "due_date"),
            "statement_balance": pl.Series(bal, dtype=pl.Int64),
            "minimum_due": pl.Series(minimum, dtype=pl.Int64),
            "purchases": pl.Series(purchases, dtype=pl.Int64),
        }
    ).sort(["card", "statement_date"])
    return frame.select(card_ids.gather(frame["card"]).alias("account_id"), pl.exclude("card"))


def _payment_rows(pays: list[tuple[IntArray, ...]], behaviour: IntArray, as_of: int) -> PaymentRows:
    cols = [
        np.concatenate([p[i] for p in pays]) if pays else np.zeros(0, np.int64) for i in range(4)
    ]
    card, date, amount, chan = cols
    keep = date <= as_of
    return PaymentRows(
        account=card[keep],
        value_date=date[keep],
        amount=amount[keep],
        channel=chan[keep],
        reversible=np.isin(behaviour[card[keep]], CARD_REVERSIBLE),
        defaulting=behaviour[card[keep]] == DEFAULTER,
    )
