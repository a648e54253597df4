"""The behaviour scorecard's SQL: its inputs read set-based (one grouped query per input, the
aggregation per customer and snapshot or month done by the database), typed as
`risk.rules.behaviour`'s schemas, and the scores' writes.

Reads are bounded by the dates wanted: snapshots from 12 months before the first observation
(the longest window, and the 6-month ratio's starting snapshot), payments and statements from
the same month on, events up to the last observation."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import (
    Connection,
    Subquery,
    case,
    delete,
    extract,
    func,
    inspect,
    select,
    text,
    union_all,
)

from postloan.risk.behaviour_tables import risk_behaviour_bins, risk_behaviour_scores
from postloan.risk.queries import RiskFrames, _insert, frames_on
from postloan.risk.rules import behaviour as b
from postloan.risk.rules import expected_loss as el
from postloan.risk.rules.expected_loss import CLASS_ORDER
from postloan.store.schema import (
    account_status,
    card_statements,
    cards,
    loans,
    payments,
)
from postloan.store.values import as_date, rows_frame

HISTORY_MONTHS = max(b.WINDOWS)


def months_before(day: date, months: int) -> date:
    """The first day of the month `months` before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def snapshot_status(conn: Connection, snapshots: list[date]) -> pl.DataFrame:
    """STATUS on the snapshot dates: per customer the worst DPD and the overdue amount."""
    s = account_status
    rows = conn.execute(
        select(s.c.as_of, s.c.customer_id, func.max(s.c.dpd), func.sum(s.c.overdue_amount))
        .where(s.c.as_of.in_(snapshots))
        .group_by(s.c.as_of, s.c.customer_id)
    ).all()  # fmt: skip
    return rows_frame([(as_date(r[0]), r[1], int(r[2]), int(r[3])) for r in rows], b.STATUS)


def _owners() -> Subquery:
    return union_all(
        select(loans.c.loan_id.label("account_id"), loans.c.customer_id),
        select(cards.c.card_id.label("account_id"), cards.c.customer_id),
    ).subquery()


def monthly_paid(conn: Connection, since: date, until: date) -> pl.DataFrame:
    """PAID: payments per customer and calendar month (a reversal subtracts what it cancels)."""
    p = payments
    owners = _owners()
    signed = func.sum(case((p.c.reverses_payment_id.is_(None), p.c.amount), else_=-p.c.amount))
    year, month = extract("year", p.c.value_date), extract("month", p.c.value_date)
    rows = conn.execute(
        select(owners.c.customer_id, year, month, signed)
        .join_from(p, owners, owners.c.account_id == p.c.account_id)
        .where(p.c.value_date >= since, p.c.value_date <= until)
        .group_by(owners.c.customer_id, year, month)
    ).all()  # fmt: skip
    return rows_frame([(r[0], int(r[1]) * 12 + int(r[2]) - 1, int(r[3])) for r in rows], b.PAID)


def first_opened(conn: Connection) -> pl.DataFrame:
    """OPENED: each customer's first loan disbursement or card opening."""
    both = union_all(
        select(loans.c.customer_id, loans.c.disbursement_date.label("opened_on")),
        select(cards.c.customer_id, cards.c.open_date.label("opened_on")),
    ).subquery()
    rows = conn.execute(
        select(both.c.customer_id, func.min(both.c.opened_on)).group_by(both.c.customer_id)
    ).all()
    return rows_frame([(r[0], as_date(r[1])) for r in rows], b.OPENED)


def statements(conn: Connection, since: date, until: date) -> pl.DataFrame:
    """STATEMENTS issued in [since, until] with what was paid on the card after the statement
    up to its due date."""
    st, c, p = card_statements, cards, payments
    paid = (
        select(st.c.card_id, st.c.statement_date, func.coalesce(func.sum(p.c.amount), 0)
               .label("paid"))
        .join_from(st, p, (p.c.account_id == st.c.card_id)
                   & (p.c.value_date > st.c.statement_date) & (p.c.value_date <= st.c.due_date)
                   & p.c.reverses_payment_id.is_(None), isouter=True)
        .where(st.c.statement_date >= since, st.c.statement_date <= until)
        .group_by(st.c.card_id, st.c.statement_date)
        .subquery()
    )  # fmt: skip
    rows = conn.execute(
        select(c.c.customer_id, st.c.card_id, st.c.statement_date, st.c.due_date,
               st.c.statement_balance, st.c.minimum_due, c.c.credit_limit, paid.c.paid)
        .join_from(st, c, c.c.card_id == st.c.card_id)
        .join(paid, (paid.c.card_id == st.c.card_id)
              & (paid.c.statement_date == st.c.statement_date))
    ).all()  # fmt: skip
    return rows_frame(
        [(r[0], r[1], as_date(r[2]), as_date(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]))
         for r in rows], b.STATEMENTS)  # fmt: skip


def readings(frames: RiskFrames, until: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Bureau scores (`bureau_update` events, detail "score=NNN") and reported incomes
    (`income_change` amounts) up to `until`, ties on a day by the later event id — from the
    events the run loader read (`queries.RiskFrames`)."""
    frame = frames.events.filter(
        pl.col("type").is_in(["bureau_update", "income_change"]) & (pl.col("date") <= until)
    ).sort("customer_id", "date", "event_id")
    bureau = frame.filter(pl.col("type") == "bureau_update").select(
        "customer_id", "date",
        pl.col("detail").str.extract(r"score=(\d+)", 1).cast(pl.Int64).alias("value"),
    ).drop_nulls("value")  # fmt: skip
    income = frame.filter(pl.col("type") == "income_change").select(
        "customer_id", "date", pl.col("amount").alias("value")
    ).drop_nulls("value")  # fmt: skip
    return bureau, income


def customer_file(frames: RiskFrames) -> pl.DataFrame:
    return frames.customers.select(list(b.FILE)).cast(b.FILE)  # type: ignore[arg-type]


def feature_frame(
    conn: Connection, observations: list[date], stored: list[date],
    frames: RiskFrames | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """The features of every customer with status on each observation date, and the
    snapshots read (for targets). `stored` are the stored dates; `frames` the run loader's
    customer file and events (None: read on `conn`)."""
    frames = frames or frames_on(conn)
    first, last = min(observations), max(observations)
    start = months_before(first, HISTORY_MONTHS)
    snaps = [d for d in b.snapshot_dates([d for d in stored if d <= last]) if d >= start]
    status = snapshot_status(conn, sorted({*snaps, *observations}))
    # a mid-month observation stands for its month: earlier snapshots of the month are not it
    obs = status.filter(pl.col("as_of").is_in(observations)).select("as_of", "customer_id")
    history = status.filter(pl.col("as_of").is_in(snaps) | pl.col("as_of").is_in(observations))
    bureau, income = readings(frames, last)
    frame = b.features(
        obs, history, monthly_paid(conn, start, last),
        first_opened(conn), statements(conn, start, last), bureau, income, customer_file(frames),
    )  # fmt: skip
    return frame, history


_RANK = case(*((account_status.c.risk_class == name, i) for i, name in enumerate(CLASS_ORDER)),
             else_=0)  # fmt: skip


def exposures(conn: Connection, dates: list[date]) -> pl.DataFrame:
    """EXPOSURES on `dates`: per customer and account type the EAD (outstanding principal +
    overdue interest) and the worst five-category class."""
    s = account_status
    rows = conn.execute(
        select(s.c.as_of, s.c.customer_id, s.c.account_type,
               func.sum(s.c.outstanding_principal + s.c.overdue_interest), func.max(_RANK))
        .where(s.c.as_of.in_(dates))
        .group_by(s.c.as_of, s.c.customer_id, s.c.account_type)
    ).all()  # fmt: skip
    return rows_frame(
        [(as_date(r[0]), r[1], r[2], int(r[3]), CLASS_ORDER[int(r[4])]) for r in rows],
        el.EXPOSURES,
    )


def default_history(conn: Connection, snapshots: list[date], bad_min_dpd: int) -> tuple[
    pl.DataFrame, pl.DataFrame
]:  # fmt: skip
    """DEFAULTS (each account's first snapshot at the bad level, with its EAD then) and the
    RECOVERIES (payments, a reversal negative) of the accounts that defaulted."""
    s, p = account_status, payments
    bad = (s.c.as_of.in_(snapshots)) & (s.c.dpd >= bad_min_dpd)
    rows = conn.execute(
        select(s.c.account_id, s.c.account_type, s.c.as_of,
               s.c.outstanding_principal + s.c.overdue_interest).where(bad)
    ).all()  # fmt: skip
    defaults = (
        rows_frame([(r[0], r[1], as_date(r[2]), int(r[3])) for r in rows], el.DEFAULTS)
        .sort("defaulted_on")
        .unique("account_id", keep="first")
    )
    paid = conn.execute(
        select(p.c.account_id, p.c.value_date,
               case((p.c.reverses_payment_id.is_(None), p.c.amount), else_=-p.c.amount))
        .where(p.c.account_id.in_(select(s.c.account_id).where(bad)))
    ).all()  # fmt: skip
    recoveries = rows_frame([(r[0], as_date(r[1]), int(r[2])) for r in paid], el.RECOVERIES)
    return defaults, recoveries


def churn_identified(conn: Connection, snapshots: list[date]) -> pl.DataFrame:
    """(as_of, customer_id) the churn area identified on the snapshot dates — its table, read
    by SQL (risk imports no other area's code); empty without the churn area."""
    schema = {"as_of": pl.Date, "customer_id": pl.String}
    if not snapshots or not inspect(conn).has_table("churn_identified"):
        return pl.DataFrame(schema=schema)
    rows = conn.execute(
        text("SELECT as_of, customer_id FROM churn_identified WHERE as_of >= :a AND as_of <= :b"),
        {"a": min(snapshots), "b": max(snapshots)},
    ).all()
    wanted = set(snapshots)
    return rows_frame([(as_date(r[0]), r[1]) for r in rows if as_date(r[0]) in wanted], schema)


def replace_scores(conn: Connection, first: date, frame: pl.DataFrame,
                   bins: pl.DataFrame | None = None) -> None:  # fmt: skip
    """The scores (and their bin counts) from `first` on: removed, then the frames inserted."""
    conn.execute(delete(risk_behaviour_scores).where(risk_behaviour_scores.c.as_of >= first))
    conn.execute(delete(risk_behaviour_bins).where(risk_behaviour_bins.c.as_of >= first))
    if not frame.is_empty():
        _insert(conn, risk_behaviour_scores, frame)
    if bins is not None and not bins.is_empty():
        _insert(conn, risk_behaviour_bins, bins)
