"""Import one contract file into the store: validate, compare with the store, land the good rows.

Good rows land in one transaction together with the `imports` record; rejected rows are written
to `<file>.rejects.<csv|parquet>` beside the input with row number, column, value and reason.
A row whose id is already stored with the same content is a no-op, so re-importing a file
changes nothing; the same id with different content is rejected (the store never silently
changes history — corrections are new rows, e.g. a payment reversal).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Table, select

from postloan.contract.spec import FILES
from postloan.imports.encoding import UTF8, check_encoding, encoding_name, utf8_csv
from postloan.imports.errors import ImportFileError
from postloan.imports.problems import Problems, per_row
from postloan.imports.rules import KEYS, Known, check
from postloan.store import bulk, schema

KINDS = {  # command word -> contract file kind
    "customers": "customers",
    "loans": "loans",
    "schedules": "schedules",
    "cards": "cards",
    "card-statements": "card_statements",
    "payments": "payments",
    "events": "events",
}
TABLES = {"card_statements": "card_statements"}  # kind -> table, where they differ
WITH_EXTRA = {"customers", "loans", "cards"}
DEFAULTS: dict[str, dict[str, object]] = {
    "customers": {"id_type": "prc_id"},
    "card_statements": {"purchases": 0},
}


@dataclass
class ImportResult:
    kind: str
    file: Path
    rows: int
    accepted: int
    unchanged: int
    rejected: int
    rejects_file: Path | None
    warnings: list[str] = field(default_factory=list)


def read_raw(path: Path, encoding: str = UTF8, header_only: bool = False) -> pl.DataFrame:
    """Every column as text, plus `_row` (1-based data row; CSV line = row + 1). CSV files are
    read as UTF-8, or as `encoding` when told (`imports.encoding`); errors name the file by its
    name and the problem in the user's words."""
    if not path.is_file():
        raise ImportFileError(f"{path.name}: no such file")
    if path.suffix.lower() == ".parquet":
        frame = _read_parquet(path, header_only)
    else:
        frame = _read_csv(path, encoding, header_only)
    _check_header(path.name, frame.columns)
    return frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


def _read_csv(path: Path, encoding: str, header_only: bool) -> pl.DataFrame:
    rows = 0 if header_only else None
    try:
        with utf8_csv(path, encoding) as source:
            return pl.read_csv(source, infer_schema=False, encoding="utf8", n_rows=rows)
    except pl.exceptions.PolarsError as exc:
        if encoding == UTF8 and "utf-8" in str(exc).lower():
            check_encoding(path, UTF8)  # raises, saying what the file is instead
        raise ImportFileError(f"{path.name}: not a readable CSV file: {_csv_problem(exc)}") from exc
    except OSError as exc:
        raise ImportFileError(
            f"{path.name}: cannot be read ({exc.strerror or 'I/O error'})"
        ) from exc


def _check_header(name: str, columns: list[str]) -> None:
    """Column names a file must not have: none, twice (the CSV reader renames a repeat to
    `<name>_duplicated_<n>`), or the name of the row number added here."""
    unnamed = [str(i + 1) for i, c in enumerate(columns) if not c.strip()]
    if unnamed:
        raise ImportFileError(f"{name}: column {', '.join(unnamed)} of the header has no name")
    repeated = sorted({c.rsplit("_duplicated_", 1)[0] for c in columns if "_duplicated_" in c}
                      & set(columns))  # fmt: skip
    if repeated:
        raise ImportFileError(f"{name}: the header names a column twice: {', '.join(repeated)}")
    if "_row" in columns:
        raise ImportFileError(f"{name}: the column name _row is reserved; rename it")


def _csv_problem(exc: Exception) -> str:
    """What the CSV reader's complaint means, without its internals."""
    text = str(exc)
    if "empty" in text.lower():
        return "the file is empty"
    if "more fields" in text:
        return "a line has more fields than the header"
    if "escaped" in text or "quote" in text.lower():
        return "a quoted field is not closed"
    return "the lines do not form a CSV table"


def _read_parquet(path: Path, header_only: bool) -> pl.DataFrame:
    try:
        schema = pl.read_parquet_schema(path)
        unreadable = [n for n, t in schema.items() if t.is_nested() or t in (pl.Binary, pl.Object)]
        if unreadable:
            raise ImportFileError(
                f"{path.name}: columns {', '.join(unreadable)} hold lists, structs or binary"
                " values; contract columns are plain text, numbers or dates"
            )
        frame = pl.read_parquet(path, n_rows=0 if header_only else None)
        return frame.with_columns(pl.all().cast(pl.String))
    except pl.exceptions.PolarsError as exc:
        raise ImportFileError(f"{path.name}: not a readable Parquet file") from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: not a readable Parquet file") from exc


def file_columns(path: Path, encoding: str = UTF8) -> list[str]:
    """The file's column names (its header), read as `read_raw` reads the file."""
    return [c for c in read_raw(path, encoding, header_only=True).columns if c != "_row"]


def _table(kind: str) -> Table:
    return schema.metadata.tables[TABLES.get(kind, kind)]


def _ids(conn: object, table: str, column: str) -> pl.Series:
    return bulk.read(conn, select(schema.metadata.tables[table].c[column]))[column]


def _known(conn: object, kind: str) -> Known:
    need = {
        "customers": (),
        "loans": ("customers", "cards"),
        "schedules": ("loans", "loan_principal"),
        "cards": ("customers", "loans"),
        "card_statements": ("cards",),
        "payments": ("loans", "cards", "payments"),
        "events": ("customers", "loans", "cards"),
    }[kind]
    found: dict[str, object] = {}
    if "customers" in need:
        found["customers"] = _ids(conn, "customers", "customer_id")
    if "loans" in need:
        found["loans"] = _ids(conn, "loans", "loan_id")
    if "cards" in need:
        found["cards"] = _ids(conn, "cards", "card_id")
    if "payments" in need:
        found["payments"] = _ids(conn, "payments", "payment_id")
    if "loan_principal" in need:
        found["loan_principal"] = bulk.read(
            conn, select(schema.loans.c.loan_id, schema.loans.c.principal)
        )
    return Known(**found)  # type: ignore[arg-type]


def _content_columns(kind: str, typed: pl.DataFrame) -> list[str]:
    cols = [c.name for c in FILES[kind] if c.name in typed.columns]
    return cols + (["extra"] if "extra" in typed.columns else [])


def _in_file_duplicates(kind: str, typed: pl.DataFrame, problems: Problems) -> pl.Series:
    """Rows to skip as exact repeats; conflicting repeats of an id become problems."""
    key = list(KEYS[kind])
    content = _content_columns(kind, typed)
    marked = typed.with_columns(
        pl.struct(content).hash().alias("_h"),
        pl.len().over(key).alias("_n"),
    ).filter(pl.col("_n") > 1)
    if marked.height == 0:
        return pl.Series("_row", [], dtype=pl.Int64)
    groups = marked.with_columns(
        pl.col("_h").n_unique().over(key).alias("_variants"),
        pl.col("_row").min().over(key).alias("_first"),
    )
    conflicting = groups.filter(pl.col("_variants") > 1)
    problems.add(
        conflicting, pl.lit(True), key[-1], "the same id appears in this file with different values"
    )
    repeats = groups.filter((pl.col("_variants") == 1) & (pl.col("_row") != pl.col("_first")))
    return repeats["_row"]


def _against_store(
    conn: object, kind: str, typed: pl.DataFrame, problems: Problems
) -> tuple[pl.Series, int]:
    """Rows already stored identically (no-ops; their `_row`s), stored with other values ->
    problems; and how many rows the table holds."""
    table = _table(kind)
    key = list(KEYS[kind])
    content = _content_columns(kind, typed)
    stored = bulk.read(
        conn, select(*(table.c[name] for name in content)), typed.select(content).schema
    )
    none = pl.Series("_row", [], dtype=pl.Int64)
    if stored.height == 0:
        return none, 0
    joined = typed.join(stored, on=key, how="inner", suffix="_stored")
    if joined.height == 0:
        return none, stored.height
    others = [c for c in content if c not in key]
    differs = [pl.col(c).ne_missing(pl.col(f"{c}_stored")) for c in others]
    if not differs:
        return joined["_row"], stored.height
    flagged = joined.with_columns(pl.any_horizontal(differs).alias("_changed"))
    changed = flagged.filter(pl.col("_changed"))
    if changed.height:
        first_diff = pl.coalesce(
            [pl.when(d).then(pl.lit(c)) for c, d in zip(others, differs, strict=True)]
        )
        rows = changed.select(
            "_row",
            first_diff.alias("column"),
            pl.lit(None, dtype=pl.String).alias("value"),
            pl.lit("already in the store with different values (corrections need a new id)").alias(
                "reason"
            ),
        )
        problems.add_rows(rows)
    return flagged.filter(~pl.col("_changed"))["_row"], stored.height


def _orphaned_reversals(typed: pl.DataFrame, problems: Problems) -> None:
    """A reversal of a payment rejected in this same file cannot land either."""
    if "reverses_payment_id" not in typed.columns:
        return
    rejected = typed.filter(pl.col("_row").is_in(problems.rows().implode()))["payment_id"]
    orphan = pl.col("reverses_payment_id").is_in(rejected.drop_nulls().implode())
    problems.add(typed, orphan, "reverses_payment_id", "reverses a payment rejected in this file")


def _with_extra(
    kind: str, raw: pl.DataFrame, typed: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    known = {c.name for c in FILES[kind]} | {"_row"}
    extra = [c for c in raw.columns if c not in known]
    if not extra:
        return typed, []
    if kind in WITH_EXTRA:
        packed = raw.select(pl.struct(extra).struct.json_encode().alias("extra"))
        note = f"kept extra columns as attributes: {', '.join(extra)}"
        return typed.with_columns(packed["extra"]), [note]
    return typed, [f"ignored columns not in the contract: {', '.join(extra)}"]


def _rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects{path.suffix}")


def _write_rejects(raw: pl.DataFrame, problems: pl.DataFrame, path: Path) -> Path | None:
    target = _rejects_path(path)
    if problems.height == 0:
        target.unlink(missing_ok=True)  # a fixed file must not leave last run's rejects behind
        return None
    lines = per_row(problems)
    rejected = raw.join(lines, on="_row").rename({"_row": "reject_row"})
    if target.suffix.lower() == ".parquet":
        rejected.write_parquet(target)
    else:
        rejected.write_csv(target)
    return target


def import_file(kind_word: str, path: Path, url: str, encoding: str | None = None) -> ImportResult:
    """Validate and import one file (CSV in UTF-8, or `encoding`); see the module docstring."""
    if kind_word not in KINDS:
        raise ImportFileError(f"unknown kind {kind_word!r}: one of {', '.join(KINDS)}")
    kind = KINDS[kind_word]
    started = datetime.now(UTC)
    raw = read_raw(path, encoding_name(encoding))
    with bulk.connect(url) as conn:
        typed, problems = check(kind, raw, _known(conn, kind))
        for column, value in DEFAULTS.get(kind, {}).items():
            if column in typed.columns:
                typed = typed.with_columns(pl.col(column).fill_null(value))
        if kind == "customers" and "id_number" in typed.columns:
            typed = typed.with_columns(pl.col("id_number").str.to_uppercase())
        typed, warnings = _with_extra(kind, raw, typed)
        if all(k in typed.columns for k in KEYS[kind]):
            repeats = _in_file_duplicates(kind, typed, problems)
            unchanged, stored_rows = _against_store(conn, kind, typed, problems)
        else:  # without its id columns every row is already rejected as incomplete
            repeats = unchanged = pl.Series("_row", [], dtype=pl.Int64)
            stored_rows = 0
        if kind == "payments":
            _orphaned_reversals(typed, problems)
        bad_rows = problems.rows()
        skip = pl.concat([repeats, unchanged, bad_rows]).unique()
        good = typed.filter(~pl.col("_row").is_in(skip.implode())).drop("_row")
        accepted = bulk.ingest_large(conn, TABLES.get(kind, kind), good, stored_rows)
        with path.open("rb") as source:  # streamed: an import file can be gigabytes
            digest = hashlib.file_digest(source, "sha256").hexdigest()
        bulk.execute(
            conn,
            "INSERT INTO imports (kind, file, sha256, accepted, unchanged, rejected, started_at,"
            " finished_at) VALUES (" + bulk.placeholders(conn, "ssiiiitt") + ")",
            (
                kind,
                str(path),
                digest,
                accepted,
                int(unchanged.len() + repeats.len()),
                int(bad_rows.len()),
                started.isoformat(),
                datetime.now(UTC).isoformat(),
            ),
        )
        conn.commit()
    rejects = _write_rejects(raw, problems.frame(), path)
    return ImportResult(
        kind=kind_word,
        file=path,
        rows=raw.height,
        accepted=accepted,
        unchanged=int(unchanged.len() + repeats.len()),
        rejected=int(bad_rows.len()),
        rejects_file=rejects,
        warnings=warnings,
    )
