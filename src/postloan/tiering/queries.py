"""Tiering's SQL: what the daily step reads and writes. Everything runs on the run's
connection inside its one transaction (a step opens no bulk connection: `area.RunInputs`).

Collections' cases and churn's identification are read by SQL from their tables (named here,
not imported: areas reach each other only through what they publish, and a table is read-only
to every area but its owner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    Date,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    inspect,
    select,
    table,
)

from postloan.policy import Policy
from postloan.store import bulk, schema
from postloan.store.values import stored_date
from postloan.tiering.rules.frames import CASES, CUSTOMERS, LOANS, STATE, STATEMENTS, STATUS
from postloan.tiering.rules.need import CARDS
from postloan.tiering.tables import tier_assignments, tier_dates
from postloan.views.sql import Query

# Other areas' tables, read-only (collections' `cases`, churn's `churn_identified`).
# Typed, so dates come back as dates on every backend.
CASES_TABLE = table("cases", column("customer_id", String), column("opened_on", Date),
                    column("closed_on", Date))  # fmt: skip
CHURN_TABLE = table("churn_identified", column("as_of", Date), column("customer_id", String))
CHURN_DATES_TABLE = table("churn_dates", column("as_of", Date))
# Collections' write-offs and asset disposals (approved ones are out of the pool from their
# effective date, as in the core's summary).
DISPOSALS_TABLE = table("account_disposals", column("account_id", String),
                        column("customer_id", String), column("effective_on", Date),
                        column("status", String))  # fmt: skip


def frame(conn: Connection, query: Any, types: dict[str, Any]) -> pl.DataFrame:
    """A select's rows typed by `types`. Every selected column has a declared SQL type (the
    store's, or `Date` on the other areas' lightweight tables below), so SQLAlchemy hands dates
    back as dates on every backend: no per-value conversion here."""
    return pl.DataFrame(conn.execute(query).all(), schema=types, orient="row")


@dataclass(frozen=True)
class TierFrames:
    """The whole-table reads of the step (the loan, customer, card and card statement files)."""

    loans: pl.DataFrame  # LOANS
    customers: pl.DataFrame  # CUSTOMERS
    statements: pl.DataFrame  # STATEMENTS
    cards: pl.DataFrame  # need.CARDS: each card's limit (ABC's need, `rules/need.py`)


def _loans_select() -> Any:
    lo = schema.loans
    return select(*(lo.c[n] for n in LOANS))


def _customers_select() -> Any:
    cu = schema.customers
    return select(*(cu.c[n] for n in CUSTOMERS))


def _statements_select() -> Any:
    st, ca = schema.card_statements, schema.cards
    return select(ca.c.customer_id, *(st.c[n] for n in STATEMENTS if n != "customer_id")
                  ).select_from(st.join(ca, ca.c.card_id == st.c.card_id))  # fmt: skip


def _cards_select() -> Any:
    ca = schema.cards
    return select(*(ca.c[n] for n in CARDS))


def run_load(conn: Any, policy: Policy) -> TierFrames:
    """Tiering's `Area.run_loader`: the loan, customer, card statement and card files, read in
    bulk (ADBC) by the run before its publishing transaction (a step opens no bulk connection:
    `area.RunInputs`)."""
    return TierFrames(bulk.read(conn, _loans_select(), LOANS),
                      bulk.read(conn, _customers_select(), CUSTOMERS),
                      bulk.read(conn, _statements_select(), STATEMENTS),
                      bulk.read(conn, _cards_select(), CARDS))  # fmt: skip


def frames_on(conn: Connection) -> TierFrames:
    """`run_load` on the step's connection (a step run outside a daily run, e.g. a date
    deletion's re-derivation or a test)."""
    return TierFrames(frame(conn, _loans_select(), LOANS),
                      frame(conn, _customers_select(), CUSTOMERS),
                      frame(conn, _statements_select(), STATEMENTS),
                      frame(conn, _cards_select(), CARDS))  # fmt: skip


def insert_rows(conn: Connection, target: Any, rows: pl.DataFrame) -> None:
    """Append a frame's rows (columns named as the table's). On SQLite straight through the
    driver's `executemany` with the values as SQLAlchemy stores them (dates ISO text, booleans
    0/1): Core's per-row parameter processing costs more than the insert itself."""
    if rows.height == 0:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(target), rows.to_dicts())
        return
    plain = rows.with_columns(
        [pl.col(n).dt.strftime("%Y-%m-%d") for n, t in rows.schema.items() if t == pl.Date]
        + [pl.col(n).cast(pl.Int8) for n, t in rows.schema.items() if t == pl.Boolean]
    )
    names = ", ".join(f'"{n}"' for n in rows.columns)
    marks = ", ".join("?" for _ in rows.columns)
    conn.exec_driver_sql(f'INSERT INTO "{target.name}" ({names}) VALUES ({marks})',
                         plain.rows())  # fmt: skip


def has_table(conn: Connection, name: str) -> bool:
    return bool(inspect(conn).has_table(name))


def _status_select(day: Any) -> Any:
    """A date's status rows, its dates as ISO text (parsed by polars in one pass: no per-value
    conversion in Python; SQLite stores ISO text, PostgreSQL's date::text is ISO)."""
    a = schema.account_status
    return select(*(cast(a.c[n], String) if STATUS[n] == pl.Date else a.c[n]
                    for n in STATUS if n != "as_of")).where(a.c.as_of == day)  # fmt: skip


# On SQLite the lean path (`views.sql.Query`: the driver's cursor, no SQLAlchemy row
# processing) with the date as the text SQLite stores; other backends bind a date.
_STATUS_SQLITE = Query(_status_select(bindparam("day", type_=String)))
_STATUS = _status_select(bindparam("day", type_=Date))


def status_of(conn: Connection, day: date) -> pl.DataFrame:
    """STATUS of `day` (the run's rows, not yet committed: read on its connection), in one
    indexed range of the date — a million accounts without a per-row conversion."""
    if conn.dialect.name == "sqlite":
        rows = _STATUS_SQLITE.rows(conn, {"day": day.isoformat()})
    else:
        rows = conn.execute(_STATUS, {"day": day}).all()
    texts = {n: (pl.String if t == pl.Date else t) for n, t in STATUS.items() if n != "as_of"}
    found = pl.DataFrame(rows, schema=texts, orient="row")
    return found.with_columns(
        [pl.col(n).str.to_date("%Y-%m-%d") for n, t in STATUS.items() if t == pl.Date
         and n != "as_of"] + [pl.lit(day, dtype=pl.Date).alias("as_of")]
    ).select(list(STATUS))  # fmt: skip


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
    run = pl.lit(run_id, dtype=pl.Int64).alias("run_id")
    insert_rows(conn, tier_assignments, rows.select(names).with_columns(run))
    conn.execute(insert(tier_dates).values(as_of=day, run_id=run_id, policy_version=version,
                                           customers=rows.height))  # fmt: skip
