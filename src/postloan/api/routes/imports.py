"""Imports: upload one contract file; the same validation as `postloan import`."""

from __future__ import annotations

import logging
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path as FilePath
from typing import Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from postloan.access import audit
from postloan.access.permissions import Action
from postloan.access.users import User
from postloan.api.deps import get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES, ApiError, BadRequest, ErrorBody, Invalid
from postloan.api.workers import ImportCrashed, new_import_pool, run_import
from postloan.contract.spec import FILES
from postloan.imports.encoding import GB18030, EncodingRefused, encoding_name
from postloan.imports.service import KINDS, ImportFileError, ImportResult, file_columns

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/imports", tags=["imports"], responses=ERROR_RESPONSES)

Kind = Literal["customers", "loans", "schedules", "cards", "card-statements", "payments", "events"]
Encoding = Literal["utf-8", "gb18030", "gbk"]
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


class ImportFailed(ApiError):
    """The import could not finish for a reason on the server's side; nothing was imported."""

    status = 503
    code = "import_failed"


RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    503: {"model": ErrorBody, "description": "The import could not finish; nothing imported"},
}


def _check_columns(kind: str, path: FilePath, name: str, encoding: str) -> None:
    """The file must at least have the kind's required columns (422 naming them)."""
    columns = file_columns(path, encoding)
    missing = [c.name for c in FILES[KINDS[kind]] if c.required and c.name not in columns]
    if missing:
        raise Invalid(
            f"{name}: required columns missing: {', '.join(missing)}",
            field="file",
            code="missing_columns",
        )


def _refused(exc: ImportFileError, saved: FilePath, name: str) -> ApiError:
    """The import's own refusal, naming the file as the client sent it (the server saved it
    under another name) and, for an encoding, the form field that chooses one."""
    if isinstance(exc, EncodingRefused) and exc.detected == GB18030:
        return BadRequest(
            f"{name} is GB18030 (GBK), not UTF-8: convert it to UTF-8 or send"
            " encoding=gb18030 with the file",
            field="encoding",
            code="wrong_encoding",
        )
    message = str(exc).replace(saved.name, name)
    code = "wrong_encoding" if isinstance(exc, EncodingRefused) else "unreadable_file"
    return BadRequest(message, field="file", code=code)


def _import(request: Request, kind: str, path: FilePath, encoding: str) -> ImportResult:
    """`import_file` in the worker process. A worker that fails answers with what went wrong
    in words — never a path, a library's message or a traceback (those go to the log)."""
    try:
        return run_import(import_pool(request), kind, path, request.app.state.url, encoding)
    except ImportFileError:
        raise
    except BrokenProcessPool as exc:
        _discard_pool(request)  # the next upload starts a new worker
        log.error("import worker died importing %s", kind, exc_info=exc)
        raise ImportFailed(
            "the import worker stopped before it finished (it may have run out of memory);"
            " nothing was imported — try again, or import large files with `postloan import`"
        ) from exc
    except ImportCrashed as exc:
        log.error("import of %s failed in the worker: %s", kind, exc.detail)
        if exc.on == "content":
            raise BadRequest(
                "the file's values could not be processed; nothing was imported — check it"
                " against the data contract (the server log has the details)",
                field="file",
                code="unprocessable_file",
            ) from exc
        raise ImportFailed(
            "the store could not complete the import; nothing was imported — try again later"
            " (the server log has the details)"
        ) from exc


def import_pool(request: Request) -> ProcessPoolExecutor:
    """The app's one import worker process, started on first use."""
    state = request.app.state
    with state.lock:
        if getattr(state, "import_pool", None) is None:
            state.import_pool = new_import_pool()
        pool: ProcessPoolExecutor = state.import_pool
    return pool


def _discard_pool(request: Request) -> None:
    state = request.app.state
    with state.lock:
        pool, state.import_pool = getattr(state, "import_pool", None), None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)


@router.post("/{kind}", response_model=ImportOut, responses=RESPONSES)
def upload(
    request: Request,
    kind: Kind = Path(description="contract file kind"),
    file: UploadFile = File(description="a contract file, CSV (UTF-8) or Parquet"),
    encoding: Encoding | None = Form(
        None, description="text encoding of a CSV file: utf-8 (default) or gb18030 (gbk)"
    ),
    user: User = Depends(require(Action.IMPORT_RUN)),
    engine: Engine = Depends(get_engine),
) -> ImportOut:
    """Validate the file and land its good rows in one transaction; rejected rows come back
    with their reasons. Re-sending the same file changes nothing. (The upload's size limit is
    the server's `POSTLOAN_MAX_UPLOAD_MB`, see `api.body_limit`.)"""
    name = FilePath(file.filename or f"{kind}.csv").name
    suffix = FilePath(name).suffix.lower() or ".csv"
    if suffix not in SUFFIXES:
        raise BadRequest(f"{name}: send a .csv or .parquet file", field="file")
    chosen = encoding_name(encoding)
    with tempfile.TemporaryDirectory(prefix="postloan-upload-") as folder:
        path = FilePath(folder) / f"{kind.replace('-', '_')}{suffix}"
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 20):
                out.write(chunk)
        try:
            _check_columns(kind, path, name, chosen)
            result = _import(request, kind, path, chosen)
        except ImportFileError as exc:
            raise _refused(exc, path, name) from exc
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
