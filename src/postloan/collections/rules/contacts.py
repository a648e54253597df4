"""Contact policy rules (OD-5, OD-6), pure: the rules a planned or reported contact breaks
(`check_contact`) and the checks of a contact's inputs before it is recorded (the store side:
`contacts`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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


def check_record_inputs(contact: Contact, promise: tuple[int, date] | None) -> None:
    """A contact to record has a known channel and outcome, and only a promise_to_pay outcome
    carries a promise (ValueError otherwise)."""
    if contact.channel not in CHANNELS:
        raise ValueError(f"channel: one of {', '.join(CHANNELS)}, not {contact.channel!r}")
    if contact.outcome not in OUTCOMES:
        raise ValueError(f"outcome: one of {', '.join(OUTCOMES)}, not {contact.outcome!r}")
    if promise is not None and contact.outcome != "promise_to_pay":
        raise ValueError("promise: only a promise_to_pay outcome carries a promise")


def promise_made_on(contact: Contact, promise: tuple[int, date], timezone: str) -> date:
    """The local day (in the jurisdiction's `timezone`) a promise is made on; ValueError unless
    its amount is positive and it is due on or after that day."""
    made_on = contact.at.astimezone(ZoneInfo(timezone)).date()
    if promise[0] <= 0 or promise[1] < made_on:
        raise ValueError("promise: a positive amount, due on or after the day it is made")
    return made_on


def refusal_values(contact: Contact, recorded_by: str, broken: list[Violation]) -> dict[str, Any]:
    """The stored refusal of a contact that breaks `broken`."""
    return {
        "customer_id": contact.customer_id, "at": contact.at, "channel": contact.channel,
        "recorded_by": recorded_by, "rules": ",".join(v.rule for v in broken),
        "detail": "; ".join(v.message for v in broken),
    }  # fmt: skip
