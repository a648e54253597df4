"""Repayment schedules of a whole portfolio, vectorised (frames.LOANS -> frames.INSTALMENTS).

The same rules as `postloan.ledger.schedule` (the exact per-loan reference), row for row, but
with one numpy pass per period index k over every loan still running instead of a Python loop
per loan. Loans are ordered by term, longest first, so the loans still running at period k are a
prefix of the arrays and finishing loans simply fall off the end.

Amounts are integer cents and rates integer units of 1e-8 (`money.RATE_SCALE`), so
interest = round_half_up(O · rate / (12 · 1e8)) is one exact integer division. Loans whose
O · rate could overflow int64 run the same recurrence on Python integers (object arrays).

The level payment A of `equal_installment` is computed in float64 and rounded half-up; where
the float's fractional cent is close enough to a half that float error could flip the rounding,
A is recomputed exactly by `schedule.level_payment_cents`, so A always equals the Decimal
reference's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from postloan.ledger.dates import add_months_days, add_months_vec, month_and_day
from postloan.ledger.frames import INSTALMENTS, LOANS, conform, empty
from postloan.ledger.schedule import (
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    METHODS,
    exact_level_payment_cents,
    level_payment_cents,
)
from postloan.money import RATE_SCALE, rate_to_decimal

IntArray = npt.NDArray[np.int64]

_INTEREST_DEN = 12 * RATE_SCALE
# O · rate below this keeps 2 · O · rate + 12e8 (the rounding numerator) inside int64.
_INT64_PRODUCT_LIMIT = float(2**61)
# float64 A is trusted to round correctly unless its fractional cent is within this of .5:
# an absolute 1e-6 cent plus 1e-11 relative, thousands of times the error of
# P·r / −expm1(−n·log1p(r)) (a few ulp, ~1e-15 relative).
_TIE_ABS = 1e-6
_TIE_REL = 1e-11

# frames.LOANS / INSTALMENTS widened to the value type `frames.conform` / `empty` declare.
_LOANS: dict[str, pl.DataType | type[pl.DataType]] = dict(LOANS)
_INSTALMENTS: dict[str, pl.DataType | type[pl.DataType]] = dict(INSTALMENTS)

_REQUIRED = (
    "account_id",
    "principal",
    "annual_rate",
    "term_months",
    "repayment_method",
    "disbursement_date",
)


def generate_instalments(loans: pl.DataFrame) -> pl.DataFrame:
    """Contract schedules of all `loans` (frames.LOANS), sorted by account_id, period."""
    missing = [name for name in _REQUIRED if name not in loans.columns]
    if missing:
        raise ValueError(f"loans: missing column(s) {', '.join(missing)}")
    if loans.height == 0:
        return empty(_INSTALMENTS)
    frame = conform(loans, _LOANS).sort("account_id")
    _validate(frame)

    principal = frame["principal"].to_numpy().astype(np.int64)
    rate = frame["annual_rate"].to_numpy().astype(np.int64)
    term = frame["term_months"].to_numpy().astype(np.int64)
    method = frame["repayment_method"]
    is_ei = method.eq(EQUAL_INSTALLMENT).to_numpy()
    is_ep = method.eq(EQUAL_PRINCIPAL).to_numpy()

    first_due = _first_due_days(frame)
    offsets = np.cumsum(term) - term  # row of each loan's period 1 in the output
    total = int(term.sum())
    out_principal = np.empty(total, dtype=np.int64)
    out_interest = np.empty(total, dtype=np.int64)

    fits = principal.astype(np.float64) * rate.astype(np.float64) < _INT64_PRODUCT_LIMIT
    if fits.all():
        groups: list[tuple[npt.NDArray[np.intp], bool]] = [(np.arange(len(term)), True)]
    else:
        groups = [(np.flatnonzero(fits), True), (np.flatnonzero(~fits), False)]
    for index, native in groups:
        if len(index) == 0:
            continue
        p, r, n = principal[index], rate[index], term[index]
        ei = is_ei[index] & (n > 1)
        level = _level_payments(p, r, n, ei) if native else _exact_levels(p, r, n, ei)
        # principal_k before the last period: A − interest_k (equal_installment),
        # round(P / n) (equal_principal), 0 (interest_only).
        base = np.where(ei, level, np.where(is_ep[index], _round_div(p, n), 0))
        _amortise(p, r, n, base, ei, offsets[index], out_principal, out_interest, native=native)

    # Row-level columns in int32 (half the memory traffic of int64 over tens of millions).
    index_type = np.int32 if total < 2**31 else np.int64
    account_id = frame["account_id"].gather(np.repeat(np.arange(len(term), dtype=index_type), term))
    months_since, day_of_month = month_and_day(first_due)
    period: npt.NDArray[np.integer[Any]] = np.arange(1, total + 1, dtype=index_type)
    period -= np.repeat(offsets.astype(index_type), term)
    due = add_months_days(np.repeat(months_since, term), np.repeat(day_of_month, term), period - 1)
    return pl.DataFrame(
        {
            "account_id": account_id,
            "period": pl.Series(period.astype(np.int32, copy=False), dtype=pl.Int32),
            "due_date": pl.Series(due, dtype=pl.Int32).cast(pl.Date),
            "principal_due": pl.Series(out_principal, dtype=pl.Int64),
            "interest_due": pl.Series(out_interest, dtype=pl.Int64),
        }
    )


def override_instalments(generated: pl.DataFrame, imported: pl.DataFrame) -> pl.DataFrame:
    """Generated schedules, except that a loan with imported rows takes all its rows from them.

    The override is wholesale per loan: an imported schedule of 3 rows replaces a generated one
    of 12. Imported rows of loans absent from `generated` are kept as imported.
    """
    for name, frame in (("generated", generated), ("imported", imported)):
        missing = [column for column in INSTALMENTS if column not in frame.columns]
        if missing and frame.height:
            raise ValueError(f"{name} schedules: missing column(s) {', '.join(missing)}")
    generated = conform(generated, _INSTALMENTS)
    imported = conform(imported, _INSTALMENTS)
    if imported.height == 0:
        return generated.sort(["account_id", "period"])
    keep = generated.join(imported.select("account_id").unique(), on="account_id", how="anti")
    return pl.concat([keep, imported]).sort(["account_id", "period"])


def _validate(frame: pl.DataFrame) -> None:
    """Refuse loans that break the contract, naming the column; `frame` sorted by account_id."""
    for name in _REQUIRED:
        nulls = frame[name].null_count()
        if nulls:
            raise ValueError(f"{name}: {nulls} loan(s) without a value")
    checks = [
        ("principal", pl.col("principal") <= 0, "must be > 0"),
        ("annual_rate", pl.col("annual_rate") < 0, "must be >= 0"),
        ("term_months", pl.col("term_months") < 1, "must be >= 1"),
        (
            "repayment_method",
            ~pl.col("repayment_method").is_in(list(METHODS)),
            f"must be one of {', '.join(METHODS)}",
        ),
        # `frame` is sorted by account_id, so a repeat sits next to its twin (far cheaper
        # than a hash-based is_duplicated over a million strings).
        ("account_id", pl.col("account_id") == pl.col("account_id").shift(1), "must be unique"),
    ]
    bad = frame.select(
        pl.col("account_id"), *[condition.alias(f"bad_{name}") for name, condition, _ in checks]
    )
    for name, _, reason in checks:
        flags = bad[f"bad_{name}"].fill_null(False)
        if flags.any():
            hits = frame.filter(flags)
            example, value = hits["account_id"][0], hits[name][0]
            raise ValueError(
                f"{name}: {reason}; {hits.height} loan(s), e.g. account {example!r} = {value!r}"
            )


def _first_due_days(frame: pl.DataFrame) -> npt.NDArray[np.int32]:
    """first_due_date, or disbursement_date + 1 month rolled to month end, as epoch days."""
    days = frame.select(
        pl.col("first_due_date").cast(pl.Int32).fill_null(0).alias("first"),
        pl.col("first_due_date").is_null().alias("default"),
        pl.col("disbursement_date").cast(pl.Int32).alias("disbursed"),
    )
    first = days["first"].to_numpy().astype(np.int32)
    default = days["default"].to_numpy()
    if default.any():
        disbursed = days["disbursed"].to_numpy()[default]
        first[default] = add_months_vec(disbursed, 1)
    return first


def _round_div(numerator: IntArray, denominator: IntArray | int) -> IntArray:
    """Half-up integer division of non-negative numerators (int64 or object arrays)."""
    if numerator.dtype == object:  # np.divmod has no object loop
        quotient = numerator // denominator
        remainder = numerator - quotient * denominator
    else:
        quotient, remainder = np.divmod(numerator, denominator)
    result: IntArray = quotient + (2 * remainder >= denominator)
    return result


def _level_payments(
    p: IntArray, rate: IntArray, n: IntArray, ei: npt.NDArray[np.bool_]
) -> IntArray:
    """A (cents) where `ei`, else 0; float64 with an exact recomputation of near-ties."""
    level = np.zeros(len(p), dtype=np.int64)
    zero = ei & (rate == 0)
    level[zero] = _round_div(p[zero], n[zero])
    positive = np.flatnonzero(ei & (rate > 0))
    if len(positive) == 0:
        return level
    pf = p[positive].astype(np.float64)
    r = rate[positive].astype(np.float64) / _INTEREST_DEN
    value = pf * r / -np.expm1(-n[positive] * np.log1p(r))
    floor = np.floor(value)
    frac = value - floor
    level[positive] = floor.astype(np.int64) + (frac >= 0.5)
    near = np.flatnonzero(np.abs(frac - 0.5) <= _TIE_ABS + _TIE_REL * value)
    for i in positive[near]:
        level[i] = level_payment_cents(int(p[i]), rate_to_decimal(int(rate[i])), int(n[i]))
    return level


def _exact_levels(p: IntArray, rate: IntArray, n: IntArray, ei: npt.NDArray[np.bool_]) -> Any:
    """A (cents) as Python integers, for the rare loans too large for int64 arithmetic."""
    level = np.zeros(len(p), dtype=object)
    for i in np.flatnonzero(ei):
        level[i] = exact_level_payment_cents(int(p[i]), rate_to_decimal(int(rate[i])), int(n[i]))
    return level


def _amortise(
    principal: IntArray,
    rate: IntArray,
    term: IntArray,
    base: IntArray,
    ei: npt.NDArray[np.bool_],
    offsets: IntArray,
    out_principal: IntArray,
    out_interest: IntArray,
    *,
    native: bool,
) -> None:
    """Run the period recurrence for one group of loans, writing into the output rows."""
    order = np.argsort(-term, kind="stable")
    dtype: Any = np.int64 if native else object
    outstanding = principal[order].astype(dtype)
    rate = rate[order].astype(dtype)
    base = base[order].astype(dtype)
    ei01 = ei[order].astype(dtype)  # 1 for equal_installment: principal = A − interest
    offsets = offsets[order]
    term_sorted = term[order]
    max_term = int(term_sorted[0])
    # running[k] = number of loans with term >= k: the loans of period k are a prefix.
    running = np.searchsorted(-term_sorted, -np.arange(max_term + 2), side="right")
    for k in range(1, max_term + 1):
        m, ending = int(running[k]), int(running[k + 1])
        opening = outstanding[:m]
        interest = _round_div(opening * rate[:m], _INTEREST_DEN)
        principal_k = base[:m] - interest * ei01[:m]
        principal_k[ending:] = opening[ending:]  # last period: everything still outstanding
        np.minimum(principal_k, opening, out=principal_k)  # never below zero outstanding
        rows = offsets[:m] + (k - 1)
        out_principal[rows] = principal_k
        out_interest[rows] = interest
        opening -= principal_k
