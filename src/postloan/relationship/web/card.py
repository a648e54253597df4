"""The customer's relationship card on the 360° page (`Area.customer_panel`): complaints with
their clocks, hardship plans and the points balance — for `relationship.view` holders whose
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
from postloan.relationship.tables import complaints, hardship_plans
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
        "complaints": [(r, svc.clock_of(r, policy, day)) for r in rows],
        "plans": plans,
        "points": balance(conn, customer_id),
    }
