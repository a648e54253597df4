"""Risk's section of the API's 360° view (`Area.customer_view`): the latest score, grade and
parts, the signals hit on that date and the watch-list state. Only what the daily run derives:
the view is cached by data version (last import, last run, policy), which an officer's
assessment does not change — the card (`GET /api/risk/customers/{id}`) has those."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from postloan.risk import read
from postloan.store.values import as_date

PARTS = ("credit", "capacity", "industry", "churn")


def customer_sections(conn: Connection, customer_id: str | None) -> dict[str, Any]:
    """`{"risk": {...}}`; `{"risk": null}` for None (a caller without `risk.view`) or a
    customer not scored yet."""
    if customer_id is None:
        return {"risk": None}
    card = read.card(conn, customer_id, history=1)
    latest = card.latest
    if latest is None:
        return {"risk": None}
    on_watch = next((w for w in card.watch if w.left_on is None), None)
    day = as_date(latest.as_of)
    return {"risk": {
        "as_of": None if day is None else day.isoformat(), "score": int(latest.score),
        "grade": latest.grade,
        "parts": {p: int(latest._mapping[f"{p}_points"]) for p in PARTS},
        "signals": [h.signal_id for h in card.hits],
        "on_watch_since": None if on_watch is None else str(as_date(on_watch.entered_on)),
    }}  # fmt: skip
