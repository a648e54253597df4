"""Churn's section of a customer's 360° view (`Area.customer_view`): whether the customer is in
the churned-customer pool on the latest churn date (rules, degree, grade, reason, evidence), the
history of pool episodes and the officers' reason confirmations. Read fresh per request.

The hook is called for callers who may see the customer's accounts (else with None: empty).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from postloan.churn import read
from postloan.churn.rules.frames import RULES
from postloan.money import format_amount
from postloan.store.values import stored_date

EPISODES_SHOWN = 50


def _iso(value: Any) -> str | None:
    return None if value is None else stored_date(value).isoformat()


def current_row(row: Any) -> dict[str, Any]:
    return {
        "as_of": _iso(row.as_of),
        "rules": [k for k in RULES if row._mapping[k]],
        "first_identified": _iso(row.first_identified),
        "degree": row.degree,
        "grade": int(row.grade),
        "reason": row.reason,
        "reason_source": row.reason_source,
        "suggested_reason": row.suggested_reason,
        "worth_pursuing": bool(row.worth_pursuing),
        "balance": format_amount(int(row.balance)),
        "overdue_amount": format_amount(int(row.overdue_amount)),
        "max_dpd": int(row.max_dpd),
        "evidence": json.loads(row.evidence),
        "signals": json.loads(row.signals),
    }


def episode(row: Any) -> dict[str, Any]:
    return {
        "entered_on": _iso(row.entered_on),
        "left_on": _iso(row.left_on),
        "exit_reason": row.exit_reason,
        "entry_rules": [k for k in row.entry_rules.split(",") if k],
    }


def confirmation(row: Any) -> dict[str, Any]:
    return {
        "as_of": _iso(row.as_of),
        "reason": row.reason,
        "suggested": row.suggested,
        "note": row.note,
        "confirmed_by": row.confirmed_by,
        "confirmed_at": row.confirmed_at.isoformat() if hasattr(row.confirmed_at, "isoformat")
        else str(row.confirmed_at),
    }  # fmt: skip


def churn_section(conn: Connection, customer_id: str) -> dict[str, Any]:
    latest = read.latest_churn_date(conn)
    now = None
    if latest is not None:
        rows = [r for r in read.customer_rows(conn, customer_id, 1) if stored_date(r.as_of) ==
                latest]  # fmt: skip
        now = current_row(rows[0]) if rows else None
    return {
        "as_of": None if latest is None else latest.isoformat(),
        "in_pool": now is not None,
        "current": now,
        "episodes": [episode(e) for e in read.customer_episodes(conn, customer_id)][
            :EPISODES_SHOWN
        ],
        "reasons": [confirmation(r) for r in read.customer_reasons(conn, customer_id)][
            :EPISODES_SHOWN
        ],
    }


def customer_sections(conn: Connection, customer_id: str | None) -> dict[str, Any]:
    """`{"churn": {...}}`; `{"churn": null}` for None (a caller who may not see accounts)."""
    if customer_id is None:
        return {"churn": None}
    return {"churn": churn_section(conn, customer_id)}
