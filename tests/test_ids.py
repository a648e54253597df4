"""PRC resident ID check digits (GB 11643) and mobile numbers."""

from __future__ import annotations

import numpy as np
import pytest

from postloan.ids import (
    is_valid_mobile,
    is_valid_prc_id,
    prc_id_check_digit,
    prc_id_check_digits,
)

# Worked by hand, weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2:
# 11010519491231002X: 1*7 + 1*9 + 0*10 + 1*5 + 0*8 + 5*4 + 1*2 + 9*1 + 4*6 + 9*3 + 1*7 + 2*9
#   + 3*10 + 1*5 + 0*8 + 0*4 + 2*2 = 167; 167 mod 11 = 2; "10X98765432"[2] = "X".
# 440524188001010014: 28 + 36 + 0 + 25 + 16 + 16 + 2 + 8 + 48 + 0 + 0 + 9 + 0 + 5 + 0 + 0 + 2
#   = 195; 195 mod 11 = 8; "10X98765432"[8] = "4".
#   (both are the standard's own examples; 1880 is an old but valid birth year)
# 110101199003071233 (made up): 7 + 9 + 0 + 5 + 0 + 4 + 2 + 9 + 54 + 0 + 0 + 27 + 0 + 35 + 8
#   + 8 + 6 = 174; 174 mod 11 = 9; "10X98765432"[9] = "3", so ...1233 is valid, ...1234 not.
HAND_WORKED = [
    ("11010519491231002", "X"),
    ("44052418800101001", "4"),
    ("11010119900307123", "3"),
]


@pytest.mark.parametrize(("first17", "check"), HAND_WORKED)
def test_check_digit_hand_worked(first17: str, check: str) -> None:
    assert prc_id_check_digit(first17) == check
    assert is_valid_prc_id(first17 + check)


@pytest.mark.parametrize(
    "bad",
    [
        "110101199003071234",  # wrong check digit (should be 3)
        "11010519491231002x",  # lower-case x is not accepted (normalise first)
        "440524188001010015",  # wrong check digit
        "44052418800101001",  # 17 characters
        "4405241880010100144",  # 19 characters
        "44052418800101001A",  # not a digit or X
        "4405241880O101001 4",  # letter O, space
        "",
    ],
)
def test_invalid_ids(bad: str) -> None:
    assert not is_valid_prc_id(bad)


def _with_check(first17: str) -> str:
    return first17 + prc_id_check_digit(first17)


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490001", "19490100", "17991231", "21000101", "20230229"],
)
def test_invalid_birth_dates_even_with_a_correct_check_digit(birth: str) -> None:
    assert not is_valid_prc_id(_with_check("110105" + birth + "002"))


def test_leap_day_birth_date_is_valid() -> None:
    assert is_valid_prc_id(_with_check("110105" + "20000229" + "002"))


def test_non_strings_are_invalid() -> None:
    assert not is_valid_prc_id(110105194912310020)
    assert not is_valid_prc_id(None)
    assert not is_valid_mobile(13812345678)


def test_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        prc_id_check_digit("1101051949123100")
    with pytest.raises(ValueError):
        prc_id_check_digit("1101051949123100X")


def test_vectorised_check_digits_agree_with_the_scalar_one() -> None:
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, (2_000, 17))
    got = prc_id_check_digits(digits)
    want = [prc_id_check_digit("".join(map(str, row))) for row in digits]
    assert list(got) == want
    assert set(want) == set("0123456789X")


@pytest.mark.parametrize(
    "number",
    ["13812345678", "19912345678", "15000000000", "+8613812345678", "+14155552671", "+49301234"],
)
def test_valid_mobiles(number: str) -> None:
    assert is_valid_mobile(number)


@pytest.mark.parametrize(
    "number",
    [
        "12812345678",  # second digit 2
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "23812345678",
        "138-1234-5678",
        "+0123456789",  # country codes do not start with 0
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "8613812345678",  # international without +
        " 13812345678",
        "",
    ],
)
def test_invalid_mobiles(number: str) -> None:
    assert not is_valid_mobile(number)
