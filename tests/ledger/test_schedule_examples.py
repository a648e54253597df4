"""Hand-worked schedules (DATA_CONTRACT "loans"), each checked in both implementations.

Every expected number below is derived in the comments; r = annual_rate / 12 and O is the
principal outstanding before the period. Rounding is half-up to 0.01, once per amount.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from postloan.ledger import Instalment, build_schedule, generate_instalments
from postloan.ledger.frames import LOANS
from postloan.ledger.schedule import exact_level_payment_cents, level_payment_cents

D = Decimal


def rows(schedule: list[Instalment]) -> list[tuple[str, str, str]]:
    """(opening principal, interest, principal) as strings, for compact expectations."""
    return [(str(i.opening_principal), str(i.interest_due), str(i.principal_due)) for i in schedule]


def vectorised(
    principal: str,
    rate: str,
    term: int,
    method: str,
    disbursed: date,
    first_due: date | None = None,
) -> list[tuple[date, int, int]]:
    loans = pl.DataFrame(
        {
            "account_id": ["L1"],
            "customer_id": ["C1"],
            "principal": [int(D(principal) * 100)],
            "annual_rate": [int(D(rate) * 10**8)],
            "term_months": [term],
            "repayment_method": [method],
            "disbursement_date": [disbursed],
            "first_due_date": [first_due],
        },
        schema=LOANS,
    )
    out = generate_instalments(loans)
    assert out["period"].to_list() == list(range(1, term + 1))
    return list(zip(out["due_date"], out["principal_due"], out["interest_due"], strict=True))


def as_cents(schedule: list[Instalment]) -> list[tuple[date, int, int]]:
    return [(i.due_date, int(i.principal_due * 100), int(i.interest_due * 100)) for i in schedule]


def test_equal_installment_12000_at_6_percent_12_months() -> None:
    # r = 0.06 / 12 = 0.005.  (1.005)^12 = 1.0616778118645 (binomial / repeated squaring), so
    # 1 − 1.005^−12 = 1 − 0.9419053 = 0.0580947 and A = 12000 × 0.005 / 0.0580947 = 60 /
    # 0.0580947 = 1032.7971 -> A = 1032.80.
    # Each period: interest = round(O × 0.005), principal = 1032.80 − interest, O -= principal:
    #   k  O          O × 0.005    interest  principal
    #   1  12000.00   60.0000      60.00     972.80
    #   2  11027.20   55.1360      55.14     977.66
    #   3  10049.54   50.2477      50.25     982.55
    #   4   9066.99   45.33495     45.33     987.47   (…495 is below the half cent: down)
    #   5   8079.52   40.3976      40.40     992.40
    #   6   7087.12   35.4356      35.44     997.36
    #   7   6089.76   30.4488      30.45    1002.35
    #   8   5087.41   25.43705     25.44    1007.36
    #   9   4080.05   20.40025     20.40    1012.40
    #  10   3067.65   15.33825     15.34    1017.46
    #  11   2050.19   10.25095     10.25    1022.55
    #  12   1027.64    5.1382       5.14    1027.64   (last: all of O, payment 1032.78)
    # Principal sums to 12000.00; interest to 12 × 1032.80 − 2 cents − 12000 = 393.58.
    schedule = build_schedule(D("12000.00"), D("0.06"), 12, "equal_installment", date(2024, 1, 15))
    assert level_payment_cents(1_200_000, D("0.06"), 12) == 103_280
    assert rows(schedule) == [
        ("12000.00", "60.00", "972.80"),
        ("11027.20", "55.14", "977.66"),
        ("10049.54", "50.25", "982.55"),
        ("9066.99", "45.33", "987.47"),
        ("8079.52", "40.40", "992.40"),
        ("7087.12", "35.44", "997.36"),
        ("6089.76", "30.45", "1002.35"),
        ("5087.41", "25.44", "1007.36"),
        ("4080.05", "20.40", "1012.40"),
        ("3067.65", "15.34", "1017.46"),
        ("2050.19", "10.25", "1022.55"),
        ("1027.64", "5.14", "1027.64"),
    ]
    assert sum(i.principal_due for i in schedule) == D("12000.00")
    assert sum(i.interest_due for i in schedule) == D("393.58")
    # Due dates: disbursed 2024-01-15, first due one month later, then monthly on the 15th.
    assert [i.due_date for i in schedule] == [date(2024, m, 15) for m in range(2, 13)] + [
        date(2025, 1, 15)
    ]
    assert vectorised("12000.00", "0.06", 12, "equal_installment", date(2024, 1, 15)) == as_cents(
        schedule
    )


def test_equal_principal_10000_at_5_percent_3_months() -> None:
    # P / n = 10000 / 3 = 3333.333… -> 3333.33 for periods 1 and 2; r = 0.05 / 12.
    #   k1: O = 10000.00, O·r = 500 / 12      = 41.6666… -> 41.67
    #   k2: O =  6666.67, O·r = 333.3335 / 12 = 27.7779… -> 27.78
    #   k3: O =  3333.34, O·r = 166.667 / 12  = 13.8889… -> 13.89; principal = all of O,
    #       3333.34 (the cent the first two periods rounded away).
    schedule = build_schedule(D("10000"), D("0.05"), 3, "equal_principal", date(2024, 1, 15))
    assert rows(schedule) == [
        ("10000.00", "41.67", "3333.33"),
        ("6666.67", "27.78", "3333.33"),
        ("3333.34", "13.89", "3333.34"),
    ]
    assert vectorised("10000", "0.05", 3, "equal_principal", date(2024, 1, 15)) == as_cents(
        schedule
    )


def test_equal_principal_12000_at_6_percent_is_an_arithmetic_series() -> None:
    # principal 12000 / 12 = 1000.00 a month; interest (12000 − 1000(k−1)) × 0.005 =
    # 60, 55, …, 5: total 5 × (12 + 11 + … + 1) = 5 × 78 = 390.00.
    schedule = build_schedule(D("12000"), D("0.06"), 12, "equal_principal", date(2024, 1, 15))
    assert [i.principal_due for i in schedule] == [D("1000.00")] * 12
    assert [i.interest_due for i in schedule] == [D(60 - 5 * k) for k in range(12)]
    assert sum(i.interest_due for i in schedule) == D("390.00")


def test_interest_only_50000_at_3_85_percent() -> None:
    # interest = 50000 × 0.0385 / 12 = 1925 / 12 = 160.41666… -> 160.42 every period (O never
    # falls before the last period); principal 0, then all 50000.00 in period 4.
    schedule = build_schedule(D("50000"), D("0.0385"), 4, "interest_only", date(2024, 1, 15))
    assert rows(schedule) == [
        ("50000.00", "160.42", "0.00"),
        ("50000.00", "160.42", "0.00"),
        ("50000.00", "160.42", "0.00"),
        ("50000.00", "160.42", "50000.00"),
    ]
    assert vectorised("50000", "0.0385", 4, "interest_only", date(2024, 1, 15)) == as_cents(
        schedule
    )


def test_zero_rate_equal_installment_is_p_over_n() -> None:
    # r = 0: A = 1000 / 3 = 333.333… -> 333.33; no interest; the last period takes 333.34.
    schedule = build_schedule(D("1000"), D("0"), 3, "equal_installment", date(2024, 1, 15))
    assert rows(schedule) == [
        ("1000.00", "0.00", "333.33"),
        ("666.67", "0.00", "333.33"),
        ("333.34", "0.00", "333.34"),
    ]
    assert vectorised("1000", "0", 3, "equal_installment", date(2024, 1, 15)) == as_cents(schedule)


def test_level_payment_on_an_exact_half_cent_rounds_up() -> None:
    # r = 0, P = 100.05, n = 2: A = 50.025 exactly -> 50.03 (half-up; half-even would give
    # 50.02). The last period gets 100.05 − 50.03 = 50.02.
    schedule = build_schedule(D("100.05"), D("0"), 2, "equal_installment", date(2024, 1, 15))
    assert [i.principal_due for i in schedule] == [D("50.03"), D("50.02")]
    assert vectorised("100.05", "0", 2, "equal_installment", date(2024, 1, 15)) == as_cents(
        schedule
    )


def test_level_payment_exact_tie_with_positive_rate() -> None:
    # 24 % a year: r = 0.02 = 1/50. For n = 2, A = P·r(1+r)²/((1+r)² − 1) = P·51²/(50·101)
    # = P · 2601 / 5050. P = 25.25 (2525 cents): A = 2525 · 2601 / 5050 = 2601 / 2 = 1300.5
    # cents exactly, a true tie that only exact arithmetic can see -> 13.01.
    assert exact_level_payment_cents(2525, D("0.24"), 2) == 1301
    assert level_payment_cents(2525, D("0.24"), 2) == 1301
    # 100 % a year: r = 1/12, n = 2: A = P · 13² / (12 · 25) = P · 169 / 300; P = 1.50 ->
    # A = 84.5 cents -> 0.85. In 40 digits r = 0.08333…3 is not exact, so only the exact
    # re-decision gets this right.
    assert level_payment_cents(150, D("1"), 2) == 85
    schedule = build_schedule(D("25.25"), D("0.24"), 2, "equal_installment", date(2024, 1, 15))
    # k1: interest = 25.25 × 0.02 = 0.505 -> 0.51 (tie, up); principal 13.01 − 0.51 = 12.50.
    # k2: O = 12.75, interest = 0.255 -> 0.26; principal 12.75.
    assert rows(schedule) == [("25.25", "0.51", "12.50"), ("12.75", "0.26", "12.75")]
    assert vectorised("25.25", "0.24", 2, "equal_installment", date(2024, 1, 15)) == as_cents(
        schedule
    )


def test_interest_half_cent_rounds_up() -> None:
    # 1.00 at 6 % for one month: interest = 1.00 × 0.005 = 0.005 -> 0.01.
    schedule = build_schedule(D("1.00"), D("0.06"), 1, "interest_only", date(2024, 1, 15))
    assert rows(schedule) == [("1.00", "0.01", "1.00")]


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal", "interest_only"])
def test_one_period_loan(method: str) -> None:
    # n = 1: the only period is the last: principal = P = 5000.00, interest = 5000 × 0.01.
    schedule = build_schedule(D("5000"), D("0.12"), 1, method, date(2024, 1, 15))
    assert rows(schedule) == [("5000.00", "50.00", "5000.00")]
    assert schedule[0].due_date == date(2024, 2, 15)
    assert vectorised("5000", "0.12", 1, method, date(2024, 1, 15)) == as_cents(schedule)


def test_month_end_rolling_leap_year_explicit_first_due() -> None:
    # first due Jan 31 2024: due k = Jan 31 + (k−1) months: Feb 29 (leap), Mar 31, Apr 30 —
    # always from the first due date, so March is back on the 31st.
    schedule = build_schedule(
        D("4000"), D("0.06"), 4, "equal_principal", date(2023, 12, 20), date(2024, 1, 31)
    )
    expected = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert [i.due_date for i in schedule] == expected
    got = vectorised("4000", "0.06", 4, "equal_principal", date(2023, 12, 20), date(2024, 1, 31))
    assert [row[0] for row in got] == expected


def test_month_end_rolling_common_year_explicit_first_due() -> None:
    schedule = build_schedule(
        D("4000"), D("0.06"), 3, "equal_principal", date(2022, 12, 20), date(2023, 1, 31)
    )
    expected = [date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31)]
    assert [i.due_date for i in schedule] == expected
    got = vectorised("4000", "0.06", 3, "equal_principal", date(2022, 12, 20), date(2023, 1, 31))
    assert [row[0] for row in got] == expected


@pytest.mark.parametrize(
    ("disbursed", "expected"),
    [
        # Default first due = disbursement + 1 month rolled: Jan 31 -> Feb 29 (2024) /
        # Feb 28 (2023). The contract then counts from that first due date, so the day of
        # month stays at 29 / 28 (the clamp is part of the first due date itself).
        (date(2024, 1, 31), [date(2024, 2, 29), date(2024, 3, 29), date(2024, 4, 29)]),
        (date(2023, 1, 31), [date(2023, 2, 28), date(2023, 3, 28), date(2023, 4, 28)]),
        # Disbursed Dec 31: first due Jan 31, then Feb 29, Mar 31 from that anchor.
        (date(2023, 12, 31), [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]),
    ],
)
def test_default_first_due_date_rolls_month_end(disbursed: date, expected: list[date]) -> None:
    schedule = build_schedule(D("3000"), D("0.06"), 3, "equal_installment", disbursed)
    assert [i.due_date for i in schedule] == expected
    got = vectorised("3000", "0.06", 3, "equal_installment", disbursed)
    assert [row[0] for row in got] == expected


def test_first_due_not_one_month_after_disbursement_has_no_broken_period() -> None:
    # Disbursed Mar 10, first due Apr 25 (46 days): no broken-period interest, so every amount
    # equals the default schedule's (first due Apr 10); only the dates move to the 25th.
    shifted = build_schedule(
        D("12000"), D("0.06"), 12, "equal_installment", date(2024, 3, 10), date(2024, 4, 25)
    )
    default = build_schedule(D("12000"), D("0.06"), 12, "equal_installment", date(2024, 3, 10))
    assert default[0].due_date == date(2024, 4, 10)
    assert [(i.principal_due, i.interest_due) for i in shifted] == [
        (i.principal_due, i.interest_due) for i in default
    ]
    assert shifted[0].interest_due == D("60.00")
    assert [i.due_date for i in shifted][:3] == [
        date(2024, 4, 25),
        date(2024, 5, 25),
        date(2024, 6, 25),
    ]
    got = vectorised("12000", "0.06", 12, "equal_installment", date(2024, 3, 10), date(2024, 4, 25))
    assert got == as_cents(shifted)


def test_tiny_loan_never_goes_negative() -> None:
    # 0.18 over 36 months, equal principal: P / n = 0.005 -> 0.01 (half-up), and 35 × 0.01 >
    # 0.18. Taken literally the balance would go to −0.17; instead each period's principal is
    # capped at O, so the loan is repaid in 18 periods of 0.01 and periods 19..36 are zero.
    schedule = build_schedule(D("0.18"), D("0"), 36, "equal_principal", date(2024, 1, 15))
    assert [i.principal_due for i in schedule] == [D("0.01")] * 18 + [D("0.00")] * 18
    assert all(i.opening_principal >= 0 for i in schedule)
    assert vectorised("0.18", "0", 36, "equal_principal", date(2024, 1, 15)) == as_cents(schedule)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": D("0")}, "principal"),
        ({"principal": D("-5")}, "principal"),
        ({"principal": D("1.005")}, "principal"),
        ({"annual_rate": D("-0.01")}, "annual_rate"),
        ({"annual_rate": D("NaN")}, "annual_rate"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": 1.5}, "term_months"),
        ({"method": "balloon"}, "repayment_method"),
    ],
)
def test_invalid_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "principal": D("1000"),
        "annual_rate": D("0.05"),
        "term_months": 12,
        "method": "equal_installment",
        "disbursement_date": date(2024, 1, 1),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{field}:"):
        build_schedule(**args)
