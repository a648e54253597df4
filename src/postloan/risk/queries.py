"""Risk's SQL for the daily steps: the score's inputs per stored date, the stored history the
signals compare with, dated facts (events; collections' broken promises and churn's grades —
other areas' tables read by SQL, never their code), and the writes.

Aggregation per (date, customer) happens in SQL (one grouped query per run window); the rows
come back once and everything after is polars (`risk.rules`).

The whole-table reads — the customer file and the events the score, the signals and the
behaviour scorecard use — are the area's `run_loader` (`run_load`): read in bulk (ADBC, Arrow)
by the daily run before its publishing transaction and handed to the steps as `RiskFrames`
(`frames_for`). What the run itself writes (the dates' account status, churn's grades,
collections' promises) is read in the step, by SQL, inside the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import (
    Connection,
    Date,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)

from postloan.risk.rules.signals import DAILY, DATED, HITS
from postloan.risk.rules.watch import OPENINGS
from postloan.risk.tables import risk_hits, risk_scores, risk_tasks, risk_watch
from postloan.store import bulk
from postloan.store.schema import account_status, customers, events
from postloan.store.values import as_date, rows_frame
from postloan.views.sql import Query

if TYPE_CHECKING:
    from postloan.area import StepContext
    from postloan.policy import Policy

# Event types the signals and the score read (DATA_CONTRACT "events").
FACT_EVENTS = ("complaint", "lawsuit", "asset_transfer", "bureau_update", "income_change")
_CHUNK = 5_000


CUSTOMER_FILE = {
    "customer_id": pl.String, "monthly_income": pl.Int64, "total_assets": pl.Int64,
    "total_liabilities": pl.Int64, "industry": pl.String, "branch_id": pl.String,
    "bureau_score": pl.Int64,
}  # fmt: skip
FACTS = {
    "event_id": pl.String, "customer_id": pl.String, "date": pl.Date, "type": pl.String,
    "amount": pl.Int64, "detail": pl.String,
}  # fmt: skip


@dataclass(frozen=True)
class RiskFrames:
    """The risk steps' whole-table reads: the customer file (CUSTOMER_FILE) and every event
    of FACT_EVENTS (FACTS), ordered by customer, date and event id."""

    customers: pl.DataFrame
    events: pl.DataFrame


def _customers_select() -> Any:
    c = customers
    return select(*(c.c[n] for n in CUSTOMER_FILE))


def _facts_select() -> Any:
    e = events
    return (select(*(e.c[n] for n in FACTS)).where(e.c.type.in_(FACT_EVENTS))
            .order_by(e.c.customer_id, e.c.date, e.c.event_id))  # fmt: skip


def run_load(conn: Any, policy: Policy) -> RiskFrames:
    """Risk's `Area.run_loader`: the customer file and the events, in bulk (ADBC) before the
    run's publishing transaction."""
    return RiskFrames(bulk.read(conn, _customers_select(), CUSTOMER_FILE),
                      bulk.read(conn, _facts_select(), FACTS))  # fmt: skip


def frames_on(conn: Connection) -> RiskFrames:
    """`run_load` on the step's own connection: for a step run outside a daily run (a date
    deletion's re-derivation, a test), which hands no inputs."""

    def typed(query: Any, types: dict[str, Any]) -> pl.DataFrame:
        # declared Date columns: SQLAlchemy hands dates back as dates on every backend
        return pl.DataFrame(conn.execute(query).all(), schema=types, orient="row")

    return RiskFrames(typed(_customers_select(), CUSTOMER_FILE), typed(_facts_select(), FACTS))


def frames_for(ctx: StepContext) -> RiskFrames:
    """What the run loaded for risk, or the same read on the step's connection."""
    if ctx.inputs is not None:
        found = ctx.inputs().extras.get("risk")
        if isinstance(found, RiskFrames):
            return found
    return frames_on(ctx.conn)


def stored_dates(conn: Connection) -> list[date]:
    rows = conn.execute(select(account_status.c.as_of).distinct()).scalars()
    return sorted(d for d in (as_date(v) for v in rows) if d is not None)


def _has(conn: Connection, table: str) -> bool:
    return bool(inspect(conn).has_table(table))


def score_inputs(conn: Connection, dates: list[date], frames: RiskFrames | None = None
                 ) -> pl.DataFrame:  # fmt: skip
    """SCORE_INPUTS plus branch_id for every customer with account status on `dates`: the
    dates' per-customer aggregates by SQL (the run wrote them in this transaction), the
    customer file and income reports from `frames` (the run loader's)."""
    frames = frames or frames_on(conn)
    s = account_status
    rows = conn.execute(
        select(s.c.as_of, s.c.customer_id, func.max(s.c.dpd).label("worst_dpd"),
               func.max(s.c.cumulative_overdue_periods).label("times_late"),
               func.sum(s.c.overdue_amount).label("overdue_amount"),
               func.sum(s.c.outstanding_principal).label("outstanding"))
        .where(s.c.as_of.in_(dates))
        .group_by(s.c.as_of, s.c.customer_id)
    ).all()  # fmt: skip
    status = {"as_of": pl.Date, "customer_id": pl.String, "worst_dpd": pl.Int64,
              "times_late": pl.Int64, "overdue_amount": pl.Int64,
              "outstanding": pl.Int64}  # fmt: skip
    per_day = rows_frame([(as_date(r[0]), *r[1:]) for r in rows], status)
    frame = per_day.join(
        frames.customers.select("customer_id", "monthly_income", "total_assets",
                                "total_liabilities", "industry", "branch_id"),
        on="customer_id",
    ).sort("as_of", "customer_id")  # fmt: skip
    return with_reports(conn, frame, dates, frames)


def with_reports(
    conn: Connection, frame: pl.DataFrame, dates: list[date], frames: RiskFrames | None = None
) -> pl.DataFrame:
    """`frame` (per date and customer) with the latest income report on or before each date
    and the churn grade stored on it: the score's inputs beyond the status and the file."""
    frames = frames or frames_on(conn)
    income = income_reports(frames, max(dates) if dates else None)
    frame = frame.sort("as_of").join_asof(
        income.sort("income_reported_on"), left_on="as_of", right_on="income_reported_on",
        by="customer_id", strategy="backward", check_sortedness=False,
    )  # fmt: skip
    return frame.join(churn_grades(conn, dates), on=["as_of", "customer_id"], how="left")


def customer_file(conn: Connection) -> pl.DataFrame:
    """CUSTOMER_FILE for every customer (the score's file inputs; the what-if)."""
    rows = conn.execute(_customers_select().order_by(customers.c.customer_id)).all()
    return pl.DataFrame(rows, schema=CUSTOMER_FILE, orient="row")


def income_reports(frames: RiskFrames, last: date | None) -> pl.DataFrame:
    """Every `income_change` with an amount up to `last` (ties on a day: the larger event id)."""
    schema = {"customer_id": pl.String, "income_reported_on": pl.Date, "income_reported": pl.Int64}
    if last is None:
        return pl.DataFrame(schema=schema)
    e = frames.events
    found = e.filter((pl.col("type") == "income_change") & pl.col("amount").is_not_null()
                     & (pl.col("date") <= last))  # fmt: skip
    return (
        found.sort("customer_id", "date", "event_id")
        .select("customer_id", pl.col("date").alias("income_reported_on"),
                pl.col("amount").alias("income_reported"))
        .unique(["customer_id", "income_reported_on"], keep="last", maintain_order=True)
    )  # fmt: skip


def churn_grades(conn: Connection, dates: list[date]) -> pl.DataFrame:
    """(as_of, customer_id, churn_grade) from the churn area's stored identification, when the
    churn area is installed (its table); otherwise empty."""
    schema = {"as_of": pl.Date, "customer_id": pl.String, "churn_grade": pl.Int64}
    if not dates or not _has(conn, "churn_identified"):
        return pl.DataFrame(schema=schema)
    rows = conn.execute(
        text(
            "SELECT as_of, customer_id, grade FROM churn_identified"
            " WHERE as_of >= :a AND as_of <= :b"
        ),
        {"a": min(dates), "b": max(dates)},
    ).all()
    wanted = set(dates)
    return rows_frame(
        [(as_date(r[0]), r[1], r[2]) for r in rows if as_date(r[0]) in wanted], schema
    )


def _insert(conn: Connection, table: Any, frame: pl.DataFrame) -> None:
    """Append a frame's rows (the table's columns it has) on the run's connection. On SQLite
    straight through the driver's `executemany` with values as SQLAlchemy stores them (dates
    ISO text, booleans 0/1): Core's per-row parameter processing costs more than the insert
    for a backfill's hundreds of thousands of scores (churn's `insert_rows` does the same)."""
    rows = frame.select([c.name for c in table.columns if c.name in frame.columns])
    if rows.height == 0:
        return
    if conn.dialect.name != "sqlite":
        dicts = rows.to_dicts()
        for i in range(0, len(dicts), _CHUNK):
            conn.execute(insert(table), dicts[i : i + _CHUNK])
        return
    plain = rows.with_columns(
        [pl.col(n).dt.strftime("%Y-%m-%d") for n, t in rows.schema.items() if t == pl.Date]
        + [pl.col(n).cast(pl.Int8) for n, t in rows.schema.items() if t == pl.Boolean]
    )
    names = ", ".join(f'"{n}"' for n in rows.columns)
    marks = ", ".join("?" for _ in rows.columns)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', plain.rows())


def replace_scores(conn: Connection, first: date, frame: pl.DataFrame, run_id: int) -> None:
    conn.execute(delete(risk_scores).where(risk_scores.c.as_of >= first))
    if not frame.is_empty():
        _insert(conn, risk_scores, frame.with_columns(run_id=pl.lit(run_id)))


def _daily_select(since: Any) -> Any:
    """The stored scores from `since` on, dates as ISO text (parsed by polars in one pass: no
    per-value conversion in Python; SQLite stores ISO text, PostgreSQL's date::text is ISO)."""
    r = risk_scores
    return select(
        *(cast(r.c[n], String) if t == pl.Date else r.c[n] for n, t in DAILY.items())
    ).where(r.c.as_of >= since)


# On SQLite the lean path (`views.sql.Query`: the driver's cursor, no SQLAlchemy row
# processing) with the date as the text SQLite stores; other backends bind a date.
_DAILY_SQLITE = Query(_daily_select(bindparam("since", type_=String)))
_DAILY = _daily_select(bindparam("since", type_=Date))


def daily_history(conn: Connection, since: date) -> pl.DataFrame:
    """DAILY from the stored scores on and after `since` (a 60-day window of every scored
    customer: millions of rows at 1M accounts, read without a per-row conversion)."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        rows = _DAILY_SQLITE.rows(conn, {"since": since.isoformat()})
    else:
        rows = conn.execute(_DAILY, {"since": since}).all()
    return _daily_frame(rows, sqlite)


def _daily_frame(rows: Any, sqlite: bool) -> pl.DataFrame:
    """DAILY from rows whose dates are ISO text (SQLite's booleans: 0/1)."""
    texts = {n: (pl.String if t == pl.Date else pl.Int64 if t == pl.Boolean and sqlite else t)
             for n, t in DAILY.items()}  # fmt: skip
    found = pl.DataFrame(rows, schema=texts, orient="row")
    return found.with_columns(
        [pl.col(n).str.slice(0, 10).str.to_date("%Y-%m-%d") for n, t in DAILY.items()
         if t == pl.Date] + [pl.col(n).cast(pl.Boolean) for n, t in DAILY.items()
                             if t == pl.Boolean]
    ).select(list(DAILY))  # fmt: skip


def _latest_between(lo: Any, hi: Any) -> Any:
    """Each customer's latest stored score row dated in [lo, hi] (DAILY columns as text)."""
    r = risk_scores
    latest = (
        select(r.c.customer_id, func.max(r.c.as_of).label("latest"))
        .where(r.c.as_of >= lo, r.c.as_of <= hi)
        .group_by(r.c.customer_id)
        .subquery()
    )
    columns = (cast(r.c[n], String) if t == pl.Date else r.c[n] for n, t in DAILY.items())
    return select(*columns).join_from(
        r, latest, (r.c.customer_id == latest.c.customer_id) & (r.c.as_of == latest.c.latest)
    )


_ON_SQLITE = Query(_daily_select(bindparam("since", type_=String)).where(
    risk_scores.c.as_of <= bindparam("until", type_=String)))  # fmt: skip
_ON = _daily_select(bindparam("since", type_=Date)).where(
    risk_scores.c.as_of <= bindparam("until", type_=Date)
)
_LATEST_SQLITE = Query(
    _latest_between(bindparam("lo", type_=String), bindparam("hi", type_=String))
)
_LATEST = _latest_between(bindparam("lo", type_=Date), bindparam("hi", type_=Date))


def signal_rows(conn: Connection, day: date, windows: set[int]) -> pl.DataFrame:
    """What `rules.signals.signal_hits` reads for the one date `day`, without a window of
    history: the day's rows, and for each comparison window w each customer's latest row in
    [day − 2w, day − w] — the row the comparison takes (the latest on or before day − w, and
    none when older than day − 2w), so the hits equal those from `daily_history` (the steps'
    replay test runs dates one by one and as a backfill). Customer-count rows per window, not
    2w days of every customer."""
    sqlite = conn.dialect.name == "sqlite"
    frames = []
    spans = [(day, day)] + [
        (day - timedelta(days=2 * w), day - timedelta(days=w)) for w in sorted(windows)
    ]
    for lo, hi in spans:
        if lo == hi == day:
            params = {"since": day, "until": day}
            query, lean = _ON, _ON_SQLITE
        else:
            params = {"lo": lo, "hi": hi}
            query, lean = _LATEST, _LATEST_SQLITE
        if sqlite:
            rows = lean.rows(conn, {k: v.isoformat() for k, v in params.items()})
        else:
            rows = conn.execute(query, params).all()
        frames.append(_daily_frame(rows, sqlite))
    return pl.concat(frames).unique(["as_of", "customer_id"], keep="first")


def dated_facts(conn: Connection, since: date, until: date,
                frames: RiskFrames | None = None) -> pl.DataFrame:  # fmt: skip
    """DATED: the events the signals count (from `frames`), collections' broken promises and
    relationship's complaints (as `complaint` events, dated when received; their tables, by
    SQL), dated in [since, until] (promises by the day they were judged broken)."""
    frames = frames or frames_on(conn)
    found = frames.events.filter(pl.col("date").is_between(since, until)).select(
        "customer_id", "date", pl.col("type").alias("kind")
    )
    rows: list[tuple[Any, ...]] = []
    if _has(conn, "promises"):
        rows += [
            (r[0], as_date(r[1]), "promise_broken")
            for r in conn.execute(
                text(
                    "SELECT customer_id, decided_on FROM promises WHERE status = 'broken' "
                    "AND decided_on >= :a AND decided_on <= :b"
                ),
                {"a": since, "b": until},
            )
        ]
    if _has(conn, "complaints"):  # relationship's complaints: the non-financial signal
        rows += [
            (r[0], as_date(r[1]), "complaint")
            for r in conn.execute(
                text(
                    "SELECT customer_id, received_on FROM complaints "
                    "WHERE received_on >= :a AND received_on <= :b"
                ),
                {"a": since, "b": until},
            )
        ]
    return pl.concat([found.cast(DATED), rows_frame(rows, DATED)])  # type: ignore[arg-type]


def replace_hits(conn: Connection, first: date, hits: pl.DataFrame) -> None:
    conn.execute(delete(risk_hits).where(risk_hits.c.as_of >= first))
    if not hits.is_empty():
        _insert(conn, risk_hits, hits)


def _hits_select(since: Any) -> Any:
    h = risk_hits
    query = select(cast(h.c.as_of, String), h.c.customer_id, h.c.signal_id, h.c.value)
    return query if since is None else query.where(h.c.as_of >= since)


_HITS_SQLITE = Query(_hits_select(bindparam("since", type_=String)))
_HITS = _hits_select(bindparam("since", type_=Date))
_EVERY_HIT = _hits_select(None)


def hits_since(conn: Connection, since: date | None) -> pl.DataFrame:
    """HITS dated on or after `since` (every hit for None): the watch list's window of hits,
    hundreds of thousands of rows on the demo — dates read as text, parsed by polars."""
    rows: Any
    if since is None:
        rows = conn.execute(_EVERY_HIT).all()
    elif conn.dialect.name == "sqlite":
        rows = _HITS_SQLITE.rows(conn, {"since": since.isoformat()})
    else:
        rows = conn.execute(_HITS, {"since": since}).all()
    found = pl.DataFrame(rows, schema={**HITS, "as_of": pl.String}, orient="row")
    return found.with_columns(pl.col("as_of").str.slice(0, 10).str.to_date("%Y-%m-%d"))


def replace_open_tasks(conn: Connection, first: date, tasks: pl.DataFrame) -> int:
    """Untouched tasks opened from `first` on are re-derived; worked ones (done) stay, and a
    derived task that already exists (worked) is not added again. Returns tasks added."""
    t = risk_tasks
    conn.execute(delete(t).where(t.c.opened_on >= first, t.c.status == "open"))
    kept = conn.execute(
        select(t.c.customer_id, t.c.signal_id, t.c.opened_on).where(t.c.opened_on >= first)
    ).all()
    done = rows_frame([(r[0], r[1], as_date(r[2])) for r in kept], OPENINGS)
    fresh = tasks.join(done, on=list(OPENINGS), how="anti")
    if not fresh.is_empty():
        _insert(conn, t, fresh.with_columns(status=pl.lit("open")))
    return len(fresh)


def update_watch(conn: Connection, first: date, prev: date | None, episodes: pl.DataFrame) -> None:
    """Store the watch list's episodes recomputed over `prev` (the stored date before the run's
    first, None: there is none) and the dates from `first` on: episodes entered from `first` on
    are replaced; an episode on the list on `prev` (recomputed as entered on `prev`) continues
    the stored one, which takes its new end. Episodes over before `prev` stay as they are."""
    w = risk_watch
    conn.execute(delete(w).where(w.c.entered_on >= first))
    if prev is None:
        _insert(conn, w, episodes)
        return
    _insert(conn, w, episodes.filter(pl.col("entered_on") >= first))
    going_on = episodes.filter(pl.col("entered_on") == prev)
    if going_on.is_empty():
        return
    conn.execute(
        update(w)
        .where(w.c.customer_id == bindparam("cid"), w.c.entered_on <= prev,
               or_(w.c.left_on.is_(None), w.c.left_on > prev))
        .values(left_on=bindparam("left"), exit_reason=bindparam("why")),
        [{"cid": r["customer_id"], "left": r["left_on"], "why": r["exit_reason"]}
         for r in going_on.iter_rows(named=True)],
    )  # fmt: skip


def customer_branches(conn: Connection, customer_ids: list[str]) -> pl.DataFrame:
    """(customer_id, branch_id) of the given customers."""
    found: list[tuple[str, str | None]] = []
    for i in range(0, len(customer_ids), _CHUNK):
        chunk = customer_ids[i : i + _CHUNK]
        found += [tuple(r) for r in conn.execute(
            select(customers.c.customer_id, customers.c.branch_id)
            .where(customers.c.customer_id.in_(chunk))
        )]  # fmt: skip
    return rows_frame(found, {"customer_id": pl.String, "branch_id": pl.String})


def day_before(dates: list[date], first: date) -> date | None:
    earlier = [d for d in dates if d < first]
    return earlier[-1] if earlier else None
