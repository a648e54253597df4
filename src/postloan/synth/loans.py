"""Instalment loans: purpose, product, term, principal, rate, method, dates, branch, officer."""

from __future__ import annotations

import numpy as np
import polars as pl

from postloan.money import RATE_SCALE
from postloan.synth.tables import (
    BORROWER_TYPES,
    BRANCHES,
    GUARANTEES,
    METHODS,
    OFFICERS_PER_BRANCH,
    PURPOSE_SPECS,
    PURPOSES,
    RATE_TYPES,
)
from postloan.synth.util import (
    IntArray,
    choice,
    days_to_date,
    ids,
    lookup,
    month_index,
    month_start,
)

ACCOUNT_ID_WIDTH = 8
DISBURSEMENT_WINDOW_DAYS = 3 * 365
# Explicit first due dates use a fixed repayment day; month ends (28/30/31) are common.
_DUE_DAYS = (5, 10, 15, 20, 25, 28, 30, 31)
_DUE_DAY_WEIGHTS = (10, 15, 15, 20, 15, 5, 5, 15)
_EXPLICIT_FIRST_DUE = 0.15


def make_loans(
    rng: np.random.Generator,
    owner: IntArray,
    customer_ids: pl.Series,
    customer_branch: IntArray,
    as_of: int,
) -> pl.DataFrame:
    """One row per loan (engine units: cents, rates in 1e-8), owned by customers `owner`."""
    n = len(owner)
    purpose = choice(rng, [PURPOSE_SPECS[p].share for p in PURPOSES], n)
    product = np.zeros(n, dtype=np.int64)
    term = np.zeros(n, dtype=np.int64)
    principal = np.zeros(n, dtype=np.int64)
    rate_bp = np.zeros(n, dtype=np.int64)
    method = np.zeros(n, dtype=np.int64)
    guarantee = np.zeros(n, dtype=np.int64)
    floating = np.zeros(n, dtype=bool)
    borrower = np.zeros(n, dtype=np.int64)
    product_names: list[str] = []
    for k, name in enumerate(PURPOSES):
        spec = PURPOSE_SPECS[name]
        rows = np.flatnonzero(purpose == k)
        m = len(rows)
        product[rows] = len(product_names) + choice(rng, [w for _, w in spec.products], m)
        product_names.extend(p for p, _ in spec.products)
        terms = np.array([t for t, _ in spec.terms], dtype=np.int64)
        term[rows] = terms[choice(rng, [w for _, w in spec.terms], m)]
        median, sigma, low, high, step = spec.principal
        yuan = np.exp(rng.normal(np.log(median), sigma, m)).clip(low, high)
        principal[rows] = (np.round(yuan / step) * step * 100).astype(np.int64)
        rate_bp[rows] = rng.integers(spec.rate_bp[0], spec.rate_bp[1] + 1, m)
        method[rows] = choice(rng, spec.methods, m)
        guarantee[rows] = choice(rng, spec.guarantees, m)
        floating[rows] = rng.random(m) < spec.floating
        borrower[rows] = spec.borrower
    # Round-number rates are common in practice (0.0435, 0.0600): a third snap to 5 bp.
    snap = rng.random(n) < 0.33
    rate_bp = np.where(snap, np.round(rate_bp / 5) * 5, rate_bp).astype(np.int64).clip(300, 2400)

    disbursed = as_of - rng.integers(1, DISBURSEMENT_WINDOW_DAYS + 1, n)
    first_due = _explicit_first_due(rng, disbursed)
    explicit = rng.random(n) < _EXPLICIT_FIRST_DUE
    branch = np.where(rng.random(n) < 0.93, customer_branch[owner], rng.integers(0, 8, n))
    officer = rng.integers(1, OFFICERS_PER_BRANCH + 1, n)

    return (
        pl.DataFrame(
            {
                "account_id": ids("L", n, ACCOUNT_ID_WIDTH),
                "customer_id": customer_ids.gather(owner),
                "principal": pl.Series(principal, dtype=pl.Int64),
                "annual_rate": pl.Series(rate_bp * (RATE_SCALE // 10_000), dtype=pl.Int64),
                "term_months": pl.Series(term, dtype=pl.Int32),
                "repayment_method": lookup(METHODS, method, "repayment_method"),
                "disbursement_date": days_to_date(disbursed, "disbursement_date"),
                "first_due_date": days_to_date(first_due, "first_due_date"),
                "product": lookup(product_names, product, "product"),
                "purpose": lookup(PURPOSES, purpose, "purpose"),
                "guarantee": lookup(GUARANTEES, guarantee, "guarantee"),
                "rate_type": lookup(RATE_TYPES, floating.astype(np.int64), "rate_type"),
                "borrower_type": lookup(BORROWER_TYPES, borrower, "borrower_type"),
                "currency": pl.repeat("CNY", n, eager=True, dtype=pl.String),
                "branch_id": lookup(BRANCHES, branch, "branch_id"),
                "officer_id": pl.Series(officer).cast(pl.String).str.zfill(2),
                "explicit": pl.Series(explicit),
            }
        )
        .with_columns(
            pl.when(pl.col("explicit")).then(pl.col("first_due_date")).alias("first_due_date"),
            pl.concat_str(pl.col("branch_id"), pl.lit("-O"), pl.col("officer_id")).alias(
                "officer_id"
            ),
        )
        .drop("explicit")
    )


def _explicit_first_due(rng: np.random.Generator, disbursed: IntArray) -> IntArray:
    """A fixed repayment day in the month after disbursement, clamped to the month's length."""
    day = np.array(_DUE_DAYS, dtype=np.int64)[choice(rng, _DUE_DAY_WEIGHTS, len(disbursed))]
    month = month_index(disbursed) + 1
    start = month_start(month)
    length = month_start(month + 1) - start
    out: IntArray = start + np.minimum(day, length) - 1
    return out
