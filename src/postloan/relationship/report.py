"""The complaint report (breach report) and the satisfaction report for a period, for the
API, the workbench and `postloan report complaints|satisfaction`. Scoped by a clause over
`customers` (the caller's data scope)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from postloan.policy import Policy
from postloan.relationship.complaints import clock_of
from postloan.relationship.surveys import figures, figures_by_tier, response_rates
from postloan.relationship.tables import complaints
from postloan.store.schema import customers

MAX_DAYS = 3 * 366  # a report covers at most three years


def complaint_report(
    conn: Connection,
    policy: Policy,
    start: date,
    end: date,
    as_of: date,
    scope: ColumnElement[bool],
) -> dict[str, Any]:
    """Complaints received in [start, end], each's clock as of `as_of`: counts by status,
    department, channel, business type and reason; every breach (undecided past its limit,
    or decided late) listed; how many decided ones have a root cause and fix recorded."""
    c = complaints.c
    rows = conn.execute(
        select(complaints)
        .join(customers, customers.c.customer_id == c.customer_id)
        .where(c.received_on >= start, c.received_on <= end, scope)
        .order_by(c.complaint_id)
    ).all()
    status: Counter[str] = Counter()
    by: dict[str, Counter[str]] = {
        k: Counter() for k in ("department", "channel", "business_type", "reason")
    }
    breaches, traced, decided = [], 0, 0
    for row in rows:
        clock = clock_of(row, policy, as_of)
        status[clock.status] += 1
        for k, counter in by.items():
            counter[getattr(row, k)] += 1
        if row.decided_on is not None:
            decided += 1
            traced += row.root_cause is not None
        if clock.status in ("breached", "decided_late"):
            breaches.append(
                {
                    "complaint_id": row.complaint_id,
                    "customer_id": row.customer_id,
                    "department": row.department,
                    "status": clock.status,
                    "deadline": clock.deadline.isoformat(),
                    "limit_days": clock.limit_days,
                    "handler": row.handler,
                }
            )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": as_of.isoformat(),
        "total": len(rows),
        "by_status": dict(status),
        **{f"by_{k}": dict(v) for k, v in by.items()},
        "decided": decided,
        "root_cause_recorded": traced,
        "breaches": breaches,
    }


def satisfaction_report(
    conn: Connection, policy: Policy, start: date, end: date, scope: ColumnElement[bool]
) -> dict[str, Any]:
    cfg = policy.relationship.surveys
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "confidence": cfg.confidence,
        "csat_satisfied_from": cfg.csat_satisfied_from,
        "interval_methods": {"csat": "Wilson score", "nps": "normal, multinomial variance"},
        "groups": figures(conn, policy, start, end, scope),
        "tiers": figures_by_tier(conn, policy, start, end, scope),
        "response_rates": response_rates(conn, start, end, scope),
    }
