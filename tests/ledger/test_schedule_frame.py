"""The vectorised portfolio schedule equals the exact Decimal one, row for row."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import gcd

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postloan.ledger import build_schedule, generate_instalments, override_instalments
from postloan.ledger.frames import INSTALMENTS, LOANS
from postloan.ledger.schedule import METHODS, exact_level_payment_cents
from postloan.ledger.schedule_frame import _level_payments
from postloan.money import RATE_SCALE

SEED = 8_675_309


def loans_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    base: dict[str, object] = {
        "customer_id": "C",
        "disbursement_date": date(2024, 1, 15),
        "first_due_date": None,
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=LOANS)


def reference(loans: pl.DataFrame) -> pl.DataFrame:
    """build_schedule for every loan, in the INSTALMENTS schema, sorted by account_id, period."""
    out: dict[str, list[object]] = {name: [] for name in INSTALMENTS}
    for loan in loans.sort("account_id").iter_rows(named=True):
        schedule = build_schedule(
            Decimal(loan["principal"]) / 100,
            Decimal(loan["annual_rate"]) / RATE_SCALE,
            loan["term_months"],
            loan["repayment_method"],
            loan["disbursement_date"],
            loan["first_due_date"],
        )
        for i in schedule:
            out["account_id"].append(loan["account_id"])
            out["period"].append(i.period)
            out["due_date"].append(i.due_date)
            out["principal_due"].append(int(i.principal_due * 100))
            out["interest_due"].append(int(i.interest_due * 100))
    return pl.DataFrame(out, schema=INSTALMENTS)


def assert_frames_equal(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    assert got.schema == expected.schema
    assert got.height == expected.height
    mismatch = (
        got.with_row_index()
        .join(expected.with_row_index(), on="index", suffix="_ref")
        .filter(pl.any_horizontal(pl.col(name) != pl.col(f"{name}_ref") for name in INSTALMENTS))
    )
    assert mismatch.height == 0, mismatch.head(5)


def random_portfolio(count: int, seed: int, max_term: int = 60) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    # Mostly 1,000–5,000,000 but also tiny loans (a few cents per period, where the balance
    # cap matters) and cent amounts that make P/n land on half cents.
    principal = rng.integers(100_000, 500_000_001, count)
    tiny = rng.random(count) < 0.05
    principal[tiny] = rng.integers(1, 5_000, tiny.sum())
    rate = rng.integers(0, 36_000_001, count)
    rate[rng.random(count) < 0.1] = 0
    round_rate = rng.random(count) < 0.3  # rates like 4.35 %: more exact interest ties
    rate[round_rate] = rng.integers(0, 3_600, round_rate.sum()) * 10_000
    term = rng.integers(1, max_term + 1, count)
    long_term = rng.random(count) < 0.02
    term[long_term] = rng.integers(61, 361, long_term.sum())
    disbursed = rng.integers(date(2019, 1, 1).toordinal(), date(2026, 1, 1).toordinal(), count)
    month_end = rng.random(count) < 0.2
    first_due: list[date | None] = []
    disbursement: list[date] = []
    for i, ordinal in enumerate(disbursed):
        d = date.fromordinal(int(ordinal))
        if month_end[i]:  # push to the month's last day (28, 29, 30 or 31)
            d = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        disbursement.append(d)
        roll = rng.random()
        if roll < 0.6:
            first_due.append(None)
        else:
            first_due.append(d + timedelta(days=int(rng.integers(10, 70))))
    methods = np.array(METHODS)[rng.integers(0, 3, count)]
    ids = [f"L{i:06d}" for i in rng.permutation(count)]  # unsorted input order
    return pl.DataFrame(
        {
            "account_id": ids,
            "customer_id": ["C"] * count,
            "principal": principal,
            "annual_rate": rate,
            "term_months": term,
            "repayment_method": methods,
            "disbursement_date": disbursement,
            "first_due_date": first_due,
        },
        schema=LOANS,
    )


def test_vectorised_equals_exact_on_random_portfolio() -> None:
    loans = random_portfolio(4000, SEED)
    assert_frames_equal(generate_instalments(loans), reference(loans))


def half_cent_ties(limit: int) -> list[tuple[int, int, int]]:
    """(principal cents, rate units, n) whose exact level payment is x.xx5.

    With r = a/b in lowest terms, for n = 2: A = P(a+b)² / (b(a+2b)) and for n = 3:
    A = P(a+b)³ / (b(3b² + 3ab + a²)); the numerator's (a+b)^n is coprime to the denominator
    d, so A (cents) is an odd multiple of 1/2 exactly when P = j·d/2 for odd j and a+b odd.
    """
    ties = []
    for rate in range(10_000, 36_000_001, 10_000):  # 0.01 % steps up to 36 %
        g = gcd(rate, 12 * RATE_SCALE)
        a, b = rate // g, 12 * RATE_SCALE // g
        for n, d in ((2, b * (a + 2 * b)), (3, b * (3 * b * b + 3 * a * b + a * a))):
            if d % 2 == 0 and (a + b) % 2 == 1:
                for j in (1, 3, 7):
                    if j * d // 2 <= limit:
                        ties.append((j * d // 2, rate, n))
    # r = 0: P / n on a half cent, e.g. 100.05 / 2, 0.15 / 2, 1000.05 / 10 (= 100.005)
    ties += [(10_005, 0, 2), (15, 0, 2), (100_005, 0, 10), (3, 0, 2), (12_345_678_905, 0, 10)]
    return ties


def test_half_cent_level_payments_round_up_in_both_versions() -> None:
    ties = half_cent_ties(limit=50_000_000_000)
    assert len(ties) > 50
    for principal, rate, n in ties:
        exact = Fraction(principal) / n
        if rate:
            r = Fraction(rate, 12 * RATE_SCALE)
            exact = principal * r / (1 - (1 + r) ** -n)
        assert (2 * exact).denominator == 1 and (2 * exact).numerator % 2 == 1  # a true tie
        assert exact_level_payment_cents(principal, Decimal(rate) / RATE_SCALE, n) == exact + (
            Fraction(1, 2)
        )
    loans = loans_frame(
        [
            {
                "account_id": f"T{i:06d}",
                "principal": p,
                "annual_rate": rate,
                "term_months": n,
                "repayment_method": "equal_installment",
            }
            for i, (p, rate, n) in enumerate(ties)
        ]
    )
    got = generate_instalments(loans)
    assert_frames_equal(got, reference(loans))
    # and the first period's payment is the rounded-up tie
    first = got.filter(pl.col("period") == 1)
    paid = (first["principal_due"] + first["interest_due"]).to_list()
    for (principal, rate, n), payment in zip(ties, paid, strict=True):
        assert payment == exact_level_payment_cents(principal, Decimal(rate) / RATE_SCALE, n)


def test_float_level_payment_equals_exact() -> None:
    # The float64 fast path (with its near-tie recomputation) against exact rational A.
    rng = np.random.default_rng(SEED + 1)
    count = 20_000
    p = rng.integers(1, 500_000_001, count)
    p[: count // 4] = rng.integers(1, 10**13, count // 4)  # up to 100 billion
    rate = rng.integers(1, 100_000_001, count)
    n = rng.integers(2, 361, count)
    got = _level_payments(p, rate, n, np.ones(count, dtype=bool))
    for i in range(count):
        exact = exact_level_payment_cents(int(p[i]), Decimal(int(rate[i])) / RATE_SCALE, int(n[i]))
        assert got[i] == exact, (p[i], rate[i], n[i])


def test_overflowing_products_fall_back_to_exact_integers() -> None:
    # O · rate beyond 2^61 (P = 10^15 cents at 36 %) runs on Python integers; mixed with
    # ordinary loans in one frame, every row still equals the exact version.
    rows = []
    for i, method in enumerate(METHODS):
        rows.append(
            {
                "account_id": f"B{i}",
                "principal": 10**15 + 12_345,
                "annual_rate": 36_000_000,
                "term_months": 24,
                "repayment_method": method,
            }
        )
        rows.append(
            {
                "account_id": f"A{i}",
                "principal": 1_234_567,
                "annual_rate": 4_350_000,
                "term_months": 12,
                "repayment_method": method,
            }
        )
    loans = loans_frame(rows)
    assert_frames_equal(generate_instalments(loans), reference(loans))


loan_rows = st.fixed_dictionaries(
    {
        "principal": st.integers(1, 10**11),
        "annual_rate": st.one_of(st.just(0), st.integers(0, 50_000_000)),
        "term_months": st.integers(1, 120),
        "repayment_method": st.sampled_from(METHODS),
        "disbursement_date": st.dates(date(1990, 1, 1), date(2060, 12, 31)),
        "first_due_date": st.one_of(st.none(), st.dates(date(1990, 2, 1), date(2061, 12, 31))),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(loan_rows, min_size=1, max_size=8))
def test_properties_and_agreement(rows: list[dict[str, object]]) -> None:
    loans = loans_frame([{**row, "account_id": f"H{i}"} for i, row in enumerate(rows)])
    got = generate_instalments(loans)
    assert_frames_equal(got, reference(loans))
    per_loan = got.group_by("account_id", maintain_order=True).agg(
        pl.len().alias("rows"),
        pl.col("period"),
        pl.col("principal_due").sum().alias("principal_sum"),
        (pl.col("due_date").diff().dt.total_days().min()).alias("min_step"),
        pl.col("principal_due").min().alias("min_principal"),
        pl.col("interest_due").min().alias("min_interest"),
    )
    expected = loans.sort("account_id")
    assert per_loan["account_id"].to_list() == expected["account_id"].to_list()
    for loan, result in zip(
        expected.iter_rows(named=True), per_loan.iter_rows(named=True), strict=True
    ):
        n = loan["term_months"]
        assert result["rows"] == n
        assert result["period"] == list(range(1, n + 1))
        assert result["principal_sum"] == loan["principal"]
        assert n == 1 or result["min_step"] >= 28  # strictly increasing, about monthly
        assert result["min_principal"] >= 0 and result["min_interest"] >= 0


def test_output_is_sorted_and_typed_whatever_the_input_order() -> None:
    loans = random_portfolio(50, SEED + 2)
    got = generate_instalments(loans.reverse())
    assert got.schema == pl.Schema(INSTALMENTS)
    assert got.equals(got.sort(["account_id", "period"]))
    assert got.equals(generate_instalments(loans))


def test_empty_portfolio() -> None:
    got = generate_instalments(pl.DataFrame(schema=LOANS))
    assert got.height == 0 and got.schema == pl.Schema(INSTALMENTS)


def test_first_due_date_column_may_be_absent() -> None:
    loans = loans_frame(
        [
            {
                "account_id": "L1",
                "principal": 100_000,
                "annual_rate": 0,
                "term_months": 2,
                "repayment_method": "equal_principal",
            }
        ]
    ).drop("first_due_date", "customer_id")
    got = generate_instalments(loans)
    assert got["due_date"].to_list() == [date(2024, 2, 15), date(2024, 3, 15)]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("principal", 0),
        ("principal", -100),
        ("principal", None),
        ("annual_rate", -1),
        ("term_months", 0),
        ("repayment_method", "balloon"),
        ("disbursement_date", None),
    ],
)
def test_invalid_loans_name_the_column(column: str, value: object) -> None:
    good = {
        "account_id": "L1",
        "principal": 100_000,
        "annual_rate": 5_000_000,
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    loans = loans_frame([good, {**good, "account_id": "L2", column: value}])
    with pytest.raises(ValueError, match=f"^{column}:"):
        generate_instalments(loans)


def test_duplicate_account_ids_are_refused() -> None:
    row = {
        "account_id": "L1",
        "principal": 100_000,
        "annual_rate": 5_000_000,
        "term_months": 12,
        "repayment_method": "equal_installment",
    }
    with pytest.raises(ValueError, match=r"^account_id: must be unique"):
        generate_instalments(loans_frame([row, {**row, "account_id": "L0"}, row]))


def test_missing_required_column() -> None:
    loans = pl.DataFrame({"account_id": ["L1"], "principal": [100]})
    with pytest.raises(ValueError, match="missing column"):
        generate_instalments(loans)


def test_imported_schedules_override_wholesale_per_loan() -> None:
    generated = generate_instalments(
        loans_frame(
            [
                {
                    "account_id": account,
                    "principal": 1_200_000,
                    "annual_rate": 6_000_000,
                    "term_months": 12,
                    "repayment_method": "equal_installment",
                }
                for account in ("A", "B", "C")
            ]
        )
    )
    # B's import has 3 rows (out of order): all 12 generated rows of B are replaced by them.
    imported = pl.DataFrame(
        {
            "account_id": ["B", "B", "B"],
            "period": [2, 1, 3],
            "due_date": [date(2024, 4, 1), date(2024, 3, 1), date(2024, 5, 1)],
            "principal_due": [400_000, 400_000, 400_000],
            "interest_due": [1, 2, 3],
        }
    )
    got = override_instalments(generated, imported)
    assert got.schema == pl.Schema(INSTALMENTS)
    assert got.filter(pl.col("account_id") == "B")["interest_due"].to_list() == [2, 1, 3]
    assert got.filter(pl.col("account_id") == "B")["period"].to_list() == [1, 2, 3]
    assert got.filter(pl.col("account_id") != "B").equals(
        generated.filter(pl.col("account_id") != "B")
    )
    assert got.height == 12 + 3 + 12
    assert got.equals(got.sort(["account_id", "period"]))
    # no import: the generated schedules unchanged
    assert override_instalments(generated, pl.DataFrame(schema=INSTALMENTS)).equals(generated)


def test_override_refuses_imported_rows_without_required_columns() -> None:
    generated = pl.DataFrame(schema=INSTALMENTS)
    imported = pl.DataFrame({"loan_id": ["B"], "period": [1]})
    with pytest.raises(ValueError, match="imported schedules: missing column"):
        override_instalments(generated, imported)
