"""Survey targeting and invitations (CR-2), on SQLite and PostgreSQL: after the daily run of a
date, the invitations equal a plain recomputation from the same tables — customers with a
collection case closed or a complaint decided that day, one per customer, none within the
cool-down of an earlier invitation, refused naming the rules without marketing consent or
over an opted-out channel. Re-running the date derives the same rows; a tier filter keeps only
its tier's customers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from postloan.collections.tables import cases, contact_opt_outs
from postloan.policy import default_policy
from postloan.relationship import complaints
from postloan.relationship.tables import survey_invitations
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import customers
from postloan.tiering.tables import tier_assignments
from tests.relationship.conftest import AS_OF, NOW

POLICY = default_policy()
CFG = POLICY.relationship.surveys.invitations


def _day(v: object) -> date:
    return date.fromisoformat(str(v)[:10])


def _stored(conn) -> set[tuple[str, str, str, str | None]]:  # type: ignore[no-untyped-def]
    i = survey_invitations.c
    return {
        (r.customer_id, r.event, r.status, r.refused_rules)
        for r in conn.execute(select(survey_invitations).where(i.invited_on == AS_OF))
    }


def _reference(conn, tiers: list[str]) -> set[tuple[str, str, str, str | None]]:  # type: ignore[no-untyped-def]
    """Plain: the events of AS_OF, the first by name per customer, the filters, the rules."""
    events: dict[str, list[str]] = {}
    for r in conn.execute(select(cases.c.customer_id, cases.c.closed_on)):
        if r.closed_on is not None and _day(r.closed_on) == AS_OF:
            events.setdefault(r.customer_id, []).append("case_closed")
    for r in conn.execute(select(complaints.complaints)):
        if r.decided_on is not None and _day(r.decided_on) == AS_OF:
            events.setdefault(r.customer_id, []).append("complaint_decided")
    i = survey_invitations.c
    recent = {
        r.customer_id
        for r in conn.execute(select(survey_invitations).where(i.status == "invited"))
        if AS_OF - timedelta(days=CFG.cooldown_days) < _day(r.invited_on) < AS_OF
    }
    held = {
        r.customer_id
        for r in conn.execute(select(tier_assignments))
        if _day(r.as_of) == AS_OF and r.tier in tiers
    }
    out = set()
    for customer, kinds in events.items():
        if customer in recent or (tiers and customer not in held):
            continue
        c = conn.execute(select(customers).where(customers.c.customer_id == customer)).one()
        consent = bool(c.consent_marketing) and (
            c.consent_date is None or _day(c.consent_date) <= AS_OF
        )
        opted = any(
            o.channel == CFG.channel and _day(o.since) <= AS_OF
            for o in conn.execute(
                select(contact_opt_outs).where(contact_opt_outs.c.customer_id == customer)
            )
        )
        rules = [n for n, bad in (("marketing_consent", not consent),
                                  ("channel_opt_out", opted)) if bad]  # fmt: skip
        out.add((customer, min(kinds), "refused" if rules else "invited", ",".join(rules) or None))
    return out


def test_invitations_follow_events_consent_opt_outs_and_the_cool_down(store: str) -> None:
    engine = engine_for(store)
    with engine.begin() as conn:
        ids = list(conn.execute(select(customers.c.customer_id).order_by(
            customers.c.customer_id)).scalars())  # fmt: skip
        invited_before = set(
            conn.execute(
                select(survey_invitations.c.customer_id).where(
                    survey_invitations.c.invited_on < AS_OF
                )
            ).scalars()
        )
        fresh = [c for c in ids if c not in invited_before][:3]
        consenting, not_consenting, opted = fresh
        conn.execute(update(customers).where(customers.c.customer_id.in_([consenting, opted]))
                     .values(consent_marketing=True, consent_date=date(2020, 1, 1)))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == not_consenting)
                     .values(consent_marketing=False))  # fmt: skip
        conn.execute(insert(contact_opt_outs).values(
            customer_id=opted, channel=CFG.channel, since=date(2026, 1, 1)))  # fmt: skip
        for customer in fresh:
            cid = complaints.receive(
                conn, POLICY, customer_id=customer, received_on=AS_OF - timedelta(days=3),
                channel="phone", business_type="loans", reason="service", summary="慢",
                complained_about=[], account_id=None, actor="cs1", today=AS_OF, now=NOW,
            )  # fmt: skip
            complaints.decide(
                conn, cid, decided_on=AS_OF, outcome="upheld", decision="已致歉",
                actor="cs1", today=AS_OF, now=NOW,
            )  # fmt: skip
        # one customer already invited within the cool-down, with an event again today
        if invited_before:
            again = sorted(invited_before)[0]
            cid = complaints.receive(
                conn, POLICY, customer_id=again, received_on=AS_OF - timedelta(days=2),
                channel="phone", business_type="loans", reason="service", summary="慢",
                complained_about=[], account_id=None, actor="cs1", today=AS_OF, now=NOW,
            )  # fmt: skip
            complaints.decide(conn, cid, decided_on=AS_OF, outcome="upheld", decision="ok",
                              actor="cs1", today=AS_OF, now=NOW)  # fmt: skip
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)

    engine = engine_for(store)
    with engine.begin() as conn:
        got = _stored(conn)
        assert got == _reference(conn, [])
        by_customer = {c: (status, rules) for c, _, status, rules in got}
        assert by_customer[consenting] == ("invited", None)
        assert by_customer[not_consenting] == ("refused", "marketing_consent")
        assert by_customer[opted] == ("refused", "channel_opt_out")
        if invited_before:
            recent = [
                c for c in invited_before
                if conn.execute(select(survey_invitations.c.invited_on).where(
                    survey_invitations.c.customer_id == c,
                    survey_invitations.c.status == "invited")).first() is not None
            ]  # fmt: skip
            assert not set(recent) & set(by_customer)
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)  # again: the same rows
    engine = engine_for(store)
    with engine.begin() as conn:
        assert _stored(conn) == got
    engine.dispose()

    # only the premium tier
    premium = POLICY.model_copy(deep=True)
    tiers_cfg = premium.relationship.surveys.invitations.model_copy(update={"tiers": ["premium"]})
    surveys_cfg = premium.relationship.surveys.model_copy(update={"invitations": tiers_cfg})
    rel = premium.relationship.model_copy(update={"surveys": surveys_cfg})
    premium = premium.model_copy(update={"relationship": rel})
    run_dates(store, [AS_OF], premium)
    engine = engine_for(store)
    with engine.begin() as conn:
        only = _stored(conn)
        assert only == _reference(conn, ["premium"]) and only < got
    engine.dispose()


def test_invitation_ids_stay_answers_link_late_decisions_invite_and_response_rates(
    store: str,
) -> None:
    from postloan.errors import ConflictError, InvalidError
    from postloan.relationship import surveys
    from postloan.relationship.report import satisfaction_report
    from postloan.relationship.tables import survey_responses

    late_day = AS_OF - timedelta(days=10)  # not a run date
    engine = engine_for(store)
    with engine.begin() as conn:
        invited_before = set(conn.execute(select(survey_invitations.c.customer_id)).scalars())
        ids = [c for c in conn.execute(select(customers.c.customer_id).order_by(
            customers.c.customer_id)).scalars() if c not in invited_before][:5]  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id.in_(ids))
                     .values(consent_marketing=True, consent_date=date(2020, 1, 1)))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == ids[3])
                     .values(consent_marketing=False))  # fmt: skip
        for customer in ids[:4]:
            cid = complaints.receive(
                conn, POLICY, customer_id=customer, received_on=AS_OF - timedelta(days=20),
                channel="phone", business_type="loans", reason="service", summary="慢",
                complained_about=[], account_id=None, actor="cs1", today=AS_OF, now=NOW,
            )  # fmt: skip
            complaints.decide(conn, cid, decided_on=AS_OF, outcome="upheld", decision="ok",
                              actor="cs1", today=AS_OF, now=NOW)  # fmt: skip
        version = surveys.add_version(conn, "v1", surveys.DEFAULT_QUESTIONS, actor="cs1", now=NOW)
    engine.dispose()
    run_dates(store, [AS_OF], POLICY)

    i = survey_invitations.c
    engine = engine_for(store)
    with engine.begin() as conn:
        first = {r.event_key: (r.invitation_id, r.customer_id, r.status)
                 for r in conn.execute(select(survey_invitations))}  # fmt: skip
        mine = {c: (k, v) for k, (v, c, s) in first.items() if c in ids}
        assert set(mine) == set(ids[:4])
        answered_key, (answered_id, _) = next(
            (k, (v, c)) for k, (v, c, s) in first.items() if c == ids[0]
        )
        common: dict[str, Any] = dict(
            version_id=version, answered_on=AS_OF, csat_score=2, nps_score=3, answers={},
            source="workbench", actor="cs1", today=AS_OF, policy=POLICY, now=NOW,
        )  # fmt: skip
        rid = surveys.record_response(conn, customer_id=ids[0], invitation_id=answered_id,
                                      **common)  # fmt: skip
        with pytest.raises(ConflictError):  # answered once
            surveys.record_response(conn, customer_id=ids[0], invitation_id=answered_id,
                                    **common)  # fmt: skip
        with pytest.raises(InvalidError):  # another customer's invitation
            surveys.record_response(conn, customer_id=ids[1], invitation_id=answered_id,
                                    **common)  # fmt: skip
        refused_id = mine[ids[3]][1]
        assert first[mine[ids[3]][0]][2] == "refused"
        with pytest.raises(InvalidError):  # a refused invitation was never sent
            surveys.record_response(conn, customer_id=ids[3], invitation_id=refused_id,
                                    **common)  # fmt: skip
        early = common | {"answered_on": AS_OF - timedelta(days=1)}
        with pytest.raises(InvalidError):  # answered before the invitation went out
            surveys.record_response(conn, customer_id=ids[1], invitation_id=mine[ids[1]][1],
                                    **early)  # fmt: skip
        # a decision dated between run dates, recorded after AS_OF was run
        late = complaints.receive(
            conn, POLICY, customer_id=ids[4], received_on=late_day - timedelta(days=5),
            channel="phone", business_type="loans", reason="service", summary="慢",
            complained_about=[], account_id=None, actor="cs1", today=AS_OF, now=NOW,
        )  # fmt: skip
        complaints.decide(conn, late, decided_on=late_day, outcome="upheld", decision="ok",
                          actor="cs1", today=AS_OF, now=NOW)  # fmt: skip
    engine.dispose()

    run_dates(store, [AS_OF], POLICY)  # again: ids kept, the answer linked, the late one invited
    engine = engine_for(store)
    with engine.begin() as conn:
        second = {r.event_key: (r.invitation_id, r.customer_id, r.status)
                  for r in conn.execute(select(survey_invitations))}  # fmt: skip
        assert {k: v for k, v in second.items() if k in first} == first
        assert set(second) - set(first) == {f"complaint_decided:{late}"}
        assert second[f"complaint_decided:{late}"][1:] == (ids[4], "invited")
        linked = conn.execute(select(survey_responses.c.invitation_id).where(
            survey_responses.c.response_id == rid)).scalar_one()  # fmt: skip
        assert linked == answered_id
    engine.dispose()

    # a policy no invitation passes (premium only, say): the answered one stays as it was
    premium = POLICY.model_copy(deep=True)
    tiers_cfg = premium.relationship.surveys.invitations.model_copy(update={"tiers": ["premium"]})
    surveys_cfg = premium.relationship.surveys.model_copy(update={"invitations": tiers_cfg})
    rel = premium.relationship.model_copy(update={"surveys": surveys_cfg})
    run_dates(store, [AS_OF], premium.model_copy(update={"relationship": rel}))
    engine = engine_for(store)
    with engine.begin() as conn:
        kept = conn.execute(select(i.invitation_id, i.event_key).where(
            i.invitation_id == answered_id)).one()  # fmt: skip
        assert kept.event_key == answered_key
    engine.dispose()
    run_dates(store, [AS_OF], POLICY)

    # the response rate per wave (month) equals a plain count
    engine = engine_for(store)
    with engine.begin() as conn:
        answers = {r.invitation_id for r in conn.execute(select(survey_responses))}
        plain: dict[str | None, list[int]] = {None: [0, 0]}
        for r in conn.execute(select(survey_invitations).where(i.status == "invited")):
            for wave in (str(r.invited_on)[:7], None):
                counts = plain.setdefault(wave, [0, 0])
                counts[0] += 1
                counts[1] += r.invitation_id in answers
        from sqlalchemy import true

        got = satisfaction_report(conn, POLICY, date(2020, 1, 1), AS_OF, true())
        assert {w["wave"]: [w["invited"], w["answered"]] for w in got["response_rates"]} == plain
        assert plain[None][1] == 1
        overall = next(w for w in got["response_rates"] if w["wave"] is None)
        assert overall["rate"] == pytest.approx(100 / plain[None][0])
    engine.dispose()
