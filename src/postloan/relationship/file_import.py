"""What relationship's file imports (complaints, survey responses) share: the landing around
their own checks. One transaction holds the checks' queries, the good rows, the `imports`
record and one audit entry; the rejected rows go to `<file>.rejects.csv` beside the file (the
contract imports' shape); the answer is an `ImportResult` like every import's.

Each import brings its own `work`: check the file (adding to `Problems`), compare it with the
store, land the good rows and say what it did (`Landed`). This module never reads a column."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert

from postloan.access import audit
from postloan.imports.encoding import encoding_name
from postloan.imports.problems import Problems, per_row
from postloan.imports.service import ImportResult, read_raw
from postloan.store.db import engine_for
from postloan.store.schema import imports

CHUNK = 5000  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


@dataclass
class Landed:
    """What an import's `work` did: rows landed, the `_row`s of rows already stored with the
    same content, the file's warnings, and what its audit entry adds (beside the file's
    digest and the three counts)."""

    accepted: int
    unchanged: pl.Series
    warnings: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


Work = Callable[[Connection, pl.DataFrame, Problems], Landed]


def in_chunks(conn: Connection, query: Any, column: Any, values: list[Any]) -> list[Any]:
    """`query` restricted to `column IN values`, a chunk of ids per statement."""
    out: list[Any] = []
    for start in range(0, len(values), CHUNK):
        out += conn.execute(query.where(column.in_(values[start : start + CHUNK]))).all()
    return out


def land_file(
    url: str,
    path: Path,
    encoding: str | None,
    *,
    kind: str,
    audit_action: str,
    actor: str,
    now: datetime,
    work: Work,
) -> ImportResult:
    """Read `path`, run `work` in one transaction, record the import and (when rows landed)
    audit it; write the rejects file. A failure anywhere rolls everything back."""
    raw = read_raw(path, encoding_name(encoding))
    problems = Problems()
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            landed = work(conn, raw, problems)
            with path.open("rb") as source:
                digest = hashlib.file_digest(source, "sha256").hexdigest()
            rejected = int(problems.rows().len())
            unchanged = int(landed.unchanged.len())
            conn.execute(
                insert(imports).values(
                    kind=kind, file=str(path), sha256=digest, accepted=landed.accepted,
                    unchanged=unchanged, rejected=rejected, started_at=now,
                    finished_at=datetime.now(UTC),
                )
            )  # fmt: skip
            if landed.accepted:
                audit.record(
                    conn, actor=actor, action=audit_action, target_type="file",
                    target_id=path.name[-64:],
                    detail={"sha256": digest, "accepted": landed.accepted,
                            "unchanged": unchanged, "rejected": rejected, **landed.detail},
                    now=now,
                )  # fmt: skip
    finally:
        engine.dispose()
    return ImportResult(
        kind=kind,
        file=path,
        rows=raw.height,
        accepted=landed.accepted,
        unchanged=unchanged,
        rejected=rejected,
        rejects_file=write_rejects(raw, problems.frame(), path),
        warnings=landed.warnings,
    )


def good_rows(frame: pl.DataFrame, problems: Problems, unchanged: pl.Series) -> pl.DataFrame:
    """The rows to land: neither rejected nor already stored unchanged."""
    skip = pl.concat([problems.rows(), unchanged]).unique()
    return frame.filter(~pl.col("_row").is_in(skip.implode()))


def write_rejects(raw: pl.DataFrame, problems: pl.DataFrame, path: Path) -> Path | None:
    """`<file>.rejects.csv` beside the file: each rejected row as it was, with reject_row,
    reject_column, reject_value and every reason (the contract imports' shape)."""
    target = path.with_name(f"{path.stem}.rejects.csv")
    if problems.height == 0:
        target.unlink(missing_ok=True)  # a fixed file must not leave last run's rejects behind
        return None
    rejected = raw.join(per_row(problems), on="_row").rename({"_row": "reject_row"})
    rejected.write_csv(target)
    return target
