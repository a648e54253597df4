"""The customer's relationship card on the 360° page (`Area.customer_panel`): complaints with
their clocks, hardship plans, the points balance and the contacts timeline (planned contacts
of the contact plans and survey invitations, newest first) — for `relationship.view` holders whose
scope holds the customer (nothing otherwise)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from postloan.access import User, can
from postloan.access.scope import visible_customer
from postloan.calendar import PRC_TZ
from postloan.policy.loader import policy_in_force
from postloan.relationship import complaints as svc
from postloan.relationship.actions import RelAction
from postloan.relationship.loyalty import balance
from postloan.relationship.tables import (
    complaints,
    contact_plans,
    hardship_plans,
    planned_contacts,
    survey_invitations,
)
from postloan.web.pages import now


def customer_panel(
    conn: Connection, user: User, customer_id: str, lang: str
) -> tuple[str, dict[str, Any]] | None:
    if not can(user.role, RelAction.VIEW):
        return None
    if visible_customer(conn, user, customer_id, RelAction.VIEW) is None:
        return None
    policy = policy_in_force().policy
    day = now().astimezone(PRC_TZ).date()
    rows = conn.execute(
        select(complaints)
        .where(complaints.c.customer_id == customer_id)
        .order_by(complaints.c.complaint_id.desc())
        .limit(20)
    ).all()
    plans = conn.execute(
        select(hardship_plans)
        .where(hardship_plans.c.customer_id == customer_id)
        .order_by(hardship_plans.c.plan_id.desc())
        .limit(20)
    ).all()
    return "relationship/card.html", {
        "contacts": timeline(conn, customer_id),
        "complaints": [(r, svc.clock_of(r, policy, day)) for r in rows],
        "plans": plans,
        "points": balance(conn, customer_id),
    }


def timeline(conn: Connection, customer_id: str, limit: int = 30) -> list[dict[str, Any]]:
    """The customer's planned contacts and survey invitations, newest first (two indexed
    queries of at most `limit` rows each, merged)."""
    c, p, i = planned_contacts.c, contact_plans.c, survey_invitations.c
    planned = conn.execute(
        select(c.due_on, c.status, c.channel, c.purpose, c.refused_rules, c.outcome, p.name)
        .join(contact_plans, p.plan_id == c.plan_id)
        .where(c.customer_id == customer_id)
        .order_by(c.due_on.desc(), c.contact_id.desc())
        .limit(limit)
    ).all()
    invited = conn.execute(
        select(i.invited_on, i.status, i.channel, i.event, i.refused_rules)
        .where(i.customer_id == customer_id)
        .order_by(i.invited_on.desc())
        .limit(limit)
    ).all()
    rows = [
        {"on": str(r.due_on)[:10], "kind": "contact", "what": r.name, "purpose": r.purpose,
         "channel": r.channel, "status": r.status, "rules": r.refused_rules,
         "outcome": r.outcome}
        for r in planned
    ] + [
        {"on": str(r.invited_on)[:10], "kind": "invitation", "what": r.event,
         "purpose": "service", "channel": r.channel, "status": r.status,
         "rules": r.refused_rules, "outcome": None}
        for r in invited
    ]  # fmt: skip
    return sorted(rows, key=lambda r: r["on"], reverse=True)[:limit]
