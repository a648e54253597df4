"""Contact-compliance rules (OD-5, OD-6), pure: the week a report covers, the open cases below
their weekly floor, and the recorded contacts that break a rule against the contacts before them
(the store side: `compliance`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from postloan.collections.rules.contacts import Contact, check_contact
from postloan.policy import Policy
from postloan.policy.jurisdiction import JurisdictionRules


def week_window(as_of: date, zone: str) -> tuple[datetime, datetime]:
    """The 7 local days up to and including D (a contact at 23:30 in Beijing belongs to its
    Beijing day), as instants."""
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    return end - timedelta(days=7), end


def below_floor(
    open_cases: Iterable[tuple[int, str]], worst: Mapping[str, int], made: Mapping[str, int],
    policy: Policy, capacity: int | None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The open cases (case_id, customer_id, in order) whose customer made fewer contacts in
    the week (`made`) than the weekly minimum of the bucket of their worst DPD on D (`worst`;
    a customer without one is skipped), never above the weekly call `capacity`."""
    out = []
    for case_id, customer_id in open_cases:
        dpd = worst.get(customer_id)
        if dpd is None:
            continue
        bucket = policy.bucket_for(int(dpd))
        floor = policy.collections.min_contacts_per_week.get(bucket, 0)
        if capacity is not None:
            floor = min(floor, capacity)
        if made.get(customer_id, 0) < floor:
            out.append(
                {"case_id": case_id, "customer_id": customer_id, "bucket": bucket,
                 "floor": floor, "contacts": made.get(customer_id, 0)}
            )  # fmt: skip
    return out


def above_cap(
    recorded: Iterable[Any], opted: Mapping[str, Mapping[str, date]], start: datetime,
    policy: Policy, rules: JurisdictionRules,
) -> list[dict[str, Any]]:  # fmt: skip
    """The contacts from `start` on that break a rule (`check_contact`) against the customer's
    contacts before them. `recorded`: stored contact rows (contact_id, customer_id, at, channel,
    staff as JSON, outcome, jurisdiction) sorted by customer, time and id, from 31 days before
    `start`; `opted`: customer → channel → the date the opt-out took effect; `rules`: the
    default jurisdiction's, for a contact whose jurisdiction the policy does not know."""
    out = []
    history: dict[str, list[Contact]] = {}
    for c in recorded:
        at = c.at
        this = Contact(c.customer_id, at, c.channel, tuple(json.loads(c.staff)), c.outcome)
        before = history.setdefault(c.customer_id, [])
        if at >= start:
            jurisdiction = policy.contact.jurisdictions.get(c.jurisdiction, rules)
            local_day = at.astimezone(ZoneInfo(jurisdiction.timezone)).date()
            out_then = {ch for ch, since in opted.get(c.customer_id, {}).items()
                        if since <= local_day}  # fmt: skip
            broken = check_contact(
                this, before, out_then, jurisdiction, policy.contact.min_staff_per_visit
            )
            if broken:
                out.append(
                    {"contact_id": c.contact_id, "customer_id": c.customer_id, "at": at,
                     "rules": [v.rule for v in broken]}
                )  # fmt: skip
        before.append(this)
    return out
