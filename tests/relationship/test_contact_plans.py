"""Contact plans (CR-1): the lawful-contact rule for every marketing channel (consent and
opt-outs refused by name; service contacts unaffected), and the daily step on a real store
(SQLite and PostgreSQL): contacts derived per segment, refusals equal a plain recomputation,
re-running a date leaves the same rows, worked contacts stay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select, update

from postloan.collections.tables import contact_opt_outs
from postloan.errors import ConflictError, InvalidError
from postloan.policy import default_policy
from postloan.relationship import contact_plans
from postloan.relationship.rules.contact import CHANNELS, ContactFacts, contact_refusals, due
from postloan.relationship.tables import planned_contacts
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from tests.relationship.conftest import AS_OF, NOW

DAY = date(2026, 6, 30)


@pytest.mark.parametrize("channel", CHANNELS)
def test_marketing_refusals_per_channel(channel: str) -> None:
    none = ContactFacts(consent=False, consent_date=None, opted_out=frozenset())
    assert [r.code for r in contact_refusals("marketing", channel, none, DAY)] == [
        "marketing_consent"
    ]
    out = ContactFacts(consent=True, consent_date=date(2025, 1, 1), opted_out=frozenset({channel}))
    refused = contact_refusals("marketing", channel, out, DAY)
    assert [r.code for r in refused] == ["channel_opt_out"] and channel in refused[0].message
    later = ContactFacts(consent=True, consent_date=date(2026, 7, 1), opted_out=frozenset())
    assert [r.code for r in contact_refusals("marketing", channel, later, DAY)] == [
        "marketing_consent"
    ]
    ok = ContactFacts(consent=True, consent_date=date(2025, 1, 1), opted_out=frozenset())
    assert contact_refusals("marketing", channel, ok, DAY) == []
    both = ContactFacts(consent=None, consent_date=None, opted_out=frozenset({channel}))
    assert contact_refusals("service", channel, both, DAY) == []  # service: never refused


def test_cadence() -> None:
    start = date(2026, 6, 1)
    assert due(start, 29, date(2026, 6, 30)) and not due(start, 30, date(2026, 6, 30))
    assert not due(start, 1, date(2026, 5, 31))


def test_the_daily_step_derives_lawful_contacts(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        ids = list(
            conn.execute(select(customers.c.customer_id).order_by("customer_id").limit(4)).scalars()
        )
        conn.execute(
            update(customers)
            .where(customers.c.customer_id == ids[0])
            .values(consent_marketing=True, consent_date=date(2025, 1, 1))
        )
        conn.execute(
            update(customers)
            .where(customers.c.customer_id == ids[1])
            .values(consent_marketing=True, consent_date=date(2025, 1, 1))
        )
        conn.execute(
            insert(contact_opt_outs).values(
                customer_id=ids[1], channel="sms", since=date(2026, 1, 1)
            )
        )
        marketing = contact_plans.create_plan(
            conn,
            name="季度营销短信",
            branch_id=None,
            channel="sms",
            purpose="marketing",
            cadence_days=30,
            starts_on=date(2026, 5, 31),
            actor="mkt",
            now=NOW,
        )
        service = contact_plans.create_plan(
            conn,
            name="回访",
            branch_id=None,
            channel="phone",
            purpose="service",
            cadence_days=30,
            starts_on=date(2026, 5, 31),
            actor="mkt",
            now=NOW,
        )
        with pytest.raises(InvalidError):
            contact_plans.create_plan(
                conn,
                name="x",
                branch_id=None,
                channel="fax",
                purpose="service",
                cadence_days=1,
                starts_on=DAY,
                actor="mkt",
                now=NOW,
            )
    engine.dispose()
    run_dates(store, [AS_OF], default_policy())

    def derived() -> list[tuple]:  # type: ignore[type-arg]
        engine = engine_for(store)
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    planned_contacts.c.plan_id,
                    planned_contacts.c.customer_id,
                    planned_contacts.c.due_on,
                    planned_contacts.c.status,
                    planned_contacts.c.refused_rules,
                )
            ).all()
        engine.dispose()
        return sorted(tuple(r) for r in rows)

    first = derived()
    engine = engine_for(store)
    with engine.connect() as conn:
        people = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                select(
                    customers.c.customer_id, customers.c.consent_marketing, customers.c.consent_date
                ).where(
                    customers.c.customer_id.in_(
                        select(account_status.c.customer_id).where(account_status.c.as_of == AS_OF)
                    )
                )
            )
        }
    engine.dispose()
    by_plan = {p: {r[1]: (r[3], r[4]) for r in first if r[0] == p} for p in (marketing, service)}
    assert set(by_plan[service]) == set(people)
    assert all(v == ("open", None) for v in by_plan[service].values())
    for customer, (consent, since) in people.items():
        rules = (
            []
            if consent and (since is None or str(since)[:10] <= "2026-06-30")
            else ["marketing_consent"]
        )
        if customer == ids[1]:
            rules.append("channel_opt_out")
        want = ("refused", ",".join(rules)) if rules else ("open", None)
        assert by_plan[marketing][customer] == want, customer
    # work one, re-run: the same rows, the worked one kept
    engine = engine_for(store)
    with engine.begin() as conn:
        open_one = conn.execute(
            select(planned_contacts.c.contact_id)
            .where(planned_contacts.c.plan_id == service)
            .limit(1)
        ).scalar_one()
        contact_plans.complete(conn, open_one, "reached", actor="cs1", now=NOW)
        with pytest.raises(ConflictError):
            contact_plans.complete(conn, open_one, "reached", actor="cs1", now=NOW)
    engine.dispose()
    run_dates(store, [AS_OF], default_policy())
    again = derived()
    assert len(again) == len(first)
    assert sum(1 for r in again if r[3] == "done") == 1


def test_refused_further_contact_withdraws_marketing_consent(store: str) -> None:
    """A customer who refuses further contact on a planned call has withdrawn marketing consent
    (the consent log, from that moment): re-running the day refuses their other marketing
    contacts and the survey invitation needing consent, naming `marketing_consent`; their
    service contacts stay open and everyone else's rows are as before."""
    from datetime import UTC, datetime

    from postloan.access.consent import has_consent
    from postloan.access.tables import consents
    from postloan.relationship import complaints
    from postloan.relationship.tables import survey_invitations

    policy = default_policy()
    engine = engine_for(store)
    with engine.begin() as conn:
        with_status = select(account_status.c.customer_id).where(account_status.c.as_of == AS_OF)
        who = conn.execute(select(customers.c.customer_id).where(
            customers.c.customer_id.in_(with_status)).order_by("customer_id").limit(1)
        ).scalar_one()  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == who)
                     .values(consent_marketing=True, consent_date=date(2025, 1, 1)))  # fmt: skip
        plans = {
            name: contact_plans.create_plan(
                conn, name=name, branch_id=None, channel=channel, purpose=purpose,
                cadence_days=30, starts_on=AS_OF, actor="mkt", now=NOW,
            )
            for name, channel, purpose in (("sms", "sms", "marketing"), ("app", "app", "marketing"),
                                           ("call", "phone", "service"))
        }  # fmt: skip
        cid = complaints.receive(
            conn, policy, customer_id=who, received_on=AS_OF - timedelta(days=3),
            channel="phone", business_type="loans", reason="service", summary="慢",
            complained_about=[], account_id=None, actor="cs1", today=AS_OF, now=NOW,
        )  # fmt: skip
        complaints.decide(conn, cid, decided_on=AS_OF, outcome="upheld", decision="ok",
                          actor="cs1", today=AS_OF, now=NOW)  # fmt: skip
    engine.dispose()
    run_dates(store, [AS_OF], policy)

    def state() -> tuple[dict[tuple[int, str], tuple[str, str | None]], tuple[str, str | None]]:
        engine = engine_for(store)
        with engine.connect() as conn:
            c, i = planned_contacts.c, survey_invitations.c
            due_today = select(planned_contacts).where(c.due_on == AS_OF)
            rows = {(r.plan_id, r.customer_id): (r.status, r.refused_rules)
                    for r in conn.execute(due_today)}  # fmt: skip
            inv = conn.execute(select(i.status, i.refused_rules).where(
                i.event_key == f"complaint_decided:{cid}")).one()  # fmt: skip
        engine.dispose()
        return rows, (inv.status, inv.refused_rules)

    before, invitation = state()
    assert before[(plans["sms"], who)] == before[(plans["app"], who)] == ("open", None)
    assert invitation == ("invited", None)
    engine = engine_for(store)
    with engine.begin() as conn:
        contact = conn.execute(select(planned_contacts.c.contact_id).where(
            planned_contacts.c.plan_id == plans["sms"],
            planned_contacts.c.customer_id == who)).scalar_one()  # fmt: skip
        at = datetime(2026, 6, 30, 4, 0, tzinfo=UTC)  # noon in China, on the day
        contact_plans.complete(conn, contact, "refused_further_contact", actor="cs1", now=at)
        assert not has_consent(conn, who, "marketing")
        logged = conn.execute(select(consents).where(consents.c.customer_id == who)).one()
        assert (logged.granted, logged.source) == (False, f"planned_contact:{contact}")
    engine.dispose()
    run_dates(store, [AS_OF], policy)
    after, invitation = state()
    assert after[(plans["sms"], who)] == ("done", None)
    assert after[(plans["app"], who)] == ("refused", "marketing_consent")
    assert after[(plans["call"], who)] == ("open", None)  # service contacts go on
    assert invitation == ("refused", "marketing_consent")
    assert {k: v for k, v in after.items() if k[1] != who} == {
        k: v for k, v in before.items() if k[1] != who
    }
