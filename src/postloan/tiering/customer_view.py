"""Tiering's section of a customer's 360° view (`Area.customer_view`): the tier on the latest
tiered date (classes, qualified and held tier, floors, RFM, figures) and the recent history.
Read fresh per request. The hook is called for callers who may see the customer's accounts and
hold `tiering.view` (else with None: empty)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from postloan.store.values import stored_date
from postloan.tiering import read
from postloan.tiering.card import CLASSES, FIGURES

HISTORY_SHOWN = 24


def customer_sections(conn: Connection, customer_id: str | None) -> dict[str, Any]:
    """`{"tiering": {...}}`; `{"tiering": null}` for None."""
    if customer_id is None:
        return {"tiering": None}
    rows = read.customer_history(conn, customer_id, HISTORY_SHOWN)
    latest = read.latest_date(conn)
    current = None
    if rows and latest is not None and stored_date(rows[0].as_of) == latest:
        r = rows[0]._mapping
        current = {k: r[k] for k in (*CLASSES, *FIGURES)}
        current["open_case"] = bool(current["open_case"])
    return {"tiering": {
        "as_of": None if latest is None else latest.isoformat(),
        "current": current,
        "history": [{"as_of": stored_date(r.as_of).isoformat(), "tier": r.tier} for r in rows],
    }}  # fmt: skip
