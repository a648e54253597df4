"""Repayments of instalment loans, one behaviour per loan, vectorised over all instalments.

Every instalment row gets at most one planned payment (date, amount, channel); behaviours
change dates, amounts or drop payments. Only instalments due by as_of + a few days can produce
a payment dated on or before as_of, so only those rows are worked on.

Early payoff: the borrower pays the remaining principal plus the current period's interest and
the lender closes the loan, so its schedule is revised — periods before the payoff unchanged,
the payoff period carrying all remaining principal, later periods gone. The revised schedules
are returned as `overrides` (the contract's `schedules` file), otherwise the contract would keep
the future interest owed and the paid-off loan would fall overdue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from postloan.synth.behaviour import (
    CHRONIC,
    CURING,
    DEFAULTING,
    EARLY_PAYOFF,
    LOAN_REVERSIBLE,
    OCCASIONAL,
    ON_TIME,
    OVER_PAYER,
)
from postloan.synth.util import BoolArray, IntArray, uniform_int

CHANNELS = ("auto_debit", "transfer", "counter")
AUTO_DEBIT, TRANSFER, COUNTER = range(3)
_EARLY_DAYS = 3  # on-time payers pay on the due date or up to this many days before


@dataclass(frozen=True)
class PaymentRows:
    """Planned payments (before reversals and ids), one entry per payment."""

    account: IntArray  # account index (loans first, then cards, in the caller's numbering)
    value_date: IntArray  # epoch days
    amount: IntArray  # cents
    channel: IntArray  # index into CHANNELS
    reversible: BoolArray  # may be picked for a reversal


@dataclass(frozen=True)
class LoanActivity:
    payments: PaymentRows
    instalments: pl.DataFrame  # effective schedules: generated, with early payoffs revised
    overrides: pl.DataFrame  # the revised schedules (frames.INSTALMENTS) of early payoffs
    behaviour: IntArray  # after fallbacks (a loan too young for its behaviour pays on time)
    event_period_due: IntArray  # due date of period s (miss, default or payoff), -1 if none
    event_date: IntArray  # curing: catch-up date; early payoff: payoff date; -1 if none
    event_amount: IntArray  # curing lump / payoff lump / principal left at default; 0 if none


def loan_payments(
    rng: np.random.Generator,
    loans: pl.DataFrame,
    instalments: pl.DataFrame,
    behaviour: IntArray,
    as_of: int,
) -> LoanActivity:
    n_loans = loans.height
    term = loans["term_months"].to_numpy().astype(np.int64)
    disbursed = loans["disbursement_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    if instalments.height != int(term.sum()):
        raise ValueError("instalments must be the generated schedules of `loans`, in loan order")
    start = np.cumsum(term) - term
    due_all = instalments["due_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    principal_all = instalments["principal_due"].to_numpy().astype(np.int64)
    interest_all = instalments["interest_due"].to_numpy().astype(np.int64)
    acc_all = np.repeat(np.arange(n_loans), term)
    # elapsed = instalments already overdue if unpaid (due before as_of): the periods a behaviour
    # can act on and still show by as_of.
    elapsed = np.bincount(acc_all, weights=due_all < as_of, minlength=n_loans).astype(np.int64)
    # Rows whose payment can be dated <= as_of: a prefix of each loan's schedule.
    window = due_all <= as_of + _EARLY_DAYS
    prefix_len = np.bincount(acc_all, weights=window, minlength=n_loans).astype(np.int64)
    del acc_all

    behaviour = _fallback(behaviour.copy(), elapsed, term)
    s, m = _special_periods(rng, behaviour, elapsed, term)

    # Cumulative sums (with a leading 0) give any run of instalments' total in O(1).
    cum_amount = np.concatenate([[0], np.cumsum(principal_all + interest_all)])
    cum_principal = np.concatenate([[0], np.cumsum(principal_all)])
    row_s = start + np.maximum(s, 1) - 1  # row of period s (period 1 where s is unused)

    is_curing = behaviour == CURING
    is_payoff = behaviour == EARLY_PAYOFF
    is_default = behaviour == DEFAULTING
    cure_row = row_s + m
    cure_lump = np.where(is_curing, cum_amount[cure_row + 1] - cum_amount[row_s], 0)
    payoff_lump = np.where(
        is_payoff, cum_principal[start + term] - cum_principal[row_s] + interest_all[row_s], 0
    )
    left_at_default = np.where(is_default, cum_principal[start + term] - cum_principal[row_s], 0)
    payoff_date = np.maximum(
        due_all[np.maximum(row_s - 1, 0)] + 1, due_all[row_s] - rng.integers(1, 21, n_loans)
    )
    payoff_date = np.maximum(payoff_date, disbursed)
    cure_date = due_all[np.minimum(cure_row, len(due_all) - 1)] + rng.integers(-3, 11, n_loans)

    rows = np.flatnonzero(window)
    del window
    due = due_all[rows]
    amount = principal_all[rows] + interest_all[rows]
    acc = np.repeat(np.arange(n_loans), prefix_len)
    period = rows - start[acc] + 1
    b = behaviour[acc]
    sk = s[acc]
    n = len(rows)

    date = due - rng.integers(0, _EARLY_DAYS + 1, n)
    present = np.ones(n, dtype=bool)
    channel = _loan_channels(rng, n_loans)[acc]
    r = rng.random(n)

    late = ((b == OCCASIONAL) & (r < 0.12)) | ((b == DEFAULTING) & (period < sk) & (r < 0.10))
    date = np.where(late, due + uniform_int(rng, 1, 20, n), date)
    chronic = (b == CHRONIC) & (r < 0.75)
    date = np.where(chronic, due + uniform_int(rng, 5, 45, n), date)

    round_up = (b == OVER_PAYER) & (r < 0.4)
    amount = np.where(round_up, (amount // 10_000 + 1) * 10_000, amount)

    # curing: periods s .. s+m-1 unpaid, period s+m pays all of s .. s+m.
    cur = b == CURING
    present &= ~(cur & (period >= sk) & (period < sk + m[acc]))
    lump = cur & (period == sk + m[acc])
    amount = np.where(lump, cure_lump[acc], amount)
    date = np.where(lump, cure_date[acc], date)
    channel = np.where(lump, TRANSFER, channel)

    # defaulting: from period s, only occasional partial payments.
    dflt = (b == DEFAULTING) & (period >= sk)
    partial = np.maximum(1, np.floor(amount * (0.1 + 0.4 * rng.random(n))).astype(np.int64))
    amount = np.where(dflt, partial, amount)
    date = np.where(dflt, due + rng.integers(0, 26, n), date)
    present &= ~dflt | (rng.random(n) < 0.2)
    channel = np.where(dflt, COUNTER, channel)

    # early payoff: period s is the payoff lump, nothing after.
    pay = b == EARLY_PAYOFF
    present &= ~(pay & (period > sk))
    lump = pay & (period == sk)
    amount = np.where(lump, payoff_lump[acc], amount)
    date = np.where(lump, payoff_date[acc], date)
    channel = np.where(lump, TRANSFER, channel)

    date = np.maximum(date, disbursed[acc])
    keep = present & (date <= as_of) & (amount > 0)
    reversible = np.isin(b, LOAN_REVERSIBLE) & ~lump
    payments = PaymentRows(
        account=acc[keep],
        value_date=date[keep],
        amount=amount[keep],
        channel=channel[keep],
        reversible=reversible[keep],
    )
    effective, overrides = _payoff_schedules(instalments, term, s, is_payoff, row_s, payoff_lump)
    s_due = np.where(s > 0, due_all[row_s], -1)
    return LoanActivity(
        payments=payments,
        instalments=effective,
        overrides=overrides,
        behaviour=behaviour,
        event_period_due=s_due,
        event_date=np.where(is_curing, cure_date, np.where(is_payoff, payoff_date, -1)),
        event_amount=cure_lump + payoff_lump + left_at_default,
    )


def _fallback(behaviour: IntArray, elapsed: IntArray, term: IntArray) -> IntArray:
    """Behaviours that need history fall back to on_time on loans too young (or too short)."""
    behaviour[(behaviour == CURING) & (elapsed < 2)] = ON_TIME
    behaviour[(behaviour == DEFAULTING) & (elapsed < 1)] = ON_TIME
    behaviour[(behaviour == EARLY_PAYOFF) & (np.minimum(elapsed, term - 1) < 2)] = ON_TIME
    return behaviour


def _special_periods(
    rng: np.random.Generator, behaviour: IntArray, elapsed: IntArray, term: IntArray
) -> tuple[IntArray, IntArray]:
    """Per loan: s (first missed / default / payoff period, 1-based; 0 if none), m (missed)."""
    n = len(behaviour)
    s = np.zeros(n, dtype=np.int64)
    m = np.zeros(n, dtype=np.int64)
    cur = behaviour == CURING
    m_cur = np.minimum(uniform_int(rng, 1, 3, n), np.maximum(elapsed - 1, 1))
    m[cur] = m_cur[cur]
    s_cur = uniform_int(rng, 1, np.maximum(elapsed - m, 1))
    s[cur] = s_cur[cur]
    dflt = behaviour == DEFAULTING
    s_def = uniform_int(rng, np.maximum(elapsed - 24, 1), np.maximum(elapsed, 1))
    s[dflt] = s_def[dflt]
    pay = behaviour == EARLY_PAYOFF
    s_pay = uniform_int(rng, 2, np.maximum(np.minimum(elapsed, term - 1), 2))
    s[pay] = s_pay[pay]
    return s, m


def _loan_channels(rng: np.random.Generator, n: int) -> IntArray:
    """Each loan's usual channel: mostly auto-debit."""
    r = rng.random(n)
    out: IntArray = np.where(r < 0.68, AUTO_DEBIT, np.where(r < 0.92, TRANSFER, COUNTER))
    return out


def _payoff_schedules(
    instalments: pl.DataFrame,
    term: IntArray,
    s: IntArray,
    is_payoff: BoolArray,
    row_s: IntArray,
    payoff_lump: IntArray,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(effective schedules, revised schedules alone) after the early payoffs.

    A paid-off loan keeps periods 1 .. s-1; period s carries all remaining principal (plus its
    own interest); later periods are gone. Masking keeps the generated order (account_id,
    period), so the result equals `ledger.override_instalments(generated, revised)`.
    """
    loan = np.repeat(np.arange(len(term)), term)
    period = np.arange(len(loan)) - (np.cumsum(term) - term)[loan] + 1
    payoff_row = is_payoff[loan]
    keep = ~payoff_row | (period <= s[loan])
    principal = instalments["principal_due"].to_numpy().copy()
    rows = row_s[is_payoff]
    principal[rows] = payoff_lump[is_payoff] - instalments["interest_due"].to_numpy()[rows]
    effective = instalments.with_columns(pl.Series("principal_due", principal, dtype=pl.Int64))
    effective = effective.filter(pl.Series(keep))
    overrides = effective.filter(pl.Series(payoff_row[keep]))
    return effective, overrides
