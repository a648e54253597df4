"""Risk's read models for the API and the workbench: a customer's risk card, the task queue,
the watch list on a date, and the back-test over stored history (the query shell around
`rules.backtest`). Scope clauses come from the caller (`access.scope`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, func, or_, select

from postloan.policy import Policy
from postloan.risk import queries
from postloan.risk.rules.backtest import ALERTS, DAILY, backtest
from postloan.risk.rules.overrides import OVERRIDES, SCORES, override_performance
from postloan.risk.rules.watch import openings
from postloan.risk.tables import risk_hits, risk_overrides, risk_scores, risk_tasks, risk_watch
from postloan.store.schema import customers, loans
from postloan.store.values import as_date, rows_frame


def latest_date(conn: Connection) -> date | None:
    return as_date(conn.execute(select(func.max(risk_scores.c.as_of))).scalar())


@dataclass(frozen=True)
class Card:
    latest: Any  # the latest score row, or None
    history: list[Any]  # score rows, newest first
    hits: list[Any]  # signal hits on the latest score date
    tasks: list[Any]  # tasks, newest first
    watch: list[Any]  # watch episodes, newest first
    overrides: list[Any]  # assessments, newest first

    @property
    def override(self) -> Any:
        """The approved assessment in force: the newest approved one for the latest date."""
        if self.latest is None:
            return None
        for row in self.overrides:
            if row.status == "approved" and as_date(row.as_of) == as_date(self.latest.as_of):
                return row
        return None


def card(conn: Connection, customer_id: str, history: int = 90) -> Card:
    s, h, t, w, o = risk_scores, risk_hits, risk_tasks, risk_watch, risk_overrides
    rows = conn.execute(
        select(s).where(s.c.customer_id == customer_id).order_by(s.c.as_of.desc()).limit(history)
    ).all()
    latest = rows[0] if rows else None
    hits = [] if latest is None else conn.execute(
        select(h).where(h.c.customer_id == customer_id, h.c.as_of == latest.as_of)
        .order_by(h.c.signal_id)
    ).all()  # fmt: skip
    return Card(
        latest=latest, history=list(rows), hits=list(hits),
        tasks=list(conn.execute(select(t).where(t.c.customer_id == customer_id)
                                .order_by(t.c.opened_on.desc(), t.c.task_id.desc()).limit(50))),
        watch=list(conn.execute(select(w).where(w.c.customer_id == customer_id)
                                .order_by(w.c.entered_on.desc()).limit(20))),
        overrides=list(conn.execute(select(o).where(o.c.customer_id == customer_id)
                                    .order_by(o.c.override_id.desc()).limit(20))),
    )  # fmt: skip


def tasks_page(
    conn: Connection, scope: ColumnElement[bool], status: str | None, signal_id: str | None,
    owner_role: str | None, page: int, page_size: int,
) -> tuple[int, list[Any]]:  # fmt: skip
    """The warning-task queue in scope: earliest due first."""
    t = risk_tasks
    query = select(t, customers.c.name).join(customers, customers.c.customer_id == t.c.customer_id)
    query = query.where(scope)
    if status is not None:
        query = query.where(t.c.status == status)
    if signal_id is not None:
        query = query.where(t.c.signal_id == signal_id)
    if owner_role is not None:
        query = query.where(t.c.owner_role == owner_role)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(t.c.due_on, t.c.task_id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return int(total), list(rows)


def watch_page(
    conn: Connection, scope: ColumnElement[bool], day: date, page: int, page_size: int
) -> tuple[int, list[Any]]:
    """Customers on the watch list on `day` (entered on or before, not left by then)."""
    w = risk_watch
    query = (
        select(w, customers.c.name, customers.c.branch_id)
        .join(customers, customers.c.customer_id == w.c.customer_id)
        .where(scope, w.c.entered_on <= day, or_(w.c.left_on.is_(None), w.c.left_on > day))
    )
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(w.c.entered_on, w.c.customer_id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()  # fmt: skip
    return int(total), list(rows)


def watch_exits(
    conn: Connection, scope: ColumnElement[bool], since: date, until: date
) -> list[Any]:
    """Episodes that ended in (since, until]: who left the watch list and why."""
    w = risk_watch
    return list(conn.execute(
        select(w, customers.c.name).join(customers, customers.c.customer_id == w.c.customer_id)
        .where(scope, w.c.left_on > since, w.c.left_on <= until)
        .order_by(w.c.left_on.desc(), w.c.customer_id).limit(200)
    ))  # fmt: skip


def backtest_report(
    conn: Connection, policy: Policy, since: date | None = None, until: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The back-test of every catalogue signal over the stored dates in [since, until]."""
    every = [d for d in queries.stored_dates(conn)
             if (since is None or d >= since) and (until is None or d <= until)]  # fmt: skip
    cfg = policy.risk
    ids = [s.id for s in cfg.signals]
    if not every:
        return backtest(pl.DataFrame(schema=ALERTS), pl.DataFrame(schema=DAILY), ids,
                        cfg.backtest.horizons_months, cfg.backtest.bad_min_dpd, 1)  # fmt: skip
    hits = queries.hits_since(conn, every[0]).filter(pl.col("as_of") <= every[-1])
    opened = openings(hits, every)
    officer = rows_frame(
        conn.execute(select(loans.c.customer_id, func.min(loans.c.officer_id))
                     .group_by(loans.c.customer_id)).all(),
        {"customer_id": pl.String, "officer_id": pl.String},
    )  # fmt: skip
    alerts = opened.join(officer, on="customer_id", how="left").select(
        "signal_id", "customer_id", alert_on=pl.col("opened_on"), officer_id=pl.col("officer_id")
    )
    s = risk_scores
    daily = rows_frame(
        [(r[0], as_date(r[1]), r[2]) for r in conn.execute(
            select(s.c.customer_id, s.c.as_of, s.c.worst_dpd)
            .where(s.c.as_of >= every[0], s.c.as_of <= every[-1]))],
        DAILY,
    )  # fmt: skip
    officers = conn.execute(select(func.count(func.distinct(loans.c.officer_id)))).scalar_one()
    return backtest(alerts, daily, ids, cfg.backtest.horizons_months, cfg.backtest.bad_min_dpd,
                    int(officers or 0))  # fmt: skip


def override_report(conn: Connection, policy: Policy, horizon_months: int) -> pl.DataFrame:
    """The override-performance report (`rules.overrides`) over every stored score."""
    o, s = risk_overrides, risk_scores
    approved = rows_frame(
        [(r[0], as_date(r[1]), r[2], r[3]) for r in conn.execute(
            select(o.c.customer_id, o.c.as_of, o.c.model_grade, o.c.grade)
            .where(o.c.status == "approved"))],
        OVERRIDES,
    )  # fmt: skip
    if approved.is_empty():
        return override_performance(approved, pl.DataFrame(schema=SCORES), [], 90, horizon_months)
    scores = rows_frame(
        [(r[0], as_date(r[1]), r[2], r[3]) for r in conn.execute(
            select(s.c.customer_id, s.c.as_of, s.c.grade, s.c.worst_dpd))],
        SCORES,
    )  # fmt: skip
    cfg = policy.risk
    return override_performance(approved, scores, [g.name for g in cfg.score.grades],
                                cfg.backtest.bad_min_dpd, horizon_months)  # fmt: skip
