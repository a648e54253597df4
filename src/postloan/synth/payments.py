"""The payments file: loan and card repayments, reversals (bounced payments), stable ids.

About 0.5 % of payments are reversed: a reversal row (same amount, `reverses_payment_id` set)
dated 1-10 days after the payment, then a re-payment 0-5 days after the reversal — always,
except on defaulting accounts (three times in ten): a bounced loan payment never made good
would leave the loan one instalment behind for ever. Only payments of behaviours that are
allowed to be late can bounce.

Ids are "P" + a zero-padded counter in (value_date, account, kind) order — the order a daily
feed would deliver them — so a reversal always has a larger id than its target. (`order`
hands them out again with the first ones to plain payments; that keeps this true.)
"""

from __future__ import annotations

import numpy as np
import polars as pl

from postloan.synth.loan_payments import CHANNELS, TRANSFER, PaymentRows
from postloan.synth.util import IntArray, days_to_date, ids, lookup

REVERSAL_SHARE = 0.005
REPAY_WHEN_DEFAULTING = 0.3
PAYMENT_ID_WIDTH = 10


def assemble_payments(
    rng: np.random.Generator,
    parts: list[PaymentRows],
    account_ids: pl.Series,
    as_of: int,
) -> pl.DataFrame:
    """One payments frame (frames.PAYMENTS + channel) from rows whose `account` indexes
    `account_ids` (callers offset card indices past the loans)."""
    account = np.concatenate([p.account for p in parts])
    date = np.concatenate([p.value_date for p in parts])
    amount = np.concatenate([p.amount for p in parts])
    channel = np.concatenate([p.channel for p in parts])
    eligible = np.concatenate([p.reversible for p in parts])
    defaulting = np.concatenate([p.defaulting for p in parts])
    n = len(account)

    p = min(1.0, REVERSAL_SHARE * n / max(1, int(eligible.sum())))
    target = np.flatnonzero(eligible & (rng.random(n) < p))
    rev_date = date[target] + rng.integers(1, 11, len(target))
    repay = ~defaulting[target] | (rng.random(len(target)) < REPAY_WHEN_DEFAULTING)
    repay_date = rev_date + rng.integers(0, 6, len(target))
    rev_ok = rev_date <= as_of
    rep_ok = repay & rev_ok & (repay_date <= as_of)
    t_rev, t_rep = target[rev_ok], target[rep_ok]

    account = np.concatenate([account, account[t_rev], account[t_rep]])
    date = np.concatenate([date, rev_date[rev_ok], repay_date[rep_ok]])
    amount = np.concatenate([amount, amount[t_rev], amount[t_rep]])
    channel = np.concatenate([channel, channel[t_rev], np.full(len(t_rep), TRANSFER)])
    kind = np.concatenate(
        [np.zeros(n, np.int64), np.ones(len(t_rev), np.int64), np.full(len(t_rep), 2, np.int64)]
    )

    # Order by (value_date, account, kind), ties in generation order: one int64 key
    # (days since the first payment: 20 bits, account: 32 bits, kind: 2 bits), stable sort.
    key = (date - (date.min() if len(date) else 0)) << 34 | account << 2 | kind
    del kind
    order = (
        pl.DataFrame({"key": key})
        .with_row_index("row")
        .sort("key", maintain_order=True)["row"]
        .to_numpy()
        .astype(np.int64)
    )
    del key
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    payment_ids = ids("P", len(order), PAYMENT_ID_WIDTH)
    # Reversal rows sit after the n payments, in t_rev order: their sorted positions and the
    # sorted positions of their targets.
    reversal_pos = position[n : n + len(t_rev)]
    reverses_id = pl.repeat(None, len(order), dtype=pl.String, eager=True).scatter(
        reversal_pos, payment_ids.gather(position[t_rev])
    )
    del position
    reverses_id = reverses_id.alias("reverses_payment_id")
    return pl.DataFrame(
        {
            "payment_id": payment_ids,
            "account_id": account_ids.gather(account[order]),
            "value_date": days_to_date(date[order], "value_date"),
            "amount": pl.Series(amount[order], dtype=pl.Int64),
            "channel": lookup(CHANNELS, channel[order], "channel"),
            "reverses_payment_id": reverses_id,
        }
    )


def last_payment(parts: list[PaymentRows], accounts: int) -> IntArray:
    """Per account: the value date of its latest planned payment (reversals and re-payments
    left out), -1 when it has none."""
    last = np.full(accounts, -1, dtype=np.int64)
    for p in parts:
        np.maximum.at(last, p.account, p.value_date)
    return last


def offset_rows(rows: PaymentRows, offset: int) -> PaymentRows:
    """The same rows with account indices shifted (cards numbered after the loans)."""
    shifted: IntArray = rows.account + offset
    return PaymentRows(
        shifted, rows.value_date, rows.amount, rows.channel, rows.reversible, rows.defaulting
    )
