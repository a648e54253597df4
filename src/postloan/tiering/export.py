"""`postloan export tiers --as-of D --out FILE`: one row per customer tiered on D — the columns
of `read.EXPORT_COLUMNS`, documented in docs/tiering.md (`abc` is empty only on rows tiered
before migration t002, `need` and `need_signals` on rows tiered before t004, until their date
is run again; `need_signals` is also empty when no signal was found). CSV (UTF-8, header
row, ISO dates) or Parquet by the file's extension; a sidecar `<file>.meta.json` names the
run's policy version, like the other exports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select

from postloan import __version__
from postloan.errors import InvalidError, NotFoundError
from postloan.store.db import engine_for
from postloan.tiering.read import EXPORT_COLUMNS, export_frame
from postloan.tiering.tables import tier_dates


def write_tiers(url: str, out: Path, as_of: date | None) -> int:
    """Write the tiers file of D; the rows written."""
    if as_of is None:
        raise InvalidError("tiers needs --as-of D", field="as_of")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(tier_dates.c.policy_version).where(tier_dates.c.as_of == as_of)
            ).first()
            if stored is None:
                raise NotFoundError(
                    f"no tiers stored for {as_of}: run `postloan run --as-of {as_of}` first",
                    field="as_of",
                )
            frame = export_frame(conn, as_of).select(list(EXPORT_COLUMNS))
    finally:
        engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"kind": "tiers", "as_of": as_of.isoformat(), "policy_version": stored[0],
            "rows": frame.height, "postloan_version": __version__}  # fmt: skip
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out, metadata={f"postloan.{k}": str(v) for k, v in meta.items()})
    else:
        frame.write_csv(out, date_format="%Y-%m-%d", null_value="")
    sidecar = out.with_name(out.name + ".meta.json")
    sidecar.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return frame.height
