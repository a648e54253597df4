"""Contract files: exact amounts and rates, round trips through CSV and Parquet, determinism,
clear errors on unreadable values."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from postloan.contract import (
    ContractValueError,
    format_amount,
    format_rate,
    read_contract_files,
    read_contract_tables,
    write_contract_files,
)
from postloan.contract.codec import parse_column
from postloan.synth import SyntheticPortfolio, generate
from tests.conftest import examples
from tests.synth.conftest import AS_OF

PORTFOLIO_FRAMES = ("loans", "instalments", "cards", "statements", "payments")


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0.00"),
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (123_456_789, "1234567.89"),
        (-5, "-0.05"),
        (-123_456, "-1234.56"),
        (9_007_199_254_740_993, "90071992547409.93"),  # beyond float64's exact integers
    ],
)
def test_amounts_format_and_parse_exactly(cents: int, text: str) -> None:
    frame = pl.DataFrame({"a": [cents]})
    assert frame.select(format_amount(pl.col("a")))["a"][0] == text
    parsed = parse_column(pl.DataFrame({"a": [text]}), "a", "amount", "x.csv")
    assert parsed[0] == cents


@settings(max_examples=examples(0.2))
@given(st.lists(st.integers(-(10**17), 10**17), min_size=1, max_size=50))
def test_amount_round_trip_property(cents: list[int]) -> None:
    frame = pl.DataFrame({"a": cents}, schema={"a": pl.Int64})
    text = frame.select(format_amount(pl.col("a")))
    assert text["a"].to_list() == [
        f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in cents
    ]
    assert parse_column(text, "a", "amount", "x.csv").to_list() == cents


@settings(max_examples=examples(0.2))
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=50))
def test_rate_round_trip_property(units: list[int]) -> None:
    text = pl.DataFrame({"r": units}, schema={"r": pl.Int64}).select(format_rate(pl.col("r")))
    assert parse_column(text, "r", "rate", "x.csv").to_list() == units


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12", 1200), ("12.5", 1250), ("+3.10", 310), (" 7.00 ", 700), ("-0.5", -50), ("000.01", 1)],
)
def test_amount_spellings(text: str, cents: int) -> None:
    assert parse_column(pl.DataFrame({"a": [text]}), "a", "amount", "x.csv")[0] == cents


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (4_350_000, "0.0435"),
        (0, "0"),
        (100_000_000, "1"),
        (12_345_678, "0.12345678"),
        (24_000_000, "0.24"),
        (1, "0.00000001"),
    ],
)
def test_rates_format_and_parse_exactly(units: int, text: str) -> None:
    assert pl.DataFrame({"r": [units]}).select(format_rate(pl.col("r")))["r"][0] == text
    assert parse_column(pl.DataFrame({"r": [text]}), "r", "rate", "x.csv")[0] == units


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("amount", "12.345"),
        ("amount", "1,234.00"),
        ("amount", "abc"),
        ("amount", "1e5"),
        ("rate", "0.123456789"),
        ("rate", "4.35%"),
        ("date", "2024-02-30"),
        ("date", "2024/01/05"),
        ("integer", "12.0"),
        ("bool", "maybe"),
    ],
)
def test_unreadable_values_name_file_row_and_column(kind: str, value: str) -> None:
    good = {"amount": "1.00", "rate": "0.01", "date": "2024-01-31", "integer": "3", "bool": "true"}
    frame = pl.DataFrame({"col": [good[kind], good[kind], value, None]})
    with pytest.raises(ContractValueError) as err:
        parse_column(frame, "col", kind, "loans.csv")
    message = str(err.value)
    assert "loans.csv" in message and "row 3" in message and "line 4" in message
    assert "'col'" in message and repr(value) in message


def test_empty_values_are_null() -> None:
    frame = pl.DataFrame({"a": ["", None, "  "]})
    assert parse_column(frame, "a", "amount", "x.csv").null_count() == 3
    assert parse_column(frame, "a", "date", "x.csv").null_count() == 3


def _assert_round_trip(sp: SyntheticPortfolio, folder: Path) -> None:
    portfolio, customers, events = read_contract_files(folder)
    for name in PORTFOLIO_FRAMES:
        assert_frame_equal(getattr(portfolio, name), getattr(sp.portfolio, name))
    assert_frame_equal(customers, sp.customers)
    assert_frame_equal(events, sp.events)
    tables = read_contract_tables(folder)
    assert_frame_equal(tables.loans, sp.loans.drop("behaviour"))
    assert_frame_equal(tables.cards, sp.cards.drop("behaviour"))
    assert_frame_equal(tables.payments, sp.payments)
    assert_frame_equal(tables.statements, sp.statements)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip(sp_small: SyntheticPortfolio, tmp_path: Path, fmt: str) -> None:
    paths = write_contract_files(sp_small, tmp_path, fmt=fmt)
    assert set(paths) == {
        "customers",
        "loans",
        "schedules",
        "cards",
        "card_statements",
        "payments",
        "events",
    }
    assert all(p.suffix == f".{fmt}" and p.parent == tmp_path for p in paths.values())
    _assert_round_trip(sp_small, tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_with_full_schedules(
    sp_small: SyntheticPortfolio, tmp_path: Path, fmt: str
) -> None:
    write_contract_files(sp_small, tmp_path, fmt=fmt, include_schedules=True)
    tables = read_contract_tables(tmp_path)
    assert tables.schedules.height == sp_small.instalments.height
    _assert_round_trip(sp_small, tmp_path)


def test_csv_text(sp_small: SyntheticPortfolio, tmp_path: Path) -> None:
    paths = write_contract_files(sp_small, tmp_path)
    header = paths["loans"].read_text("utf-8").splitlines()[0]
    assert header.startswith("loan_id,customer_id,principal,annual_rate,term_months,")
    loans = pl.read_csv(paths["loans"], infer_schema=False)
    assert loans["principal"].str.contains(r"^[0-9]+\.[0-9]{2}$").all()
    assert loans["annual_rate"].str.contains(r"^0\.[0-9]{1,4}$").all()
    cards = pl.read_csv(paths["cards"], infer_schema=False)
    assert cards.columns == ["card_id", "customer_id", "credit_limit", "open_date", "close_date"]
    customers = pl.read_csv(paths["customers"], infer_schema=False)
    assert set(customers["consent_marketing"]) == {"true", "false"}
    assert "behaviour" not in loans.columns
    payments = pl.read_csv(paths["payments"], infer_schema=False)
    assert payments.columns == [
        "payment_id",
        "account_id",
        "value_date",
        "amount",
        "channel",
        "reverses_payment_id",
    ]


def test_parquet_keeps_amounts_as_decimal_strings(
    sp_small: SyntheticPortfolio, tmp_path: Path
) -> None:
    paths = write_contract_files(sp_small, tmp_path, fmt="parquet")
    schema = pl.read_parquet_schema(paths["payments"])
    assert schema["amount"] == pl.String
    assert schema["value_date"] == pl.Date


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files_are_byte_identical_for_the_same_seed(tmp_path: Path, fmt: str) -> None:
    a = write_contract_files(generate(1_000, 11, AS_OF), tmp_path / "a", fmt=fmt)
    b = write_contract_files(generate(1_000, 11, AS_OF), tmp_path / "b", fmt=fmt)
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind


def test_bad_value_in_a_file(sp_small: SyntheticPortfolio, tmp_path: Path) -> None:
    paths = write_contract_files(sp_small, tmp_path)
    lines = paths["payments"].read_text("utf-8").splitlines()
    fields = lines[5].split(",")
    fields[3] = "12.345"
    lines[5] = ",".join(fields)
    paths["payments"].write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(
        ContractValueError, match=r"payments\.csv: row 5 \(line 6\), column 'amount'"
    ):
        read_contract_files(tmp_path)


def test_missing_required_column(tmp_path: Path) -> None:
    pl.DataFrame({"loan_id": ["L1"], "customer_id": ["C1"]}).write_csv(tmp_path / "loans.csv")
    with pytest.raises(ValueError, match=r"loans\.csv: missing required column 'principal'"):
        read_contract_files(tmp_path)


def test_both_formats_present_is_an_error(sp_small: SyntheticPortfolio, tmp_path: Path) -> None:
    write_contract_files(sp_small, tmp_path, fmt="csv")
    write_contract_files(sp_small, tmp_path, fmt="parquet")
    with pytest.raises(ValueError, match=r"both customers\.csv and customers\.parquet"):
        read_contract_files(tmp_path)


def test_missing_files_give_empty_frames(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "card_id": ["C1"],
            "customer_id": ["K1"],
            "credit_limit": ["500"],
            "open_date": ["2024-01-01"],
        }
    ).write_csv(tmp_path / "cards.csv")
    portfolio, customers, events = read_contract_files(tmp_path)
    assert portfolio.loans.height == 0 and portfolio.instalments.height == 0
    assert portfolio.cards["credit_limit"].to_list() == [50_000]
    assert portfolio.cards["close_date"].null_count() == 1
    assert customers.height == 0 and events.height == 0
