"""Issue 10, defect 1, done-when: a 2,000-customer portfolio whose rare values come late in
every table read in bulk imports, re-imports (a no-op), runs, exports and re-imports — on
SQLite and PostgreSQL — and the run says what the engine says on the files themselves.

"Late" is what broke the run: the ADBC SQLite driver typed each result column from its first
1,024 rows, so a nullable column empty in all of them (a lender's first reversal at row 1,144)
crashed the first read that met a value. Here, in each read's own order, every nullable column
is empty for the first `HEAD` rows and set after them; the test checks that it is so before it
relies on it. Only plain SQLAlchemy reads are used for those checks, so the test runs (and
fails) on the code before the fix too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, func, select

from postloan.contract import read_contract_files, write_contract_files
from postloan.contract.files import write_contract_file
from postloan.engine import account_status
from postloan.imports.service import import_file
from postloan.policy import default_policy
from postloan.reports.export import write_account_status
from postloan.reports.store_export import export_account_status, export_kind
from postloan.runs.service import run_dates
from postloan.store import schema
from postloan.synth import SyntheticPortfolio, generate
from postloan.synth.order import plain_first

AS_OF = date(2026, 6, 30)
BATCH = 1_024  # rows the SQLite driver typed its columns from
HEAD = 1_100  # rows (in each read's order) whose optional columns are all empty

# The nullable columns of each table read in bulk, and the order the reads take.
OPTIONAL = {
    "customers": ("id_number", "phone", "address", "occupation", "industry", "monthly_income",
                  "total_assets", "total_liabilities", "bureau_score", "branch_id",
                  "consent_marketing", "consent_date"),
    "loans": ("first_due_date", "product", "purpose", "guarantee", "rate_type", "borrower_type",
              "currency", "branch_id", "officer_id"),
    "cards": ("close_date",),
    "payments": ("channel", "reverses_payment_id"),
    "events": ("account_id", "amount", "detail"),
}  # fmt: skip
EXTRA = {"customers": "email", "loans": "contract_no", "cards": "card_product"}
READ_ORDERS = {
    "customers": [["customer_id"]],
    "loans": [["account_id"]],
    "cards": [["account_id"]],
    "payments": [["payment_id"], ["account_id", "value_date"]],  # export; the run's load
    "events": [["event_id"]],
}


def _renumbered(ids: pl.Series, order: pl.Series, prefix: str) -> tuple[pl.Series, pl.Series]:
    """(old, new): ids handed out again in `order` (positions), keeping their width."""
    width = ids.str.len_chars().max() - len(prefix)  # type: ignore[operator]
    new = pl.int_range(1, ids.len() + 1, eager=True).cast(pl.String).str.zfill(width)
    return ids.gather(order), prefix + new


def _silent_cards_first(sp: SyntheticPortfolio) -> SyntheticPortfolio:
    """Cards (read first: 'C' sorts before 'L') in three tiers: HEAD open cards whose payments
    are dropped (so account status has no last payment date for them), then open cards that
    never bounced a payment (so the run's payment read starts with no reversal), then the rest.
    """
    bounced = sp.payments.filter(pl.col("reverses_payment_id").is_not_null())["account_id"]
    open_card = pl.col("close_date").is_null()
    tiers = sp.cards.with_row_index("generated").with_columns(
        pl.when(open_card & (open_card.cum_sum() <= HEAD))
        .then(0)
        .when(open_card & ~pl.col("account_id").is_in(bounced.implode()))
        .then(1)
        .otherwise(2)
        .alias("tier")
    )
    silent = tiers.filter(pl.col("tier") == 0)["account_id"]
    order = tiers.sort("tier", "generated")["generated"]
    old, new = _renumbered(sp.cards["account_id"], order, "C")

    def renumber(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
        return frame.with_columns(pl.col("account_id").replace(old, new)).sort(by)

    payments = sp.payments.filter(~pl.col("account_id").is_in(silent.implode()))
    return replace(
        sp,
        cards=renumber(sp.cards, ["account_id"]),
        statements=renumber(sp.statements, ["account_id", "statement_date"]),
        payments=renumber(payments, ["payment_id"]),
        events=renumber(sp.events, ["event_id"]),
    )


def _plain_payment_ids_first(sp: SyntheticPortfolio) -> SyntheticPortfolio:
    """After dropping payments, hand payment ids out again: non-reversals first."""
    pay = sp.payments
    old, new = _renumbered(
        pay["payment_id"], plain_first(pay["reverses_payment_id"].is_null()), "P"
    )
    renumbered = pay.with_columns(
        pl.col("payment_id").replace(old, new), pl.col("reverses_payment_id").replace(old, new)
    )
    return replace(sp, payments=renumbered.sort("payment_id"))


def _head(order: list[str]) -> pl.Expr:
    """True for a frame's first HEAD rows in `order`."""
    rank = pl.struct(order).rank("ordinal") if len(order) > 1 else pl.col(order[0]).rank("ordinal")
    return rank <= HEAD


def _empty_head(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The optional columns the generator always fills, emptied in every read's head."""
    in_head = pl.any_horizontal(_head(order) for order in READ_ORDERS[kind])
    keep = {"loans": ("first_due_date",), "cards": ("close_date",),
            "payments": ("reverses_payment_id",), "events": ("account_id", "amount")}  # fmt: skip
    blank = [c for c in OPTIONAL[kind] if c not in keep.get(kind, ())]
    return frame.with_columns(pl.when(~in_head).then(pl.col(c)).alias(c) for c in blank)


def late_rare_portfolio() -> SyntheticPortfolio:
    sp = generate(accounts=4_400, seed=29, as_of=AS_OF, customers=2_000, loan_share=0.5)
    sp = _plain_payment_ids_first(_silent_cards_first(sp))
    return replace(
        sp,
        customers=_empty_head(sp.customers, "customers"),
        loans=_empty_head(sp.loans, "loans"),
        payments=_empty_head(sp.payments, "payments"),
        events=_empty_head(sp.events, "events"),
    )


def _check_late(frame: pl.DataFrame, kind: str) -> None:
    """Every optional column: empty in the whole first batch of each read, set after it."""
    assert frame.height >= 2_000, kind
    for order in READ_ORDERS[kind]:
        ordered = frame.sort(order)
        for column in OPTIONAL[kind]:
            assert ordered[column][:BATCH].null_count() == BATCH, (kind, order, column)
            assert ordered[column][BATCH:].null_count() < frame.height - BATCH, (kind, column)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(whole, split): the contract files as they are, and the same rows with the customers,
    loans and cards each in two files — the first HEAD rows plain, the rest with an extra
    column, so the stored extra attributes are also empty first and set later."""
    sp = late_rare_portfolio()
    for kind in OPTIONAL:
        _check_late(getattr(sp, kind), kind)
    root = tmp_path_factory.mktemp("late")
    whole, split = root / "whole", root / "split"
    write_contract_files(sp, whole, fmt="csv")
    write_contract_files(sp, split, fmt="csv")
    for kind, column in EXTRA.items():
        frame = getattr(sp, kind).sort(READ_ORDERS[kind][0])
        key = READ_ORDERS[kind][0][0]
        write_contract_file(frame.head(HEAD), kind, split / f"{kind}.csv")
        rest = pl.read_csv(whole / f"{kind}.csv", infer_schema=False).filter(
            ~pl.col(key if kind == "customers" else f"{kind[:-1]}_id").is_in(
                frame.head(HEAD)[key].implode()
            )
        )
        rest.with_columns(
            (pl.lit(f"{column}-") + pl.int_range(pl.len()).cast(pl.String)).alias(column)
        ).write_csv(split / f"{kind}_more.csv")
    return whole, split


STEPS = (
    ("customers", "customers.csv"), ("customers", "customers_more.csv"),
    ("loans", "loans.csv"), ("loans", "loans_more.csv"), ("schedules", "schedules.csv"),
    ("cards", "cards.csv"), ("cards", "cards_more.csv"),
    ("card-statements", "card_statements.csv"), ("payments", "payments.csv"),
    ("events", "events.csv"),
)  # fmt: skip
EXPORTS = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


def _import_all(url: str, folder: Path, steps: tuple[tuple[str, str], ...]) -> list[int]:
    accepted = []
    for kind, name in steps:
        result = import_file(kind, folder / name, url)
        assert result.rejected == 0, (kind, name, result.rejects_file)
        accepted.append(result.accepted)
    return accepted


def _export_all(url: str, folder: Path) -> dict[str, bytes]:
    out = {}
    for kind in EXPORTS:
        path = folder / f"{kind.replace('-', '_')}.csv"
        export_kind(url, kind, path)
        out[kind] = path.read_bytes()
    return out


def _stored_extra_is_late(url: str) -> None:
    """The stored rows too: `extra` empty for the whole first batch of each table, then set."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table, key in ((schema.customers, "customer_id"), (schema.loans, "loan_id"),
                               (schema.cards, "card_id")):  # fmt: skip
                first = select(table.c.extra).order_by(table.c[key]).limit(BATCH).subquery()
                assert conn.scalar(select(func.count(first.c.extra))) == 0, table.name
                assert conn.scalar(select(func.count(table.c.extra))) > 0, table.name
    finally:
        engine.dispose()


def _status_without_payment_first(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            st = schema.account_status
            first = (
                select(st.c.last_payment_date)
                .where(st.c.as_of == AS_OF)
                .order_by(st.c.account_id)
                .limit(BATCH)
                .subquery()
            )
            assert conn.scalar(select(func.count(first.c.last_payment_date))) == 0
            assert conn.scalar(select(func.count(st.c.last_payment_date))) > 0
    finally:
        engine.dispose()


def test_late_rare_values_import_run_export_reimport(
    make_store, store_url: str, folders: tuple[Path, Path], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    whole, split = folders
    accepted = _import_all(store_url, split, STEPS)
    assert all(n > 0 for n in accepted)
    _stored_extra_is_late(store_url)
    # Re-importing every file changes nothing.
    assert _import_all(store_url, split, STEPS) == [0] * len(STEPS)

    policy = default_policy()
    assert run_dates(store_url, [AS_OF], policy).rows > 0
    _status_without_payment_first(store_url)
    exported_status = tmp_path / "status.csv"
    export_account_status(store_url, AS_OF, exported_status)
    # The run says what the engine says on the files themselves (`postloan status FOLDER`).
    portfolio, _, _ = read_contract_files(whole)
    engine_status = tmp_path / "engine.csv"
    write_account_status(
        account_status(portfolio, AS_OF, policy).sort("account_id"),
        engine_status,
        as_of=AS_OF,
        policy_version=policy.version,
    )
    assert exported_status.read_bytes() == engine_status.read_bytes()

    # Export everything, import it into an empty store, export again: identical files.
    first = _export_all(store_url, tmp_path / "out1")
    again_url = make_store("sqlite" if store_url.startswith("sqlite") else "postgresql")
    steps = tuple((kind, f"{kind.replace('-', '_')}.csv") for kind in EXPORTS)
    _import_all(again_url, tmp_path / "out1", steps)
    assert _export_all(again_url, tmp_path / "out2") == first
    payments = pl.read_csv(tmp_path / "out1" / "payments.csv", infer_schema=False)
    original = pl.read_csv(whole / "payments.csv", infer_schema=False)
    assert payments.sort("payment_id").equals(original.sort("payment_id"))
