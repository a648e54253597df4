"""Write a portfolio as DATA_CONTRACT files and read such files back into engine frames.

`write_contract_files(sp, folder, fmt)` writes customers, loans, cards, card_statements,
payments, events (CSV or Parquet; amounts and rates as exact decimal strings in both) and a
`schedules` file: the full schedules with `include_schedules=True`, otherwise only the revised
schedules (early payoffs) — without those the import would regenerate the original schedules
and the paid-off loans would fall overdue.

`read_contract_files(folder)` is a light loader, not the validating import: it parses every
value exactly (amounts -> cents, rates -> 1e-8, ISO dates) and raises on the first value it
cannot read, naming file, row and column, but checks no business rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import polars as pl

from postloan.contract.codec import format_amount, format_rate, parse_column
from postloan.contract.spec import FILES, engine_dtype, engine_schema, widen
from postloan.engine.frames import (
    CARDS,
    INSTALMENTS,
    LOANS,
    PAYMENTS,
    STATEMENTS,
    Portfolio,
    conform,
    empty,
)
from postloan.ledger import generate_instalments, override_instalments

Format = Literal["csv", "parquet"]


class ContractSource(Protocol):
    """What `write_contract_files` needs (a `postloan.synth.SyntheticPortfolio` is one)."""

    @property
    def customers(self) -> pl.DataFrame: ...
    @property
    def loans(self) -> pl.DataFrame: ...
    @property
    def instalments(self) -> pl.DataFrame: ...
    @property
    def schedule_overrides(self) -> pl.DataFrame: ...
    @property
    def cards(self) -> pl.DataFrame: ...
    @property
    def statements(self) -> pl.DataFrame: ...
    @property
    def payments(self) -> pl.DataFrame: ...
    @property
    def events(self) -> pl.DataFrame: ...


@dataclass(frozen=True)
class ContractTables:
    """Every contract file in engine units, with `account_id` for loan_id / card_id and any
    extra columns kept as text. `schedules` is empty when the file is absent."""

    customers: pl.DataFrame
    loans: pl.DataFrame
    schedules: pl.DataFrame
    cards: pl.DataFrame
    statements: pl.DataFrame
    payments: pl.DataFrame
    events: pl.DataFrame


def write_contract_files(
    sp: ContractSource,
    folder: str | Path,
    fmt: Format = "csv",
    include_schedules: bool = False,
) -> dict[str, Path]:
    """Write the contract files of `sp` into `folder` (created if needed); returns their paths."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    frames = {
        "customers": sp.customers,
        "loans": sp.loans,
        "schedules": sp.instalments if include_schedules else sp.schedule_overrides,
        "cards": sp.cards,
        "card_statements": sp.statements,
        "payments": sp.payments,
        "events": sp.events,
    }
    paths: dict[str, Path] = {}
    for kind, frame in frames.items():
        if kind == "schedules" and frame.height == 0:
            continue
        paths[kind] = write_contract_file(frame, kind, out / f"{kind}.{fmt}")
    return paths


def write_contract_file(frame: pl.DataFrame, kind: str, path: Path) -> Path:
    """One engine frame as the contract file `kind` (format from the path's suffix)."""
    table = to_contract(frame, kind)
    if path.suffix == ".parquet":
        table.write_parquet(path, compression="zstd", statistics=False)
    else:
        table.write_csv(path, date_format="%Y-%m-%d", null_value="")
    return path


def to_contract(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """Engine columns -> contract columns: names, decimal strings for amounts and rates."""
    exprs = []
    for col in FILES[kind]:
        if col.engine not in frame.columns:
            if col.required:
                raise ValueError(f"{kind}: missing column {col.engine!r}")
            continue
        src = pl.col(col.engine)
        if col.kind == "amount":
            src = format_amount(src)
        elif col.kind == "rate":
            src = format_rate(src)
        exprs.append(src.alias(col.name))
    return frame.select(exprs)


def read_contract_files(folder: str | Path) -> tuple[Portfolio, pl.DataFrame, pl.DataFrame]:
    """Contract files in `folder` -> (engine Portfolio, customers, events).

    Loan schedules are generated from the loans (`ledger.generate_instalments`) and replaced,
    loan by loan, by the rows of a `schedules` file when there is one.
    """
    tables = read_contract_tables(folder)
    return portfolio_of(tables), tables.customers, tables.events


def portfolio_of(tables: ContractTables) -> Portfolio:
    """Parsed contract tables -> the engine's Portfolio: schedules generated from the loans,
    replaced loan by loan by the `schedules` rows (the one place this is done, so the
    single-machine path and `postloan.spark`'s partitions build portfolios alike)."""
    loans = conform(tables.loans, widen(LOANS))
    instalments = generate_instalments(loans) if loans.height else empty(widen(INSTALMENTS))
    if tables.schedules.height:
        instalments = override_instalments(instalments, tables.schedules)
    portfolio = Portfolio(
        loans=loans,
        instalments=instalments,
        cards=conform(tables.cards, widen(CARDS)),
        statements=conform(tables.statements, widen(STATEMENTS)),
        payments=conform(tables.payments, widen(PAYMENTS)),
    )
    return portfolio


def read_contract_tables(folder: str | Path) -> ContractTables:
    """Every contract file in `folder`, parsed; a missing file gives an empty frame."""
    base = Path(folder)
    frames = {kind: read_contract_file(base, kind) for kind in FILES}
    statements = frames["card_statements"].with_columns(pl.col("purchases").fill_null(0))
    return ContractTables(
        customers=frames["customers"],
        loans=frames["loans"],
        schedules=frames["schedules"],
        cards=frames["cards"],
        statements=statements,
        payments=frames["payments"],
        events=frames["events"],
    )


def read_contract_file(folder: Path, kind: str) -> pl.DataFrame:
    """`folder/<kind>.csv` or `.parquet` parsed into engine columns (empty if neither exists)."""
    found = [p for p in (folder / f"{kind}.csv", folder / f"{kind}.parquet") if p.exists()]
    if len(found) > 1:
        raise ValueError(f"{kind}: both {found[0].name} and {found[1].name} in {folder}")
    if not found:
        return pl.DataFrame(schema=engine_schema(kind))
    path = found[0]
    try:
        if path.suffix == ".csv":
            raw = pl.read_csv(path, infer_schema=False)
        else:
            raw = pl.read_parquet(path)
    except pl.exceptions.PolarsError as exc:
        if "utf-8" in str(exc).lower():
            raise ValueError(_not_utf8(path)) from exc
        raise ValueError(f"{path.name}: not a readable {path.suffix[1:].upper()} file") from exc
    return parse_contract(raw, kind, path.name)


def _not_utf8(path: Path) -> str:
    """The refusal of a contract file that is not UTF-8, naming what it is (`imports.encoding`)."""
    from postloan.imports.encoding import UTF8, EncodingRefused, check_encoding

    what = None
    try:
        check_encoding(path, UTF8)
    except EncodingRefused as refused:
        what = {"gb18030": "GB18030 (GBK)", "utf-16": "UTF-16"}.get(refused.detected or "")
    if what:
        return f"{path.name} is {what}, not UTF-8: convert it to UTF-8"
    return f"{path.name} is not UTF-8 text: convert it to UTF-8"


def parse_contract(raw: pl.DataFrame, kind: str, file: str) -> pl.DataFrame:
    """String columns of one contract file -> engine columns (extra columns kept as text)."""
    columns = []
    for col in FILES[kind]:
        if col.name not in raw.columns:
            if col.required:
                raise ValueError(f"{file}: missing required column {col.name!r}")
            columns.append(pl.Series(col.engine, [None] * raw.height, dtype=engine_dtype(col)))
            continue
        value = parse_column(raw, col.name, col.kind, file)
        columns.append(value.cast(engine_dtype(col)).alias(col.engine))
    known = {c.name for c in FILES[kind]}
    extras = [raw[name].cast(pl.String) for name in raw.columns if name not in known]
    return pl.DataFrame([*columns, *extras])
