"""Contact plans (CR-1): plans per segment (a branch, a tier, both or neither) turned into
planned contacts by the daily step, each checked by the lawful-contact rule
(`rules.contact`): a marketing contact without consent, or over a channel the customer opted
out of (collections' opt-outs, read through `collections.handover.opt_out_rows`), is derived
`refused` naming the rules; service contacts are never refused. Flushes, never commits.

The step is idempotent: from the run's first date, derived contacts not yet worked (`open`,
`refused`) are deleted and derived again; worked ones (`done`) stay and are not derived twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from postloan.access import audit
from postloan.collections.handover import opt_out_rows
from postloan.errors import ConflictError, InvalidError, NotFoundError
from postloan.relationship.rules.contact import (
    CHANNELS,
    PURPOSES,
    ContactFacts,
    contact_refusals,
    due,
)
from postloan.relationship.tables import contact_plans, planned_contacts
from postloan.relationship.tiers import TIERS, customers_in_tiers, has_tiers
from postloan.store.schema import account_status, customers
from postloan.store.values import stored_date

MAX_CADENCE = 366
OUTCOMES = ("reached", "not_reached", "refused_further_contact")
P, C = contact_plans.c, planned_contacts.c


def create_plan(
    conn: Connection,
    *,
    name: str,
    branch_id: str | None,
    channel: str,
    purpose: str,
    cadence_days: int,
    starts_on: date,
    actor: str,
    now: datetime,
    tier: str | None = None,
) -> int:
    title = name.strip()
    if not title or len(title) > 100:
        raise InvalidError("name: 1 to 100 characters", field="name")
    if channel not in CHANNELS:
        raise InvalidError(f"channel: one of {', '.join(CHANNELS)}", field="channel")
    if purpose not in PURPOSES:
        raise InvalidError(f"purpose: one of {', '.join(PURPOSES)}", field="purpose")
    if tier is not None and tier not in TIERS:
        raise InvalidError(f"tier: one of {', '.join(TIERS)}", field="tier")
    if not 1 <= cadence_days <= MAX_CADENCE:
        raise InvalidError(f"cadence_days: 1 to {MAX_CADENCE}", field="cadence_days")
    key = conn.execute(
        insert(contact_plans).values(
            name=title,
            branch_id=branch_id,
            tier=tier,
            channel=channel,
            purpose=purpose,
            cadence_days=cadence_days,
            starts_on=starts_on,
            active=True,
            created_by=actor,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    audit.record(
        conn,
        actor=actor,
        action="contact.plan",
        target_type="contact_plan",
        target_id=str(key[0]),
        detail={
            "name": title,
            "branch_id": branch_id,
            "tier": tier,
            "channel": channel,
            "purpose": purpose,
            "cadence_days": cadence_days,
            "starts_on": starts_on.isoformat(),
        },
        now=now,
    )
    return int(key[0])


def _segment(conn: Connection, plan: Any, day: date) -> list[Any]:
    """The plan's customers on `day`: those with a stored account status that day (in the
    plan's branch, if it names one; held in the plan's tier that day, if it names one — by
    SQL of the tiers area's table, `relationship.tiers`), with their consent."""
    if plan.tier is not None and not has_tiers(conn):
        return []
    with_accounts = select(account_status.c.customer_id).where(account_status.c.as_of == day)
    q = select(
        customers.c.customer_id, customers.c.consent_marketing, customers.c.consent_date
    ).where(customers.c.customer_id.in_(with_accounts))
    if plan.branch_id is not None:
        q = q.where(customers.c.branch_id == plan.branch_id)
    if plan.tier is not None:
        q = q.where(customers.c.customer_id.in_(customers_in_tiers([day], [plan.tier])))
    return list(conn.execute(q))


def derive_for_dates(conn: Connection, first: date, days: list[date]) -> int:
    """The daily step: planned contacts of the active plans due on `days` (module doc)."""
    conn.execute(delete(planned_contacts).where(C.due_on >= first, C.status != "done"))
    plans = list(conn.execute(select(contact_plans).where(P.active.is_(True))))
    added = 0
    for day in days:
        for plan in plans:
            if not due(stored_date(plan.starts_on), int(plan.cadence_days), day):
                continue
            people = _segment(conn, plan, day)
            if not people:
                continue
            ids = select(customers.c.customer_id).where(
                customers.c.customer_id.in_([p.customer_id for p in people])
            )
            opted: dict[str, set[str]] = {}
            for customer, channel, since in opt_out_rows(conn, ids):
                if since <= day:
                    opted.setdefault(customer, set()).add(channel)
            worked = set(
                conn.execute(
                    select(C.customer_id).where(C.plan_id == plan.plan_id, C.due_on == day)
                ).scalars()
            )
            rows = []
            for p in people:
                if p.customer_id in worked:
                    continue
                facts = ContactFacts(
                    p.consent_marketing,
                    None if p.consent_date is None else stored_date(p.consent_date),
                    frozenset(opted.get(p.customer_id, ())),
                )
                refused = contact_refusals(plan.purpose, plan.channel, facts, day)
                rows.append(
                    {
                        "plan_id": plan.plan_id,
                        "customer_id": p.customer_id,
                        "due_on": day,
                        "channel": plan.channel,
                        "purpose": plan.purpose,
                        "status": "refused" if refused else "open",
                        "refused_rules": ",".join(r.code for r in refused) or None,
                    }
                )
            if rows:
                conn.execute(insert(planned_contacts), rows)
                added += len(rows)
    return added


def complete(conn: Connection, contact_id: int, outcome: str, *, actor: str, now: datetime) -> None:
    row = conn.execute(select(planned_contacts).where(C.contact_id == contact_id)).first()
    if row is None:
        raise NotFoundError(f"planned contact {contact_id}: not found", field="contact_id")
    if row.status != "open":
        raise ConflictError(f"planned contact {contact_id}: {row.status}", field="status")
    if outcome not in OUTCOMES:
        raise InvalidError(f"outcome: one of {', '.join(OUTCOMES)}", field="outcome")
    conn.execute(
        update(planned_contacts)
        .where(C.contact_id == contact_id)
        .values(status="done", outcome=outcome, done_by=actor, done_at=now)
    )
    audit.record(
        conn,
        actor=actor,
        action="contact.done",
        target_type="planned_contact",
        target_id=str(contact_id),
        detail={"customer_id": row.customer_id, "outcome": outcome, "purpose": row.purpose},
        now=now,
    )
