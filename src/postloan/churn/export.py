"""`postloan export churn --as-of D --out FILE` (DATA_CONTRACT "Outputs"): one row per customer
identified as churned on D by the stored run of D — customer_id, as_of, the five rules
(`true`/`false`), first_identified, degree, grade, reason (empty when neither suggested nor
confirmed). CSV (UTF-8, header row, ISO dates) or Parquet by the file's extension; a sidecar
`<file>.meta.json` names the run's policy version, like the account-status export."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select

from postloan import __version__
from postloan.churn.read import EXPORT_COLUMNS, export_frame
from postloan.churn.tables import churn_dates
from postloan.errors import InvalidError, NotFoundError
from postloan.store.db import engine_for


def write_churn(url: str, out: Path, as_of: date | None) -> int:
    """Write the churn file of D; the rows written."""
    if as_of is None:
        raise InvalidError("churn needs --as-of D", field="as_of")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(churn_dates.c.policy_version).where(churn_dates.c.as_of == as_of)
            ).first()
            if stored is None:
                raise NotFoundError(
                    f"no churn identification stored for {as_of}: run `postloan run --as-of "
                    f"{as_of}` first",
                    field="as_of",
                )
            frame = export_frame(conn, as_of).select(list(EXPORT_COLUMNS))
    finally:
        engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"kind": "churn", "as_of": as_of.isoformat(), "policy_version": stored[0],
            "rows": frame.height, "postloan_version": __version__}  # fmt: skip
    if out.suffix.lower() == ".parquet":
        frame.write_parquet(out, metadata={f"postloan.{k}": str(v) for k, v in meta.items()})
    else:
        frame.write_csv(out, date_format="%Y-%m-%d", null_value="")
    sidecar = out.with_name(out.name + ".meta.json")
    sidecar.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return frame.height
