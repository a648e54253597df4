"""Relationship's complaints as churn events (CH-3: the suggested reason "service" is a
complaint). Read by SQL from relationship's `complaints` table — churn imports no relationship
module (an import-linter contract), the way risk reads churn's grades — and added to the
events grading reads as `complaint` events dated the day the complaint was received, exactly
like a `complaint` row of the contract's events file. Without the relationship area (no table)
the events are unchanged."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import Connection, Date, String, column, inspect, select, table

from postloan.churn.rules.frames import EVENTS
from postloan.store.values import stored_date

if TYPE_CHECKING:
    from postloan.churn.queries import ChurnFrames

# only the columns churn reads (a table clause: no metadata of relationship's)
complaints = table("complaints", column("customer_id", String), column("received_on", Date))


def with_complaints(conn: Connection, frames: ChurnFrames) -> ChurnFrames:
    """`frames` with every recorded complaint added to its events (one query)."""
    if not inspect(conn).has_table("complaints"):
        return frames
    rows = conn.execute(select(complaints.c.customer_id, complaints.c.received_on)).all()
    if not rows:
        return frames
    extra = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [stored_date(r[1]) for r in rows],
            "type": ["complaint"] * len(rows),
            "amount": [None] * len(rows),
        },
        schema=EVENTS,
    )
    return replace(frames, events=pl.concat([frames.events.cast(EVENTS), extra]))  # type: ignore[arg-type]
