"""Contacts with customers (OD-5, OD-6) and the contact policy that every one must pass.

`check_contact` is pure: a planned (or reported) contact, the customer's recent contacts, their
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from postloan.access import audit
from postloan.collections.floors import complete_contact_tasks
from postloan.collections.tables import contact_opt_outs, contact_refusals, contacts, promises
from postloan.policy import Policy
from postloan.policy.jurisdiction import JurisdictionRules

CHANNELS = ("phone", "sms", "letter", "visit", "email")
TIMED_CHANNELS = ("phone", "sms", "visit")  # those quiet hours apply to
CONVERSATION = ("connected", "promise_to_pay", "refused_to_pay", "dispute")
OUTCOMES = (
    *CONVERSATION,
    "no_answer", "busy", "wrong_number", "left_message",  # phone
    "sent", "delivery_failed",  # sms, letter, email
    "met", "not_home",  # visit
)  # fmt: skip


@dataclass(frozen=True)
class Contact:
    """A contact as planned or reported; `at` is timezone-aware."""

    customer_id: str
    at: datetime
    channel: str
    staff: tuple[str, ...]
    outcome: str | None = None  # None while planned


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str  # English, for logs, the API and the compliance report
    # The figures in the message, for screens that word it in their own language.
    params: dict[str, str | int] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class ContactRefused(Exception):
    violations: list[Violation] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"{v.rule}: {v.message}" for v in self.violations)


def _is_call(c: Contact) -> bool:
    return c.channel == "phone"


def check_contact(
    planned: Contact,
    history: Iterable[Contact],
    opted_out: Iterable[str],
    rules: JurisdictionRules,
    min_staff_per_visit: int,
) -> list[Violation]:
    """Every rule `planned` breaks, given the customer's earlier contacts (see module doc)."""
    if planned.at.tzinfo is None:
        raise ValueError("at: a contact time must carry its time zone")
    zone = ZoneInfo(rules.timezone)
    local = planned.at.astimezone(zone)
    past = [c for c in history if c.at <= planned.at]
    out: list[Violation] = []
    if planned.channel in set(opted_out):
        out.append(
            Violation(
                "channel_opt_out",
                f"the customer opted out of {planned.channel}",
                {"channel": planned.channel},
            )
        )
    if planned.channel in TIMED_CHANNELS and rules.in_quiet_hours(local.time()):
        start, end = rules.quiet_hours_start, rules.quiet_hours_end
        out.append(
            Violation(
                "quiet_hours",
                f"{local:%H:%M} ({rules.timezone}) is within the quiet hours "
                f"{start:%H:%M}-{end:%H:%M}",
                {
                    "time": f"{local:%H:%M}",
                    "zone": rules.timezone,
                    "start": f"{start:%H:%M}",
                    "end": f"{end:%H:%M}",
                },
            )
        )
    if planned.channel == "visit" and len(set(planned.staff)) < min_staff_per_visit:
        out.append(
            Violation(
                "two_staff_visit",
                f"a visit needs at least {min_staff_per_visit} staff, "
                f"got {len(set(planned.staff))}",
                {"needed": min_staff_per_visit, "got": len(set(planned.staff))},
            )
        )
    if not _is_call(planned):
        return out
    calls = [c for c in past if _is_call(c)]
    conversations = [c for c in calls if c.outcome in CONVERSATION]
    cap = rules.max_connected_calls_per_day
    if cap is not None:
        today = [c for c in conversations if c.at.astimezone(zone).date() == local.date()]
        if len(today) >= cap:
            out.append(
                Violation(
                    "daily_call_cap",
                    f"{len(today)} connected calls today (cap {cap})",
                    {"count": len(today), "cap": cap},
                )
            )
    weekly = rules.max_call_attempts_per_7_days
    if weekly is not None:
        recent = [c for c in calls if c.at > planned.at - timedelta(days=7)]
        if len(recent) >= weekly:
            out.append(
                Violation(
                    "weekly_call_cap",
                    f"{len(recent)} call attempts in 7 days (cap {weekly})",
                    {"count": len(recent), "cap": weekly},
                )
            )
    cooldown = rules.cooldown_days_after_conversation
    if cooldown and conversations:
        last = max(c.at for c in conversations)
        if planned.at < last + timedelta(days=cooldown):
            out.append(
                Violation(
                    "cooldown_after_conversation",
                    f"a conversation on {last.astimezone(zone):%Y-%m-%d %H:%M}; no calls for "
                    f"{cooldown} days after one",
                    {"last": f"{last.astimezone(zone):%Y-%m-%d %H:%M}", "days": cooldown},
                )
            )
    return out


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
    if contact.channel not in CHANNELS:
        raise ValueError(f"channel: one of {', '.join(CHANNELS)}, not {contact.channel!r}")
    if contact.outcome not in OUTCOMES:
        raise ValueError(f"outcome: one of {', '.join(OUTCOMES)}, not {contact.outcome!r}")
    if promise is not None and contact.outcome != "promise_to_pay":
        raise ValueError("promise: only a promise_to_pay outcome carries a promise")
    code = jurisdiction or policy.contact.default_jurisdiction
    rules = policy.contact.jurisdictions[code]
    history = recent_contacts(conn, contact.customer_id, contact.at)
    broken = check_contact(
        contact, history, opted_out_channels(conn, contact.customer_id), rules,
        policy.contact.min_staff_per_visit,
    )  # fmt: skip
    if broken:
        conn.execute(
            contact_refusals.insert().values(
                customer_id=contact.customer_id, at=contact.at, channel=contact.channel,
                recorded_by=recorded_by, rules=",".join(v.rule for v in broken),
                detail="; ".join(v.message for v in broken),
            )
        )  # fmt: skip
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
        made_on = contact.at.astimezone(ZoneInfo(rules.timezone)).date()
        if promise[0] <= 0 or promise[1] < made_on:
            raise ValueError("promise: a positive amount, due on or after the day it is made")
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
