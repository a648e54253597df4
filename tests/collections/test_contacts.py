"""The contact policy refuses each kind of violation, naming the rule; compliant contacts are
recorded (with an audit entry), refusals are kept for the compliance report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from postloan.access.tables import audit_log
from postloan.collections.contacts import (
    Contact,
    ContactRefused,
    check_contact,
    contacts_of,
    record_contact,
)
from postloan.collections.tables import contact_opt_outs, contact_refusals
from postloan.policy import default_policy
from postloan.store.db import engine_for
from postloan.store.schema import customers
from postloan.store.values import as_utc

POLICY = default_policy()
CN = POLICY.contact.jurisdictions["CN"]
US = POLICY.contact.jurisdictions["US"]
BJ = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def _at(y: int, m: int, d: int, hh: int, mm: int = 0, zone: ZoneInfo = BJ) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=zone)


def _call(at: datetime, outcome: str | None = None, channel: str = "phone") -> Contact:
    return Contact("K1", at, channel, ("wang",), outcome)


def _rules(planned: Contact, history: list[Contact] = [], opted: tuple[str, ...] = (),  # noqa: B006
           rules: Any = CN) -> list[str]:  # fmt: skip
    return [v.rule for v in check_contact(planned, history, opted, rules, 2)]


def test_a_compliant_call_passes() -> None:
    assert _rules(_call(_at(2026, 3, 2, 10))) == []


@pytest.mark.parametrize(
    ("hh", "mm", "quiet"), [(21, 59, False), (22, 0, True), (7, 59, True), (8, 0, False)]
)
def test_quiet_hours_in_the_jurisdictions_zone(hh: int, mm: int, quiet: bool) -> None:
    assert ("quiet_hours" in _rules(_call(_at(2026, 3, 2, hh, mm)))) is quiet
    # the same instant seen from UTC changes nothing: local time decides
    utc = _at(2026, 3, 2, hh, mm).astimezone(UTC)
    assert ("quiet_hours" in _rules(_call(utc))) is quiet


def test_quiet_hours_us_local_time() -> None:
    # 21:30 in New York is quiet under Regulation F; 09:30 is not
    assert "quiet_hours" in _rules(_call(_at(2026, 3, 2, 21, 30, NY)), rules=US)
    assert "quiet_hours" not in _rules(_call(_at(2026, 3, 2, 9, 30, NY)), rules=US)
    # letters are not "at" a time of day for the customer
    assert _rules(_call(_at(2026, 3, 2, 23), "sent", channel="letter")) == []


def test_daily_cap_counts_conversations_on_the_local_day() -> None:
    day = [_call(_at(2026, 3, 2, h), "connected") for h in (9, 11, 14)]
    assert "daily_call_cap" in _rules(_call(_at(2026, 3, 2, 16)), day)
    # unanswered attempts are not connected calls
    tries = [_call(_at(2026, 3, 2, h), "no_answer") for h in (9, 10, 11, 12)]
    assert _rules(_call(_at(2026, 3, 2, 16)), tries) == []
    # the next Beijing day starts at 00:00 Beijing, not UTC
    assert "daily_call_cap" not in _rules(_call(_at(2026, 3, 3, 8, 30)), day)


def test_weekly_attempt_cap_us() -> None:
    attempts = [_call(_at(2026, 3, d, 10, 0, NY), "no_answer") for d in range(1, 8)]
    assert "weekly_call_cap" in _rules(_call(_at(2026, 3, 7, 15, 0, NY)), attempts, rules=US)
    # a week after the first attempt, one slot is free again
    assert "weekly_call_cap" not in _rules(_call(_at(2026, 3, 8, 10, 1, NY)), attempts, rules=US)


def test_cooldown_after_a_conversation_us() -> None:
    talked = [_call(_at(2026, 3, 2, 10, 0, NY), "connected")]
    assert "cooldown_after_conversation" in _rules(
        _call(_at(2026, 3, 8, 10, 0, NY)), talked, rules=US
    )
    assert _rules(_call(_at(2026, 3, 9, 10, 0, NY)), talked, rules=US) == []
    # SMS is not a call
    assert _rules(_call(_at(2026, 3, 3, 10, 0, NY), "sent", "sms"), talked, rules=US) == []


def test_visits_need_two_staff_and_opt_outs_are_honoured() -> None:
    alone = Contact("K1", _at(2026, 3, 2, 10), "visit", ("wang",), "met")
    assert _rules(alone) == ["two_staff_visit"]
    pair = Contact("K1", _at(2026, 3, 2, 10), "visit", ("wang", "li"), "met")
    assert _rules(pair) == []
    same_person_twice = Contact("K1", _at(2026, 3, 2, 10), "visit", ("wang", "wang"), "met")
    assert _rules(same_person_twice) == ["two_staff_visit"]
    assert _rules(_call(_at(2026, 3, 2, 10), "sent", "sms"), opted=("sms",)) == ["channel_opt_out"]


def test_several_rules_are_all_named() -> None:
    at = _at(2026, 3, 2, 23)
    rules = _rules(_call(at), [_call(_at(2026, 3, 2, h), "connected") for h in (9, 10, 11)],
                   opted=("phone",))  # fmt: skip
    assert rules == ["channel_opt_out", "quiet_hours", "daily_call_cap"]


def test_record_contact_stores_or_refuses(make_store: Any, tmp_path: Path) -> None:
    url = make_store("sqlite")
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(customers.insert().values(customer_id="K1", name="张三", id_type="prc_id"))
        conn.execute(
            contact_opt_outs.insert().values(
                customer_id="K1", channel="sms", since=date(2026, 1, 1)
            )
        )
        first = record_contact(
            conn, _call(_at(2026, 3, 2, 10), "promise_to_pay"), POLICY, recorded_by="wang",
            content="催收通话", response="下周五还款", promise=(50_000, date(2026, 3, 6)),
        )  # fmt: skip
        with pytest.raises(ContactRefused) as refused:
            record_contact(conn, _call(_at(2026, 3, 2, 11), "sent", "sms"), POLICY,
                           recorded_by="wang")  # fmt: skip
        assert [v.rule for v in refused.value.violations] == ["channel_opt_out"]
        with pytest.raises(ValueError, match="outcome"):
            record_contact(conn, _call(_at(2026, 3, 2, 12), "shouted"), POLICY, recorded_by="w")
    with engine.connect() as conn:
        stored = contacts_of(conn, "K1")
        refusals = conn.execute(select(contact_refusals)).all()
        audited = conn.execute(
            select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.seq)
        ).all()
    engine.dispose()
    assert [r.contact_id for r in stored] == [first]  # type: ignore[attr-defined]
    assert stored[0].promise_amount == 50_000  # type: ignore[attr-defined]
    # the instant is kept, whatever zone the caller used (SQLite stores no zone)
    assert as_utc(stored[0].at) == _at(2026, 3, 2, 10).astimezone(UTC)  # type: ignore[attr-defined]
    assert [(r.rules, r.channel) for r in refusals] == [("channel_opt_out", "sms")]
    assert ("contact.record", "wang") in [tuple(a) for a in audited]
