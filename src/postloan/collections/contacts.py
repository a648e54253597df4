"""Contacts with customers (OD-5, OD-6) and the contact policy that every one must pass.

`check_contact` is pure (in `rules.contacts`, re-exported here, with the input checks of
`record_contact`): a planned (or reported) contact, the customer's recent contacts, their
channel opt-outs and the jurisdiction's rules in, the rules it breaks out — each with the rule's
name, so the collector and the compliance report say *why*:

- `channel_opt_out`: the customer has opted out of this channel;
- `quiet_hours`: phone, SMS or visit inside the jurisdiction's quiet hours (local time of the
  jurisdiction's zone); letters and e-mail are not "at" a time of day for the customer;
- `two_staff_visit`: a field visit needs at least `contact.min_staff_per_visit` staff;
- `daily_call_cap`: the day's connected calls (conversations) already reach the cap;
- `weekly_call_cap`: call attempts in the 7 days up to this one already reach the cap;
- `cooldown_after_conversation`: a call within N days after a telephone conversation.

`record_contact` stores a compliant contact (and an audit entry) or stores the refusal and
raises `ContactRefused`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select

from postloan.access import audit
from postloan.collections.floors import complete_contact_tasks
from postloan.collections.rules.contacts import CHANNELS as CHANNELS
from postloan.collections.rules.contacts import CONVERSATION as CONVERSATION
from postloan.collections.rules.contacts import OUTCOMES as OUTCOMES
from postloan.collections.rules.contacts import TIMED_CHANNELS as TIMED_CHANNELS
from postloan.collections.rules.contacts import Contact as Contact
from postloan.collections.rules.contacts import ContactRefused as ContactRefused
from postloan.collections.rules.contacts import Violation as Violation
from postloan.collections.rules.contacts import check_contact as check_contact
from postloan.collections.rules.contacts import (
    check_record_inputs,
    promise_made_on,
    refusal_values,
)
from postloan.collections.tables import contact_opt_outs, contact_refusals, contacts, promises
from postloan.policy import Policy


def recent_contacts(conn: Connection, customer_id: str, before: datetime) -> list[Contact]:
    rows = conn.execute(
        select(contacts.c.at, contacts.c.channel, contacts.c.staff, contacts.c.outcome).where(
            contacts.c.customer_id == customer_id,
            contacts.c.at > before - timedelta(days=31),
        )
    ).all()
    return [
        Contact(customer_id, r.at, r.channel, tuple(json.loads(r.staff)), r.outcome) for r in rows
    ]


def opted_out_channels(conn: Connection, customer_id: str) -> set[str]:
    return set(
        conn.execute(
            select(contact_opt_outs.c.channel).where(contact_opt_outs.c.customer_id == customer_id)
        ).scalars()
    )


def record_contact(
    conn: Connection,
    contact: Contact,
    policy: Policy,
    *,
    recorded_by: str,
    account_id: str | None = None,
    content: str | None = None,
    response: str | None = None,
    promise: tuple[int, date] | None = None,
    jurisdiction: str | None = None,
) -> int:
    """Store a contact that passes the policy (returns its id), else store the refusal and
    raise `ContactRefused` naming every rule broken. The caller commits either way."""
    check_record_inputs(contact, promise)
    code = jurisdiction or policy.contact.default_jurisdiction
    rules = policy.contact.jurisdictions[code]
    history = recent_contacts(conn, contact.customer_id, contact.at)
    broken = check_contact(
        contact, history, opted_out_channels(conn, contact.customer_id), rules,
        policy.contact.min_staff_per_visit,
    )  # fmt: skip
    if broken:
        conn.execute(contact_refusals.insert().values(refusal_values(contact, recorded_by, broken)))
        raise ContactRefused(broken)
    key = conn.execute(
        contacts.insert().values(
            customer_id=contact.customer_id, account_id=account_id, at=contact.at,
            channel=contact.channel, recorded_by=recorded_by,
            staff=json.dumps(sorted(set(contact.staff)), ensure_ascii=False),
            outcome=contact.outcome, content=content, response=response,
            promise_amount=None if promise is None else promise[0],
            promise_date=None if promise is None else promise[1], jurisdiction=code,
        )
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    contact_id = key[0]
    if promise is not None:
        made_on = promise_made_on(contact, promise, rules.timezone)
        conn.execute(
            promises.insert().values(
                contact_id=contact_id, customer_id=contact.customer_id, account_id=account_id,
                amount=promise[0], made_on=made_on, due_on=promise[1], status="pending",
            )
        )  # fmt: skip
    complete_contact_tasks(conn, contact.customer_id, recorded_by, contact.channel, contact.at)
    audit.record(
        conn, actor=recorded_by, action="contact.record", target_type="customer",
        target_id=contact.customer_id,
        detail={"contact_id": int(contact_id), "channel": contact.channel,
                "outcome": contact.outcome},
        now=contact.at,
    )  # fmt: skip
    return int(contact_id)


def contacts_of(conn: Connection, customer_id: str) -> Sequence[object]:
    return conn.execute(
        select(contacts).where(contacts.c.customer_id == customer_id).order_by(contacts.c.at)
    ).all()
