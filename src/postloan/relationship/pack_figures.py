"""Relationship's figures for the management pack (`Area.kpi_figures`, issue 16 item 2):
complaints and satisfaction per calendar month and branch (the customer's), in the pack's long
shape. Definitions below, each with its version; the clock and the intervals are the area's
own (`rules.clock`, `rules.surveys`), so the pack and `postloan report complaints|satisfaction`
agree. Called by the management area through the registry."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Connection, or_, select

from postloan.area import KpiFigures, kpi_definition
from postloan.policy import Policy
from postloan.relationship.complaints import _calendar, facts
from postloan.relationship.rules.clock import deadline
from postloan.relationship.rules.surveys import csat, nps
from postloan.relationship.tables import complaints, survey_responses
from postloan.store.schema import customers
from postloan.store.values import stored_date

VERSION = 1  # raise whenever a 口径 below changes


def _definition(zh: str, en: str, numerator: str, denominator: str, basis: str) -> dict[str, Any]:
    return kpi_definition(VERSION, zh, en, numerator, denominator, basis)


DEFINITIONS: dict[str, dict[str, Any]] = {
    "complaints_received": _definition(
        "投诉受理量", "complaints received", "complaints received in the month", "none", "count"
    ),
    "complaint_on_time_rate": _definition(
        "投诉按时办结率",
        "complaints decided on time",
        "complaints decided in the month by their deadline (15/30/60 days, the policy's clock)",
        "complaints decided in the month",
        "count",
    ),
    "complaints_breached_open": _definition(
        "超时未办结投诉",
        "complaints open past their deadline",
        "complaints received by the month-end, undecided then, whose deadline had passed",
        "none",
        "count",
    ),
    "csat": _definition(
        "客户满意度（CSAT）",
        "customer satisfaction (CSAT)",
        "survey answers at or above the policy's satisfied score, answered in the month",
        "survey answers in the month (interval: Wilson)",
        "count",
    ),
    "nps": _definition(
        "净推荐值（NPS）",
        "net promoter score (NPS)",
        "share of promoters (9-10) less share of detractors (0-6), as a fraction",
        "survey answers in the month (interval: normal)",
        "score",
    ),
}


def _row(month: str, as_of: date, kpi: str, dimension: str, value: str, **n: Any) -> dict[str, Any]:
    return {"month": month, "as_of": as_of, "kpi": kpi, "dimension": dimension, "value": value,
            "numerator": n.get("numerator"), "denominator": n.get("denominator"),
            "ratio": n.get("ratio"), "low": n.get("low"), "high": n.get("high"),
            "definition_version": VERSION}  # fmt: skip


def complaint_frame(
    conn: Connection, policy: Policy, start: date, end: date, scope: ColumnElement[bool]
) -> pl.DataFrame:
    """Complaints received by `end` and not decided before `start`: complaint_id,
    customer_id, branch (the customer's), received_on, decided_on, deadline (one clock per
    complaint, not per month)."""
    c = complaints.c
    rows = conn.execute(
        select(complaints, customers.c.branch_id.label("_branch"))
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(c.received_on <= end, or_(c.decided_on.is_(None), c.decided_on >= start), scope)
        .order_by(c.complaint_id)
    ).all()
    clock, cal = policy.relationship.complaints.clock, _calendar(policy)
    data = [
        (
            row.complaint_id,
            row.customer_id,
            row._branch or "(none)",
            stored_date(row.received_on),
            None if row.decided_on is None else stored_date(row.decided_on),
            deadline(facts(row), clock, cal),
        )
        for row in rows
    ]
    return pl.DataFrame(
        data,
        schema={"complaint_id": pl.Int64, "customer_id": pl.String, "branch": pl.String,
                "received_on": pl.Date, "decided_on": pl.Date, "deadline": pl.Date},
        orient="row",
    )  # fmt: skip


def marked(frame: pl.DataFrame, month: str, as_of: date) -> pl.DataFrame:
    """`complaint_frame` with what each complaint adds to the month's figures (as_of: the
    month's figure date): received in the month, decided in it, decided in it by its
    deadline, and open past its deadline at as_of (received by then, undecided then)."""
    month_of = pl.col("received_on").dt.strftime("%Y-%m")
    decided_month = pl.col("decided_on").dt.strftime("%Y-%m")
    return frame.with_columns(
        (month_of == month).alias("received"),
        (decided_month == month).fill_null(False).alias("decided"),
        ((decided_month == month) & (pl.col("decided_on") <= pl.col("deadline")))
        .fill_null(False)
        .alias("on_time"),
        (
            (pl.col("received_on") <= as_of)
            & (pl.col("decided_on").is_null() | (pl.col("decided_on") > as_of))
            & (pl.col("deadline") < as_of)
        ).alias("breached"),
    )


def _complaint_rows(frame: pl.DataFrame, months: list[tuple[str, date]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for month, as_of in months:
        marks = marked(frame, month, as_of)
        whole = marks.with_columns(pl.lit("all").alias("branch"))
        for dimension, part in (("portfolio", whole), ("branch", marks)):
            sums = part.group_by("branch").agg(
                pl.col("received", "decided", "on_time", "breached").sum().cast(pl.Int64)
            )
            if dimension == "portfolio" and not sums.height:
                sums = pl.DataFrame({"branch": ["all"], "received": [0], "decided": [0],
                                     "on_time": [0], "breached": [0]})  # fmt: skip
            for r in sums.sort("branch").iter_rows(named=True):
                value = r["branch"]
                out.append(_row(month, as_of, "complaints_received", dimension, value,
                                numerator=r["received"]))  # fmt: skip
                out.append(
                    _row(month, as_of, "complaint_on_time_rate", dimension, value,
                         numerator=r["on_time"], denominator=r["decided"],
                         ratio=r["on_time"] / r["decided"] if r["decided"] else None)
                )  # fmt: skip
                out.append(_row(month, as_of, "complaints_breached_open", dimension, value,
                                numerator=r["breached"]))  # fmt: skip
    return out


def _survey_rows(
    conn: Connection,
    policy: Policy,
    months: list[tuple[str, date]],
    start: date,
    scope: ColumnElement[bool],
) -> list[dict[str, Any]]:
    """CSAT and NPS per month and branch (the branch when answered) and for all branches."""
    r = survey_responses.c
    end = months[-1][1]
    rows = conn.execute(
        select(r.branch_id, r.answered_on, r.csat, r.nps)
        .join(customers, customers.c.customer_id == r.customer_id)
        .where(r.answered_on >= start, r.answered_on <= end, scope)
    ).all()
    cfg = policy.relationship.surveys
    groups: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for branch, day, c, n in rows:
        month = str(day)[:7]
        groups.setdefault((month, "branch", branch or "(none)"), []).append((int(c), int(n)))
        groups.setdefault((month, "portfolio", "all"), []).append((int(c), int(n)))
    ends = dict(months)
    out: list[dict[str, Any]] = []
    for (month, dimension, value), answers in sorted(groups.items()):
        if month not in ends:
            continue
        scores = [c for c, _ in answers]
        sat = csat(scores, cfg.csat_satisfied_from, cfg.confidence)
        satisfied = sum(1 for c in scores if c >= cfg.csat_satisfied_from)
        promoter = nps([n for _, n in answers], cfg.confidence)

        def frac(v: float | None) -> float | None:
            return None if v is None else v / 100

        out.append(_row(month, ends[month], "csat", dimension, value, numerator=satisfied,
                        denominator=sat.n, ratio=frac(sat.value), low=frac(sat.low),
                        high=frac(sat.high)))  # fmt: skip
        out.append(_row(month, ends[month], "nps", dimension, value, denominator=promoter.n,
                        ratio=frac(promoter.value), low=frac(promoter.low),
                        high=frac(promoter.high)))  # fmt: skip
    return out


def kpi_figures(
    conn: Connection, policy: Policy, months: list[tuple[str, date]], scope: ColumnElement[bool]
) -> KpiFigures:
    """Complaints and satisfaction of the pack's months in `scope` (a customers clause)."""
    if not months:
        return KpiFigures(DEFINITIONS, pl.DataFrame())
    start = date.fromisoformat(months[0][0] + "-01")
    rows = _complaint_rows(complaint_frame(conn, policy, start, months[-1][1], scope), months)
    rows += _survey_rows(conn, policy, months, start, scope)
    schema = {"month": pl.String, "as_of": pl.Date, "kpi": pl.String, "dimension": pl.String,
              "value": pl.String, "numerator": pl.Float64, "denominator": pl.Float64,
              "ratio": pl.Float64, "low": pl.Float64, "high": pl.Float64,
              "definition_version": pl.Int64}  # fmt: skip
    return KpiFigures(DEFINITIONS, pl.DataFrame(rows, schema=schema, orient="row"))
