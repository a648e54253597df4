"""Contact plans (CR-1): plans per segment (a branch, a tier, both or neither) turned into
planned contacts by the daily step, each checked by the lawful-contact rule
(`rules.contact`): a marketing contact without consent (the consent log's latest record, else
the imported flag), or over a channel the customer opted out of (collections' opt-outs), is
derived `refused` naming the rules (`consent_facts.contact_facts` reads both for the whole
segment at once); service contacts are never refused. A contact completed with the outcome
`refused_further_contact` records the customer's withdrawal of marketing consent in the
consent log (`access.consent`), so later marketing contacts — and survey invitations that need
consent — are refused from that day; service contacts go on. Flushes, never commits.

The step is idempotent: from the run's first date, derived contacts not yet worked (`open`,
`refused`) are deleted and derived again; worked ones (`done`) stay and are not derived twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, insert, select, update

from postloan.access import audit
from postloan.access.consent import Purpose, record_consent
from postloan.errors import ConflictError, InvalidError, NotFoundError
from postloan.relationship.consent_facts import contact_facts
from postloan.relationship.rules.contact import CHANNELS, PURPOSES, due, refused_rules
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


def _segment(conn: Connection, plan: Any, day: date) -> list[str]:
    """The plan's customers on `day`: those with a stored account status that day (in the
    plan's branch, if it names one; held in the plan's tier that day, if it names one — by
    SQL of the tiers area's table, `relationship.tiers`)."""
    if plan.tier is not None and not has_tiers(conn):
        return []
    with_accounts = select(account_status.c.customer_id).where(account_status.c.as_of == day)
    q = select(customers.c.customer_id).where(customers.c.customer_id.in_(with_accounts))
    if plan.branch_id is not None:
        q = q.where(customers.c.branch_id == plan.branch_id)
    if plan.tier is not None:
        q = q.where(customers.c.customer_id.in_(customers_in_tiers([day], [plan.tier])))
    return list(conn.execute(q).scalars())


def derive_for_dates(conn: Connection, first: date, days: list[date]) -> int:
    """The daily step: planned contacts of the active plans due on `days` (module doc). Per
    (day, plan) a few set-based queries and one polars expression (`rules.contact`) over the
    segment: no per-customer loop."""
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
            worked = list(
                conn.execute(
                    select(C.customer_id).where(C.plan_id == plan.plan_id, C.due_on == day)
                ).scalars()
            )
            facts = contact_facts(conn, people, day, plan.channel).filter(
                ~pl.col("customer_id").is_in(worked)
            )
            if facts.is_empty():
                continue
            rules = (
                refused_rules(facts, True, day)
                if plan.purpose == "marketing"
                else pl.lit(None, dtype=pl.String)  # service contacts are never refused
            )
            rows = facts.select(
                pl.lit(plan.plan_id).alias("plan_id"),
                "customer_id",
                pl.lit(day).alias("due_on"),
                pl.lit(plan.channel).alias("channel"),
                pl.lit(plan.purpose).alias("purpose"),
                rules.alias("refused_rules"),
            ).with_columns(
                pl.when(pl.col("refused_rules").is_null())
                .then(pl.lit("open"))
                .otherwise(pl.lit("refused"))
                .alias("status")
            )
            conn.execute(insert(planned_contacts), rows.to_dicts())
            added += rows.height
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
    withdrawn = outcome == "refused_further_contact"
    if withdrawn:  # an opt-out of marketing (all channels); service contacts go on
        record_consent(
            conn, row.customer_id, Purpose.MARKETING, False, now, f"planned_contact:{contact_id}"
        )
    audit.record(
        conn,
        actor=actor,
        action="contact.done",
        target_type="planned_contact",
        target_id=str(contact_id),
        detail={"customer_id": row.customer_id, "outcome": outcome, "purpose": row.purpose,
                "marketing_consent_withdrawn": withdrawn},
        now=now,
    )  # fmt: skip
