"""Tiering's SQL: what the daily step reads and writes. Everything runs on the run's
connection inside its one transaction (a step opens no bulk connection: `area.RunInputs`).

Collections' cases and churn's identification are read by SQL from their tables (named here,
not imported: areas reach each other only through what they publish, and a table is read-only
to every area but its owner).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Connection, column, delete, func, insert, inspect, select, table

from postloan.store import schema
from postloan.store.values import stored_date
from postloan.tiering.rules.frames import CASES, CUSTOMERS, LOANS, STATE, STATUS
from postloan.tiering.tables import tier_assignments, tier_dates

CHUNK = 1000  # rows per INSERT batch / ids per IN list

# Other areas' tables, read-only (collections' `cases`, churn's `churn_identified`).
CASES_TABLE = table("cases", column("customer_id"), column("opened_on"), column("closed_on"))
CHURN_TABLE = table("churn_identified", column("as_of"), column("customer_id"))
CHURN_DATES_TABLE = table("churn_dates", column("as_of"))


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def frame(conn: Connection, query: Any, types: dict[str, Any]) -> pl.DataFrame:
    """A select's rows typed by `types` (dates normalised: backends hand them back apart)."""
    rows = conn.execute(query).all()
    dated = {name for name, kind in types.items() if kind == pl.Date}
    data = [tuple(stored_date(v) if n in dated and v is not None else v
                  for n, v in zip(types, r, strict=True)) for r in rows]  # fmt: skip
    return pl.DataFrame(data, schema=types, orient="row")


def has_table(conn: Connection, name: str) -> bool:
    return bool(inspect(conn).has_table(name))


def status_of(conn: Connection, day: date) -> pl.DataFrame:
    a = schema.account_status
    return frame(conn, select(*(a.c[n] for n in STATUS)).where(a.c.as_of == day), STATUS)


def loans(conn: Connection) -> pl.DataFrame:
    lo = schema.loans
    return frame(conn, select(*(lo.c[n] for n in LOANS)), LOANS)


def customers(conn: Connection) -> pl.DataFrame:
    cu = schema.customers
    return frame(conn, select(*(cu.c[n] for n in CUSTOMERS)), CUSTOMERS)


def cases(conn: Connection) -> pl.DataFrame:
    if not has_table(conn, "cases"):
        return pl.DataFrame(schema=CASES)
    c = CASES_TABLE.c
    return frame(conn, select(c.customer_id, c.opened_on, c.closed_on), CASES)


def date_before(conn: Connection, day: date) -> date | None:
    value = conn.execute(select(func.max(tier_dates.c.as_of)).where(tier_dates.c.as_of < day))
    found = value.scalar()
    return None if found is None else stored_date(found)


def state_on(conn: Connection, day: date | None) -> pl.DataFrame:
    """The hysteresis state stored for `day` (empty for None)."""
    if day is None:
        return pl.DataFrame(schema=STATE)
    t = tier_assignments.c
    return frame(conn, select(t.customer_id, t.tier, t.streak, t.streak_worst)
                 .where(t.as_of == day), STATE)  # fmt: skip


def forget_from(conn: Connection, first: date) -> None:
    conn.execute(delete(tier_assignments).where(tier_assignments.c.as_of >= first))
    conn.execute(delete(tier_dates).where(tier_dates.c.as_of >= first))


def store(conn: Connection, day: date, rows: pl.DataFrame, run_id: int, version: str) -> None:
    names = [c.name for c in tier_assignments.columns if c.name != "run_id"]
    records = [dict(r, run_id=run_id) for r in rows.select(names).iter_rows(named=True)]
    for part in _chunks(records):
        conn.execute(insert(tier_assignments), list(part))
    conn.execute(insert(tier_dates).values(as_of=day, run_id=run_id, policy_version=version,
                                           customers=rows.height))  # fmt: skip
