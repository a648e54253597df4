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
import numpy.typing as npt
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
    defaulting: BoolArray  # the account is defaulting: a bounced payment is seldom made good


@dataclass(frozen=True)
class LoanActivity:
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
) -> tuple[PaymentRows, LoanActivity]:
    """Payments of every loan, given the generated schedules (`instalments`, in loan order)."""
    n_loans = loans.height
    term = loans["term_months"].to_numpy().astype(np.int64)
    disbursed = loans["disbursement_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    if instalments.height != int(term.sum()):
        raise ValueError("instalments must be the generated schedules of `loans`, in loan order")
    start = np.cumsum(term) - term
    due_all = instalments["due_date"].cast(pl.Int32).to_numpy()
    principal_all = instalments["principal_due"].to_numpy()
    interest_all = instalments["interest_due"].to_numpy()
    loan_all = np.repeat(np.arange(n_loans, dtype=np.int32), term)
    # elapsed = instalments already overdue if unpaid (due before as_of): the periods a behaviour
    # can act on and still show by as_of.
    elapsed = np.bincount(loan_all, weights=due_all < as_of, minlength=n_loans).astype(np.int64)
    # Rows whose payment can be dated <= as_of: a prefix of each loan's schedule.
    window = due_all <= as_of + _EARLY_DAYS
    prefix_len = np.bincount(loan_all, weights=window, minlength=n_loans).astype(np.int64)
    del loan_all

    behaviour = _fallback(behaviour.copy(), elapsed, term)
    s, m = _special_periods(rng, behaviour, elapsed, term)
    row_s = start + np.maximum(s, 1) - 1  # row of period s (period 1 where s is unused)
    cure_row = row_s + m
    is_curing = behaviour == CURING
    is_payoff = behaviour == EARLY_PAYOFF
    is_default = behaviour == DEFAULTING

    # Cumulative sums (with a leading 0) give any run of instalments' total in O(1).
    cum = np.concatenate([[0], np.cumsum(principal_all)])
    remaining = cum[start + term] - cum[row_s]  # principal of periods s .. n
    payoff_lump = np.where(is_payoff, remaining + interest_all[row_s], 0)
    left_at_default = np.where(is_default, remaining, 0)
    cum += np.concatenate([[0], np.cumsum(interest_all)])
    cure_lump = np.where(is_curing, cum[cure_row + 1] - cum[row_s], 0)
    del cum, remaining
    payoff_date = np.maximum(
        due_all[np.maximum(row_s - 1, 0)] + 1, due_all[row_s] - rng.integers(1, 21, n_loans)
    ).astype(np.int64)
    payoff_date = np.maximum(payoff_date, disbursed)
    cure_date = due_all[np.minimum(cure_row, len(due_all) - 1)] + rng.integers(-3, 11, n_loans)
    s_due = np.where(s > 0, due_all[row_s], -1).astype(np.int64)

    rows = np.flatnonzero(window)
    del window
    due = due_all[rows]
    amount = principal_all[rows] + interest_all[rows]
    del rows
    payments = _window_payments(
        rng,
        _Plan(
            due=due,
            amount=amount,
            loan=np.repeat(np.arange(n_loans, dtype=np.int32), prefix_len),
            behaviour=behaviour,
            s=s,
            m=m,
            disbursed=disbursed,
            cure_lump=cure_lump,
            cure_date=cure_date,
            payoff_lump=payoff_lump,
            payoff_date=payoff_date,
        ),
        as_of,
    )
    del due, amount
    effective, overrides = _payoff_schedules(instalments, term, s, is_payoff, row_s, payoff_lump)
    return payments, LoanActivity(
        instalments=effective,
        overrides=overrides,
        behaviour=behaviour,
        event_period_due=s_due,
        event_date=np.where(is_curing, cure_date, np.where(is_payoff, payoff_date, -1)),
        event_amount=cure_lump + payoff_lump + left_at_default,
    )


@dataclass(frozen=True)
class _Plan:
    """The instalments a payment can come from (due by as_of + a few days), and per-loan facts."""

    due: npt.NDArray[np.int32]  # per row: due date
    amount: IntArray  # per row: principal + interest due
    loan: npt.NDArray[np.int32]  # per row: loan index
    behaviour: IntArray  # per loan from here on
    s: IntArray
    m: IntArray
    disbursed: IntArray
    cure_lump: IntArray
    cure_date: IntArray
    payoff_lump: IntArray
    payoff_date: IntArray


def _window_payments(rng: np.random.Generator, plan: _Plan, as_of: int) -> PaymentRows:
    """One planned payment per instalment row, shaped by the loan's behaviour."""
    loan, due = plan.loan, plan.due
    n = len(loan)
    first_row = np.cumsum(np.bincount(loan, minlength=len(plan.s))) - np.bincount(
        loan, minlength=len(plan.s)
    )
    period = (np.arange(n, dtype=np.int32) - first_row[loan] + 1).astype(np.int32)
    b = plan.behaviour[loan].astype(np.int8)
    sk = plan.s[loan].astype(np.int32)
    amount = plan.amount

    date = due - rng.integers(0, _EARLY_DAYS + 1, n, dtype=np.int32)
    channel = _loan_channels(rng, len(plan.s))[loan]
    r = rng.random(n, dtype=np.float32)

    late = ((b == OCCASIONAL) & (r < 0.12)) | ((b == DEFAULTING) & (period < sk) & (r < 0.10))
    np.copyto(date, due + rng.integers(1, 21, n, dtype=np.int32), where=late)
    chronic = (b == CHRONIC) & (r < 0.75)
    np.copyto(date, due + rng.integers(5, 46, n, dtype=np.int32), where=chronic)
    del late, chronic
    round_up = (b == OVER_PAYER) & (r < 0.4)
    amount = np.where(round_up, (amount // 10_000 + 1) * 10_000, amount)
    del round_up, r

    # curing: periods s .. s+m-1 unpaid, period s+m pays all of s .. s+m.
    cur = b == CURING
    mk = plan.m[loan].astype(np.int32)
    present = ~(cur & (period >= sk) & (period < sk + mk))
    lump = cur & (period == sk + mk)
    del cur, mk
    np.copyto(amount, plan.cure_lump[loan], where=lump)
    np.copyto(date, plan.cure_date[loan].astype(np.int32), where=lump)
    channel[lump] = TRANSFER

    # defaulting: from period s, only occasional partial payments.
    dflt = (b == DEFAULTING) & (period >= sk)
    share = 0.1 + 0.4 * rng.random(n, dtype=np.float32)
    partial = np.maximum(1, np.floor(amount * share).astype(np.int64))
    del share
    np.copyto(amount, partial, where=dflt)
    del partial
    np.copyto(date, due + rng.integers(0, 26, n, dtype=np.int32), where=dflt)
    present &= ~dflt | (rng.random(n, dtype=np.float32) < 0.2)
    channel[dflt] = COUNTER
    del dflt

    # early payoff: period s is the payoff lump, nothing after.
    pay = b == EARLY_PAYOFF
    present &= ~(pay & (period > sk))
    payoff = pay & (period == sk)
    del pay, period, sk
    np.copyto(amount, plan.payoff_lump[loan], where=payoff)
    np.copyto(date, plan.payoff_date[loan].astype(np.int32), where=payoff)
    channel[payoff] = TRANSFER

    np.maximum(date, plan.disbursed[loan].astype(np.int32), out=date)
    keep = present & (date <= as_of) & (amount > 0)
    reversible = np.isin(b, LOAN_REVERSIBLE) & ~payoff
    return PaymentRows(
        account=loan[keep].astype(np.int64),
        value_date=date[keep].astype(np.int64),
        amount=amount[keep],
        channel=channel[keep].astype(np.int64),
        reversible=reversible[keep],
        defaulting=(b == DEFAULTING)[keep],
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
    loan = np.repeat(np.arange(len(term), dtype=np.int32), term)
    payoff_row = is_payoff[loan]
    # keep periods 1 .. s of a paid-off loan: rows before start + s
    end = (np.cumsum(term) - term + s).astype(np.int64)
    keep = ~payoff_row
    keep |= np.arange(len(loan), dtype=np.int64) < end[loan]
    del loan
    principal = instalments["principal_due"].to_numpy().copy()
    rows = row_s[is_payoff]
    principal[rows] = payoff_lump[is_payoff] - instalments["interest_due"].to_numpy()[rows]
    effective = instalments.with_columns(pl.Series("principal_due", principal, dtype=pl.Int64))
    effective = effective.filter(pl.Series(keep))
    overrides = effective.filter(pl.Series(payoff_row[keep]))
    return effective, overrides
