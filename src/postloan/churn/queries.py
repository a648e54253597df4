"""The churn step's SQL: what identification and the pool read and write. (Read models for the
API, the export and the report are in `churn.read`.) Everything runs on the run's connection,
inside its one transaction — except the whole-table reads (events, the customer file, loan
products), which the run makes with its own bulk (ADBC) connection while it loads the
portfolio (`run_load`, the area's `run_loader`): a step never opens a bulk connection itself
(`area.RunInputs` says why). Called outside a daily run, the step reads them on its own
connection instead (`frames_on`, `portfolio_on`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import (
    Connection,
    Date,
    String,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from postloan.area import RunInputs, ScheduleChanges
from postloan.churn.rules.frames import CUSTOMERS, EVENTS, GRADED, STATUS
from postloan.churn.rules.pool import FACTS, SCREENED, STORED, first_grades
from postloan.churn.tables import (
    RULE_COLUMNS,
    churn_dates,
    churn_episodes,
    churn_grades,
    churn_identified,
    churn_screenings,
)
from postloan.policy import Policy
from postloan.store import bulk, schema
from postloan.store.rows import read_frame
from postloan.store.values import stored_date
from postloan.views.sql import Query

CHUNK = 500  # ids per IN list

LIVE_STORED = {"customer_id": pl.String, "entered_on": pl.Date, "left_on": pl.Date,
               "exit_reason": pl.String, "entry_rules": pl.String}  # fmt: skip
IDENTIFIED_RULES = {
    "as_of": pl.Date,
    "customer_id": pl.String,
    **dict.fromkeys(RULE_COLUMNS, pl.Boolean),
    "grade": pl.Int32,
}


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --------------------------------------------------------------------------------------------
# Which dates


_RUN_OF_DATE = (
    select(schema.account_status.c.run_id)
    .where(schema.account_status.c.as_of == bindparam("day"))
    .limit(1)
)


def own_dates(conn: Connection, run_id: int, dates: Iterable[date]) -> list[date]:
    """The dates among `dates` whose account status this run stored (a date's rows all come
    from the run that stored it last): the dates to identify."""
    return [d for d in dates if conn.execute(_RUN_OF_DATE, {"day": d}).scalar() == run_id]


def churn_dates_from(conn: Connection, start: date) -> list[date]:
    query = select(churn_dates.c.as_of).where(churn_dates.c.as_of >= start)
    return sorted(stored_date(d) for d in conn.execute(query).scalars())


def churn_date_before(conn: Connection, day: date) -> date | None:
    value = conn.execute(
        select(func.max(churn_dates.c.as_of)).where(churn_dates.c.as_of < day)
    ).scalar()
    return None if value is None else stored_date(value)


def forget_dates(conn: Connection, dates: Sequence[date]) -> None:
    """Identification of these dates is gone (to be recomputed, or its status deleted)."""
    for part in _chunks(list(dates)):
        conn.execute(delete(churn_identified).where(churn_identified.c.as_of.in_(part)))
        conn.execute(delete(churn_dates).where(churn_dates.c.as_of.in_(part)))


# --------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class ChurnFrames:
    """What identification and grading read besides the portfolio."""

    events: pl.DataFrame  # EVENTS
    customers: pl.DataFrame  # CUSTOMERS
    products: pl.DataFrame  # account_id, product (empty unless the policy has per-product rules)


_PRODUCTS = {"account_id": pl.String, "product": pl.String}


def _selects(with_products: bool) -> dict[str, tuple[Any, dict[str, Any]]]:
    ev, cu, loans = schema.events, schema.customers, schema.loans
    found: dict[str, tuple[Any, dict[str, Any]]] = {
        "events": (select(ev.c.customer_id, ev.c.date, ev.c.type, ev.c.amount), EVENTS),
        "customers": (select(*(cu.c[name] for name in CUSTOMERS)), CUSTOMERS),
    }
    if with_products:
        found["products"] = (
            select(loans.c.loan_id.label("account_id"), loans.c.product),
            _PRODUCTS,
        )
    return found


def run_load(conn: Any, policy: Policy) -> ChurnFrames:
    """Churn's `Area.run_loader`: its frames, read in bulk with the run's ADBC connection."""
    read = {name: bulk.read(conn, query, types)
            for name, (query, types) in _selects(bool(policy.churn.products)).items()}  # fmt: skip
    return ChurnFrames(read["events"], read["customers"],
                       read.get("products", pl.DataFrame(schema=_PRODUCTS)))  # fmt: skip


def _frame(conn: Connection, query: Any, types: dict[str, Any]) -> pl.DataFrame:
    """A select's rows on the step's own connection (dates normalised), typed by `types`."""
    rows = conn.execute(query).all()
    dated = [name for name, kind in types.items() if kind == pl.Date]
    frame = pl.DataFrame([tuple(r) for r in rows], schema=list(types), orient="row")
    return frame.with_columns(
        pl.col(dated).map_elements(stored_date, return_dtype=pl.Date) if dated else []
    ).cast(types)  # type: ignore[arg-type]


def frames_on(conn: Connection, policy: Policy) -> ChurnFrames:
    """`run_load` on the step's connection: for a step run outside a daily run (which hands
    no inputs) — slower, never a second SQLite in the transaction."""
    read = {name: _frame(conn, query, types)
            for name, (query, types) in _selects(bool(policy.churn.products)).items()}  # fmt: skip
    return ChurnFrames(read["events"], read["customers"],
                       read.get("products", pl.DataFrame(schema=_PRODUCTS)))  # fmt: skip


def portfolio_on(conn: Connection) -> RunInputs:
    """The portfolio with its contract schedules, read on the step's connection (no schedule
    changes: a step run outside a daily run, e.g. by a test, sees the contract schedules)."""
    from postloan.engine.frames import CARDS, INSTALMENTS, LOANS, PAYMENTS, STATEMENTS, Portfolio
    from postloan.engine.restructure import AGREED_DUES, RESTRUCTURINGS
    from postloan.engine.schedule_versions import SCHEDULE_CHANGES
    from postloan.ledger import generate_instalments, override_instalments

    lo, sc, ca, st, pay = (schema.loans, schema.schedules, schema.cards,
                           schema.card_statements, schema.payments)  # fmt: skip
    loans = _frame(conn, select(lo.c.loan_id, *(lo.c[n] for n in list(LOANS)[1:]))
                   .order_by(lo.c.loan_id), LOANS)  # fmt: skip
    imported = _frame(conn, select(sc.c.loan_id, sc.c.period, sc.c.due_date, sc.c.principal_due,
                                   sc.c.interest_due).order_by(sc.c.loan_id, sc.c.period),
                      INSTALMENTS)  # fmt: skip
    instalments = generate_instalments(loans)
    if imported.height:
        instalments = override_instalments(instalments, imported)
    cards = _frame(conn, select(ca.c.card_id, ca.c.customer_id, ca.c.credit_limit, ca.c.open_date,
                                ca.c.close_date).order_by(ca.c.card_id), CARDS)  # fmt: skip
    statements = _frame(conn, select(st.c.card_id, *(st.c[n] for n in list(STATEMENTS)[1:]))
                        .order_by(st.c.card_id, st.c.statement_date), STATEMENTS)  # fmt: skip
    payments = _frame(conn, select(*(pay.c[n] for n in PAYMENTS))
                      .order_by(pay.c.account_id, pay.c.value_date), PAYMENTS)  # fmt: skip
    none = ScheduleChanges(
        pl.DataFrame(schema=SCHEDULE_CHANGES),
        pl.DataFrame(schema=RESTRUCTURINGS),
        pl.DataFrame(schema=AGREED_DUES),
    )
    return RunInputs(Portfolio(loans, instalments, cards, statements, payments), none)


def _status_select(day: Any) -> Any:
    a = schema.account_status
    return (
        select(
            a.c.customer_id,
            func.sum(a.c.outstanding_principal),
            func.sum(a.c.overdue_amount),
            func.max(a.c.dpd),
            func.max(a.c.consecutive_overdue_periods),
            func.count(),
        )
        .where(a.c.as_of == day)
        .group_by(a.c.customer_id)
    )


# On SQLite the lean path (`views.sql.Query`) with the date as the text SQLite stores; other
# backends bind a date.
_STATUS_SQLITE = Query(_status_select(bindparam("day", type_=String)))
_STATUS = _status_select(bindparam("day", type_=Date))


def status_of(conn: Connection, keys: pl.DataFrame) -> pl.DataFrame:
    """STATUS of the (as_of, customer_id) keys from the stored account status of those dates
    (this run's rows, not yet committed: read on its connection): each date's open accounts
    summed per customer by the database, one indexed range of the date (cheaper than sending
    the keys), then cut to the keys."""
    frames = []
    for day in keys.get_column("as_of").unique().sort().to_list():
        if conn.dialect.name == "sqlite":
            rows = _STATUS_SQLITE.rows(conn, {"day": day.isoformat()})
        else:
            rows = conn.execute(_STATUS, {"day": day}).all()
        frames.append(
            pl.DataFrame([tuple(r) for r in rows], schema=[k for k in STATUS if k != "as_of"],
                         orient="row").with_columns(pl.lit(day).alias("as_of"))
        )  # fmt: skip
    if not frames:
        return pl.DataFrame(schema=STATUS)
    found = pl.concat(frames).select(list(STATUS)).cast(STATUS)  # type: ignore[arg-type]
    return found.join(keys.select("as_of", "customer_id"), on=["as_of", "customer_id"])


def insert_rows(conn: Connection, table: Any, rows: pl.DataFrame) -> None:
    """Append a frame's rows (columns named as the table's) on the run's connection. On
    SQLite straight through the driver's `executemany` with the values as SQLAlchemy stores
    them (dates ISO text, booleans 0/1): Core's per-row parameter processing costs twice the
    insert itself for a pool of tens of thousands."""
    if rows.height == 0:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows.to_dicts())
        return
    plain = rows.with_columns(
        [pl.col(n).dt.strftime("%Y-%m-%d") for n, t in rows.schema.items() if t == pl.Date]
        + [pl.col(n).cast(pl.Int8) for n, t in rows.schema.items() if t == pl.Boolean]
    )
    names = ", ".join(f'"{n}"' for n in rows.columns)
    marks = ", ".join("?" for _ in rows.columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
                         plain.rows())  # fmt: skip


def store_identified(
    conn: Connection, graded: pl.DataFrame, dates: Sequence[date], run_id: int, version: str
) -> None:
    insert_rows(
        conn,
        churn_identified,
        graded.select(list(GRADED)).with_columns(pl.lit(run_id, dtype=pl.Int32).alias("run_id")),
    )
    counts = dict(graded.group_by("as_of").len().iter_rows())
    conn.execute(
        insert(churn_dates),
        [{"as_of": d, "run_id": run_id, "policy_version": version,
          "identified": int(counts.get(d, 0))} for d in dates],
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# The pool


def live_episodes(conn: Connection, first: date) -> pl.DataFrame:
    """Episodes in the pool on the churn date before `first` (entered before it, not left by
    then), as stored: customer_id, entered_on, left_on, exit_reason, entry_rules."""
    e = churn_episodes
    query = select(
        e.c.customer_id, e.c.entered_on, e.c.left_on, e.c.exit_reason, e.c.entry_rules
    ).where(e.c.entered_on < first, or_(e.c.left_on.is_(None), e.c.left_on >= first))
    return read_frame(conn, query, LIVE_STORED)  # the whole pool at 1M: no Row per record


def identified_rules(conn: Connection, dates: Sequence[date]) -> pl.DataFrame:
    """as_of, customer_id, the rule flags and the grade of every identified customer on
    `dates`."""
    c = churn_identified
    parts = [
        read_frame(
            conn,
            select(c.c.as_of, c.c.customer_id, *(c.c[r] for r in RULE_COLUMNS), c.c.grade).where(
                c.c.as_of.in_(part)
            ),
            IDENTIFIED_RULES,
        )
        for part in _chunks(list(dates))
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=IDENTIFIED_RULES)


def write_episodes(
    conn: Connection, first: date, episodes: pl.DataFrame, stored: pl.DataFrame
) -> int:
    """Bring the stored episodes to `episodes` (walked from `first`; STORED columns): those
    entered from `first` on are replaced; those entered before it (`stored`, as read by
    `live_episodes`) are updated only where their end changed — a daily run writes its
    entries and exits, not the whole pool. Returns the rows written."""
    e = churn_episodes
    conn.execute(delete(e).where(e.c.entered_on >= first))
    new = episodes.filter(pl.col("entered_on") >= first).select(list(STORED))
    insert_rows(conn, e, new)
    changed = (
        episodes.filter(pl.col("entered_on") < first)
        .select("customer_id", "entered_on", "left_on", "exit_reason")
        .join(stored, on=["customer_id", "entered_on"], suffix="_was")
        .filter(
            pl.col("left_on").ne_missing(pl.col("left_on_was"))
            | pl.col("exit_reason").ne_missing(pl.col("exit_reason_was"))
        )
    )
    if changed.height:
        conn.execute(
            update(e)
            .where(e.c.customer_id == bindparam("k_customer"),
                   e.c.entered_on == bindparam("k_entered"))
            .values(left_on=bindparam("k_left"), exit_reason=bindparam("k_reason")),
            [{"k_customer": r["customer_id"], "k_entered": r["entered_on"],
              "k_left": r["left_on"], "k_reason": r["exit_reason"]}
             for r in changed.to_dicts()],
        )  # fmt: skip
    return new.height + changed.height


def write_grades(conn: Connection, first: date, episodes: pl.DataFrame,
                 identified: pl.DataFrame) -> None:  # fmt: skip
    """Bring `churn_grades` up to date from `first` on: `episodes` are the walked episodes (those
    closed from `first` on and those still open), `identified` the rows of the dates from
    `first` on. A grade first reached before `first` stays (those days did not change, nor did
    the episode's start); the rest is derived again (`rules.pool.first_grades`)."""
    g, e = churn_grades.c, churn_episodes.c
    conn.execute(delete(churn_grades).where(g.first_on >= first))
    before = read_frame(
        conn,
        select(g.customer_id, g.entered_on, g.grade)
        .select_from(churn_grades.join(churn_episodes, and_(
            e.customer_id == g.customer_id, e.entered_on == g.entered_on)))
        .where(or_(e.left_on.is_(None), e.left_on >= first)),
        {"customer_id": pl.String, "entered_on": pl.Date, "grade": pl.Int64},
    )  # fmt: skip
    new = first_grades(episodes, identified).join(
        before, on=["customer_id", "entered_on", "grade"], how="anti"
    )
    insert_rows(conn, churn_grades, new)


def exit_facts(
    conn: Connection, customers: Sequence[str], after: date, until: date
) -> pl.DataFrame:
    """FACTS of `customers` dated in (after, until]: applications and explanations (events),
    account openings, payments (rows that are not reversals)."""
    ev, lo, ca, pay = schema.events, schema.loans, schema.cards, schema.payments
    found: list[tuple[str, Any, str]] = []
    for part in _chunks(sorted(set(customers))):
        queries = [
            select(ev.c.customer_id, ev.c.date, ev.c.type).where(
                ev.c.customer_id.in_(part), ev.c.type.in_(("application", "explanation")),
                ev.c.date > after, ev.c.date <= until),
            select(lo.c.customer_id, lo.c.disbursement_date, literal("opened")).where(
                lo.c.customer_id.in_(part), lo.c.disbursement_date > after,
                lo.c.disbursement_date <= until),
            select(ca.c.customer_id, ca.c.open_date, literal("opened")).where(
                ca.c.customer_id.in_(part), ca.c.open_date > after, ca.c.open_date <= until),
        ]  # fmt: skip
        for owner, key in ((lo, lo.c.loan_id), (ca, ca.c.card_id)):
            queries.append(
                select(owner.c.customer_id, pay.c.value_date, literal("payment"))
                .select_from(pay.join(owner, key == pay.c.account_id))
                .where(owner.c.customer_id.in_(part), pay.c.reverses_payment_id.is_(None),
                       pay.c.value_date > after, pay.c.value_date <= until)
                .distinct()
            )  # fmt: skip
        for query in queries:
            found += [(r[0], stored_date(r[1]), str(r[2])) for r in conn.execute(query)]
    return pl.DataFrame(found, schema=FACTS, orient="row")


SCREENING = {"as_of": pl.Date, "customer_id": pl.String, "grade": pl.Int32, "degree": pl.String,
             "open_accounts": pl.Int32, "signals": pl.String}  # fmt: skip


def screening_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """Pool rows (SCREENING columns) as `rules.pool.screen` reads them."""
    return rows.select(list(SCREENING)).cast(SCREENING).with_columns(  # type: ignore[arg-type]
        pl.col("signals").str.json_path_match("$.contact_on").str.to_date().alias("contact_on"),
        pl.col("signals").str.json_path_match("$.malicious_on").str.to_date().alias(
            "malicious_on"),
    )  # fmt: skip


def screening_rows(conn: Connection, dates: Sequence[date]) -> pl.DataFrame:
    """The pool on screening dates, as `rules.pool.screen` reads it."""
    c = churn_identified
    parts = [
        read_frame(
            conn,
            select(
                c.c.as_of, c.c.customer_id, c.c.grade, c.c.degree, c.c.open_accounts, c.c.signals
            ).where(c.c.as_of.in_(part)),
            SCREENING,
        )
        for part in _chunks(list(dates))
    ]
    return screening_frame(pl.concat(parts) if parts else pl.DataFrame(schema=SCREENING))


def replace_screenings(conn: Connection, first: date, screened: pl.DataFrame) -> None:
    s = churn_screenings
    conn.execute(delete(s).where(s.c.screened_on >= first))
    insert_rows(conn, s, screened.select(list(SCREENED)))
