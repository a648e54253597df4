"""Row checks for each DATA_CONTRACT file kind (pure and vectorised: frames in, frames out).

`check(kind, raw, known)` parses a file's rows (all text, with `_row`, the 1-based data row
number) into typed columns and lists every problem as (row, column, value, reason). Checks that
need the store receive its ids in `Known`; duplicates are judged by the service, which sees
the store's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from postloan.contract.codec import describe, try_parse_column
from postloan.contract.spec import FILES
from postloan.ids import valid_mobiles, valid_prc_ids
from postloan.imports.problems import Problems

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("loans", "repayment_method"): ("equal_installment", "equal_principal", "interest_only"),
    ("loans", "purpose"): (
        "consumer", "business", "housing", "working_capital", "fixed_asset", "project", "other",
    ),
    ("loans", "guarantee"): ("unsecured", "mortgage", "pledge", "guarantee"),
    ("loans", "rate_type"): ("fixed", "floating"),
    ("events", "type"): (
        "application", "account_closed", "transfer_out", "contact", "explanation", "complaint",
        "lawsuit", "bureau_update", "income_change", "asset_transfer",
    ),
}  # fmt: skip

KEYS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "loans": ("loan_id",),
    "schedules": ("loan_id", "period"),
    "cards": ("card_id",),
    "card_statements": ("card_id", "statement_date"),
    "payments": ("payment_id",),
    "events": ("event_id",),
}


def _empty_ids() -> pl.Series:
    return pl.Series([], dtype=pl.String)


@dataclass(frozen=True)
class Known:
    """Ids already in the store (plus, for payments, the file's own ids)."""

    customers: pl.Series = field(default_factory=_empty_ids)
    loans: pl.Series = field(default_factory=_empty_ids)
    cards: pl.Series = field(default_factory=_empty_ids)
    payments: pl.Series = field(default_factory=_empty_ids)
    loan_principal: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"loan_id": pl.String, "principal": pl.Int64})
    )


def _in(column: str, ids: pl.Series) -> pl.Expr:
    return pl.col(column).is_in(ids.implode())


def check(kind: str, raw: pl.DataFrame, known: Known) -> tuple[pl.DataFrame, Problems]:
    """Typed rows (with `_row`) and the problems found; rows with problems are still in the
    typed frame — the caller drops the rows `problems` names."""
    problems = Problems()
    spec = FILES[kind]
    for col in spec:
        if col.required and col.name not in raw.columns:
            problems.add(raw, pl.lit(True), col.name, "required column is missing from the file")
    columns = {"_row": raw["_row"]}
    for col in spec:
        if col.name not in raw.columns:
            continue
        value, bad = try_parse_column(raw, col.name, col.kind)
        problems.add(raw, bad, col.name, f"cannot read as {describe(col.kind)}")
        if col.required:
            problems.add(raw, value.is_null() & ~bad, col.name, "required value is empty")
        columns[col.name] = value.cast(col.dtype) if col.dtype else value
    typed = pl.DataFrame(columns)
    for (enum_kind, column), allowed in ENUMS.items():
        if enum_kind == kind and column in typed.columns:
            bad_enum = pl.col(column).is_not_null() & ~pl.col(column).is_in(allowed)
            problems.add(typed, bad_enum, column, f"must be one of {', '.join(allowed)}")
    CHECKS[kind](typed, known, problems)
    return typed, problems


def _has(frame: pl.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns for c in columns)


def _not_negative(frame: pl.DataFrame, problems: Problems, *columns: str) -> None:
    for column in columns:
        if column in frame.columns:
            problems.add(frame, pl.col(column) < 0, column, "must not be negative")


def _customers(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    _not_negative(frame, problems, "monthly_income", "total_assets", "total_liabilities")
    if _has(frame, "id_number"):
        prc = (
            pl.col("id_type").fill_null("prc_id") == "prc_id"
            if _has(frame, "id_type")
            else pl.lit(True)
        )
        given = frame.select(pl.col("id_number").str.to_uppercase(), prc.alias("_prc"))
        bad = given["_prc"] & given["id_number"].is_not_null() & ~valid_prc_ids(given["id_number"])
        problems.add(
            frame,
            bad,
            "id_number",
            "not a valid PRC resident ID (18 characters, birth date, GB 11643 check digit)",
        )
    if _has(frame, "phone"):
        bad = frame["phone"].is_not_null() & ~valid_mobiles(frame["phone"])
        problems.add(frame, bad, "phone", "not a PRC mobile (1[3-9] + 9 digits) or E.164 number")


def _loans(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    if _has(frame, "principal"):
        problems.add(frame, pl.col("principal") <= 0, "principal", "must be greater than 0")
    _not_negative(frame, problems, "annual_rate")
    if _has(frame, "term_months"):
        problems.add(frame, pl.col("term_months") < 1, "term_months", "must be at least 1")
    if _has(frame, "first_due_date", "disbursement_date"):
        early = pl.col("first_due_date") <= pl.col("disbursement_date")
        problems.add(frame, early, "first_due_date", "must be after the disbursement date")
    if _has(frame, "customer_id"):
        problems.add(frame, ~_in("customer_id", known.customers), "customer_id", "no such customer")
    if _has(frame, "loan_id"):
        problems.add(frame, _in("loan_id", known.cards), "loan_id", "already used by a card")


def _schedules(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    _not_negative(frame, problems, "principal_due", "interest_due")
    if _has(frame, "period"):
        problems.add(frame, pl.col("period") < 1, "period", "must be at least 1")
    if not _has(frame, "loan_id"):
        return
    problems.add(frame, ~_in("loan_id", known.loans), "loan_id", "no such loan")
    if _has(frame, "principal_due"):
        # An imported schedule replaces the loan's whole schedule, so it must repay the loan.
        sums = frame.group_by("loan_id").agg(pl.col("principal_due").sum().alias("_sum"))
        off = sums.join(known.loan_principal, on="loan_id").filter(
            pl.col("_sum") != pl.col("principal")
        )
        mismatch = frame.join(off, on="loan_id", how="semi")
        problems.add(
            mismatch,
            pl.lit(True),
            "principal_due",
            "the loan's schedule rows must sum to its principal",
        )


def _cards(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    _not_negative(frame, problems, "credit_limit")
    if _has(frame, "close_date", "open_date"):
        problems.add(
            frame, pl.col("close_date") < pl.col("open_date"), "close_date", "before the open date"
        )
    if _has(frame, "customer_id"):
        problems.add(frame, ~_in("customer_id", known.customers), "customer_id", "no such customer")
    if _has(frame, "card_id"):
        problems.add(frame, _in("card_id", known.loans), "card_id", "already used by a loan")


def _card_statements(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    _not_negative(frame, problems, "minimum_due", "purchases")
    if _has(frame, "due_date", "statement_date"):
        early = pl.col("due_date") <= pl.col("statement_date")
        problems.add(frame, early, "due_date", "must be after the statement date")
    if _has(frame, "card_id"):
        problems.add(frame, ~_in("card_id", known.cards), "card_id", "no such card")


def _payments(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    if _has(frame, "amount"):
        problems.add(frame, pl.col("amount") <= 0, "amount", "must be greater than 0")
    if _has(frame, "account_id"):
        accounts = pl.concat([known.loans, known.cards])
        problems.add(frame, ~_in("account_id", accounts), "account_id", "no such loan or card")
    if _has(frame, "reverses_payment_id", "payment_id"):
        targets = pl.concat([known.payments, frame["payment_id"].drop_nulls()])
        rev = pl.col("reverses_payment_id")
        missing = rev.is_not_null() & ~rev.is_in(targets.implode())
        problems.add(frame, missing, "reverses_payment_id", "no such payment to reverse")
        problems.add(
            frame,
            rev == pl.col("payment_id"),
            "reverses_payment_id",
            "a payment cannot reverse itself",
        )


def _events(frame: pl.DataFrame, known: Known, problems: Problems) -> None:
    if _has(frame, "customer_id"):
        problems.add(frame, ~_in("customer_id", known.customers), "customer_id", "no such customer")
    if _has(frame, "account_id"):
        accounts = pl.concat([known.loans, known.cards])
        bad = pl.col("account_id").is_not_null() & ~_in("account_id", accounts)
        problems.add(frame, bad, "account_id", "no such loan or card")


CHECKS: dict[str, Callable[[pl.DataFrame, Known, Problems], None]] = {
    "customers": _customers,
    "loans": _loans,
    "schedules": _schedules,
    "cards": _cards,
    "card_statements": _card_statements,
    "payments": _payments,
    "events": _events,
}
