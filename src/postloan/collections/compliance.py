"""The contact-compliance report (OD-5, OD-6) for the week ending on a business date D:

- **below the floor**: open cases whose customer had fewer contacts in the 7 days up to D than
  the policy's weekly minimum for their worst bucket on D (`collections.min_contacts_per_week`,
  never above what the jurisdiction's call caps allow in a week);
- **refused**: contacts the policy refused in those 7 days, with the rules they broke;
- **above a cap**: recorded contacts that break a rule when checked against the contacts before
  them — none can be recorded through `record_contact`, so any here came in another way (an
  import, a database edit) and need a look.

Below the floor and above a cap are decided by pure functions over what is read here
(`rules.compliance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from postloan.collections.rules.compliance import above_cap, below_floor, week_window
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


def compliance_report(conn: Connection, as_of: date, policy: Policy) -> ComplianceReport:
    report = ComplianceReport(week_ending=as_of)
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    start, end = week_window(as_of, rules.timezone)
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
    open_cases = conn.execute(
        select(cases.c.case_id, cases.c.customer_id).where(cases.c.status == "open")
        .order_by(cases.c.case_id)
    ).all()  # fmt: skip
    report.below_floor = below_floor(
        [(r[0], r[1]) for r in open_cases], worst, made, policy, capacity
    )

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
    recorded = conn.execute(
        select(contacts).where(contacts.c.at < end, contacts.c.at >= start - timedelta(days=31))
        .order_by(contacts.c.customer_id, contacts.c.at, contacts.c.contact_id)
    ).all()  # fmt: skip
    report.above_cap = above_cap(recorded, opted, start, policy, rules)
    return report
