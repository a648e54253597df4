"""Imports: upload one contract file; the same validation as `postloan import`."""

from __future__ import annotations

import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path as FilePath
from typing import Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, File, Path, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from postloan.access import audit
from postloan.access.permissions import Action
from postloan.access.users import User
from postloan.api.deps import get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES, BadRequest, Invalid
from postloan.api.workers import new_import_pool, run_import
from postloan.contract.spec import FILES
from postloan.imports.service import KINDS, ImportFileError

router = APIRouter(prefix="/api/imports", tags=["imports"], responses=ERROR_RESPONSES)

Kind = Literal["customers", "loans", "schedules", "cards", "card-statements", "payments", "events"]
REJECTS_SHOWN = 1000
SUFFIXES = (".csv", ".parquet")


class ImportOut(BaseModel):
    kind: str
    file: str
    rows: int
    accepted: int
    unchanged: int
    rejected: int
    warnings: list[str]
    rejects: list[dict[str, Any]] = Field(
        description="rejected rows: the row as sent plus reject_row, column, value, reason"
    )
    rejects_truncated: bool


def _check_columns(kind: str, path: FilePath) -> None:
    """The file must at least have the kind's required columns (422 naming them)."""
    try:
        if path.suffix == ".parquet":
            columns = list(pl.read_parquet_schema(path))
        else:
            columns = pl.read_csv(path, n_rows=0, infer_schema=False, encoding="utf8").columns
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportFileError(f"{path.name}: cannot read as CSV or Parquet: {exc}") from exc
    missing = [c.name for c in FILES[KINDS[kind]] if c.required and c.name not in columns]
    if missing:
        raise Invalid(
            f"{path.name}: required columns missing: {', '.join(missing)}",
            field="file",
            code="missing_columns",
        )


def import_pool(request: Request) -> ProcessPoolExecutor:
    """The app's one import worker process, started on first use."""
    state = request.app.state
    with state.lock:
        if getattr(state, "import_pool", None) is None:
            state.import_pool = new_import_pool()
        pool: ProcessPoolExecutor = state.import_pool
    return pool


@router.post("/{kind}", response_model=ImportOut)
def upload(
    request: Request,
    kind: Kind = Path(description="contract file kind"),
    file: UploadFile = File(description="a contract file, CSV (UTF-8) or Parquet"),
    user: User = Depends(require(Action.IMPORT_RUN)),
    engine: Engine = Depends(get_engine),
) -> ImportOut:
    """Validate the file and land its good rows in one transaction; rejected rows come back
    with their reasons. Re-sending the same file changes nothing."""
    name = FilePath(file.filename or f"{kind}.csv").name
    suffix = FilePath(name).suffix.lower() or ".csv"
    if suffix not in SUFFIXES:
        raise BadRequest(f"{name}: send a .csv or .parquet file", field="file")
    with tempfile.TemporaryDirectory(prefix="postloan-upload-") as folder:
        path = FilePath(folder) / f"{kind.replace('-', '_')}{suffix}"
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        _check_columns(kind, path)
        try:
            result = run_import(import_pool(request), kind, path, request.app.state.url)
        except ImportFileError:
            raise
        except (ValueError, pl.exceptions.PolarsError) as exc:  # input the validator chokes on
            raise BadRequest(f"{name}: cannot import: {exc}", field="file",
                             code="unreadable_file") from exc  # fmt: skip
        rejects: list[dict[str, Any]] = []
        truncated = False
        if result.rejects_file is not None and result.rejects_file.exists():
            frame = (
                pl.read_parquet(result.rejects_file)
                if result.rejects_file.suffix == ".parquet"
                else pl.read_csv(result.rejects_file, infer_schema=False)
            )
            truncated = frame.height > REJECTS_SHOWN
            rejects = frame.head(REJECTS_SHOWN).cast(pl.String).to_dicts()
    with engine.connect() as conn:
        audit.record(
            conn, actor=user.username, action="import.run", target_type="import", target_id=kind,
            detail={"file": name, "rows": result.rows, "accepted": result.accepted,
                    "unchanged": result.unchanged, "rejected": result.rejected},
            now=now(),
        )  # fmt: skip
        conn.commit()
    return ImportOut(
        kind=kind,
        file=name,
        rows=result.rows,
        accepted=result.accepted,
        unchanged=result.unchanged,
        rejected=result.rejected,
        warnings=list(result.warnings),
        rejects=rejects,
        rejects_truncated=truncated,
    )
