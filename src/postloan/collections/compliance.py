"""The contact-compliance report (OD-5, OD-6) for the week ending on a business date D:

- **below the floor**: open cases whose customer had fewer contacts in the 7 days up to D than
  the policy's weekly minimum for their worst bucket on D (`collections.min_contacts_per_week`,
  never above what the jurisdiction's call caps allow in a week);
- **refused**: contacts the policy refused in those 7 days, with the rules they broke;
- **above a cap**: recorded contacts that break a rule when checked against the contacts before
  them — none can be recorded through `record_contact`, so any here came in another way (an
  import, a database edit) and need a look.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from postloan.collections.contacts import Contact, check_contact
from postloan.collections.tables import cases, contact_opt_outs, contact_refusals, contacts
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import as_date


@dataclass
class ComplianceReport:
    week_ending: date
    below_floor: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    above_cap: list[dict[str, Any]] = field(default_factory=list)


def _window(as_of: date, zone: str) -> tuple[datetime, datetime]:
    """The 7 local days up to and including D (a contact at 23:30 in Beijing belongs to its
    Beijing day), as instants."""
    end = datetime.combine(as_of + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))
    return end - timedelta(days=7), end


def compliance_report(conn: Connection, as_of: date, policy: Policy) -> ComplianceReport:
    report = ComplianceReport(week_ending=as_of)
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    start, end = _window(as_of, rules.timezone)
    capacity = rules.weekly_call_capacity

    worst = dict(
        conn.execute(
            select(account_status.c.customer_id, func.max(account_status.c.dpd))
            .where(account_status.c.as_of == as_of, account_status.c.dpd > 0)
            .group_by(account_status.c.customer_id)
        ).all()
    )
    week = conn.execute(
        select(contacts.c.customer_id, func.count())
        .where(contacts.c.at >= start, contacts.c.at < end)
        .group_by(contacts.c.customer_id)
    ).all()
    made = {customer: int(n) for customer, n in week}
    for case in conn.execute(
        select(cases.c.case_id, cases.c.customer_id, cases.c.stage)
        .where(cases.c.status == "open")
        .order_by(cases.c.case_id)
    ):
        dpd = worst.get(case.customer_id)
        if dpd is None:
            continue
        bucket = policy.bucket_for(int(dpd))
        floor = policy.collections.min_contacts_per_week.get(bucket, 0)
        if capacity is not None:
            floor = min(floor, capacity)
        if made.get(case.customer_id, 0) < floor:
            report.below_floor.append(
                {"case_id": case.case_id, "customer_id": case.customer_id, "bucket": bucket,
                 "floor": floor, "contacts": made.get(case.customer_id, 0)}
            )  # fmt: skip

    for r in conn.execute(
        select(contact_refusals)
        .where(contact_refusals.c.at >= start, contact_refusals.c.at < end)
        .order_by(contact_refusals.c.at)
    ):
        report.refused.append(
            {"customer_id": r.customer_id, "at": r.at, "channel": r.channel,
             "recorded_by": r.recorded_by, "rules": r.rules.split(","), "detail": r.detail}
        )  # fmt: skip

    opted: dict[str, dict[str, date]] = {}
    for o in conn.execute(select(contact_opt_outs)):
        since = as_date(o.since)
        assert since is not None
        opted.setdefault(o.customer_id, {})[o.channel] = since
    history: dict[str, list[Contact]] = {}
    for c in conn.execute(
        select(contacts).where(contacts.c.at < end, contacts.c.at >= start - timedelta(days=31))
        .order_by(contacts.c.customer_id, contacts.c.at, contacts.c.contact_id)
    ):  # fmt: skip
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
                report.above_cap.append(
                    {"contact_id": c.contact_id, "customer_id": c.customer_id, "at": at,
                     "rules": [v.rule for v in broken]}
                )  # fmt: skip
        before.append(this)
    return report
