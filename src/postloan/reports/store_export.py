"""`postloan export`: the store's data back out as contract files.

Exporting every kind and importing the files into an empty store gives identical data: amounts
and rates are written exactly, and columns kept as extra attributes come back as columns.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sqlalchemy import select

from postloan.contract.files import to_contract
from postloan.contract.spec import FILES
from postloan.engine.frames import ACCOUNT_STATUS
from postloan.imports.rules import KEYS
from postloan.imports.service import KINDS, TABLES, WITH_EXTRA
from postloan.reports.export import write_account_status
from postloan.store import bulk
from postloan.store import schema as tables


class ExportError(ValueError):
    """Nothing to export for the request (e.g. no run stored for that date)."""


def _write(frame: pl.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out)
    else:
        frame.write_csv(out, date_format="%Y-%m-%d", null_value="")


def export_kind(url: str, kind_word: str, out: Path) -> int:
    """Write one input kind (customers, loans, …) from the store as a contract file."""
    kind = KINDS[kind_word]
    spec = FILES[kind]
    table = tables.metadata.tables[TABLES.get(kind, kind)]
    columns = [c.name for c in spec] + (["extra"] if kind in WITH_EXTRA else [])
    schema = {c.name: c.dtype or _dtype(c.kind) for c in spec}
    with bulk.connect(url) as conn:
        stored = bulk.read(
            conn,
            select(*(table.c[name] for name in columns)).order_by(
                *(table.c[key] for key in KEYS[kind])
            ),
            schema,
        )
    engine_named = stored.rename({c.name: c.engine for c in spec if c.name != c.engine})
    frame = to_contract(engine_named, kind)
    if "extra" in stored.columns and stored["extra"].drop_nulls().len():
        # Extra attributes were kept as text; their names are the union of the JSON keys.
        keys = stored["extra"].str.extract_all(r'"((?:[^"\\]|\\.)*)"\s*:').explode().drop_nulls()
        names = sorted({k[1:].rsplit('"', 1)[0] for k in keys.unique().to_list()})
        dtype = pl.Struct({name: pl.String for name in names})
        extra = stored.select(pl.col("extra").str.json_decode(dtype)).unnest("extra")
        frame = pl.concat([frame, extra], how="horizontal")
    _write(frame, out)
    return frame.height


def _dtype(kind: str) -> type[pl.DataType]:
    return {"amount": pl.Int64, "rate": pl.Int64, "integer": pl.Int64, "date": pl.Date,
            "bool": pl.Boolean}.get(kind, pl.String)  # fmt: skip


def export_account_status(url: str, as_of: date, out: Path) -> int:
    """Write the stored account status of D exactly per the contract."""
    status_rows = tables.account_status
    with bulk.connect(url) as conn:
        stored = bulk.read(
            conn,
            select(*(status_rows.c[name] for name in ACCOUNT_STATUS), status_rows.c.run_id)
            .where(status_rows.c.as_of == as_of)
            .order_by(status_rows.c.account_id),
            ACCOUNT_STATUS,
        )
        if stored.height == 0:
            raise ExportError(f"no account status stored for {as_of}: run `postloan run` first")
        run_id = int(stored["run_id"][0])
        version = bulk.read(
            conn, select(tables.runs.c.policy_version).where(tables.runs.c.run_id == run_id)
        )["policy_version"][0]
    status = stored.drop("run_id")
    write_account_status(status, out, as_of=as_of, policy_version=str(version))
    return status.height
