"""The complaint clock's rules with hand-computed dates (issue 15 "Done when"): decided on day
15; extended to 30; extended to 60 with approval and notice; a breach; a refused extension
without approval; the recusal rule; a working-day clock over the National Day holidays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from postloan.calendar import WorkingCalendar
from postloan.policy import default_policy
from postloan.relationship.rules.clock import (
    ClockFacts,
    complex_refusals,
    deadline,
    extension_refusals,
    recusal,
    state,
)

CLOCK = default_policy().relationship.complaints.clock
R = date(2026, 3, 2)  # received (day 0)


def codes(refusals: list) -> set[str]:  # type: ignore[type-arg]
    return {r.code for r in refusals}


def test_decided_on_day_15_is_in_time_and_day_16_is_late() -> None:
    facts = ClockFacts(received_on=R)
    assert deadline(facts, CLOCK) == date(2026, 3, 17)  # 2 March + 15 days
    on_15 = state(replace(facts, decided_on=date(2026, 3, 17)), date(2026, 3, 20), CLOCK)
    assert (on_15.status, on_15.limit_days) == ("decided", 15)
    on_16 = state(replace(facts, decided_on=date(2026, 3, 18)), date(2026, 3, 20), CLOCK)
    assert on_16.status == "decided_late"


def test_a_breach_when_undecided_past_the_limit() -> None:
    facts = ClockFacts(received_on=R)
    last_day = state(facts, date(2026, 3, 17), CLOCK)
    assert (last_day.status, last_day.days_left) == ("open", 0)
    after = state(facts, date(2026, 3, 18), CLOCK)
    assert (after.status, after.days_left) == ("breached", -1)


def test_complex_extends_to_30_days() -> None:
    facts = ClockFacts(received_on=R, complex=True)
    got = state(facts, date(2026, 3, 25), CLOCK)
    assert (got.limit_days, got.deadline, got.status) == (30, date(2026, 4, 1), "open")
    # declared complex only before the first 15 days run out
    assert complex_refusals(ClockFacts(received_on=R), date(2026, 3, 17), CLOCK) == []
    assert codes(complex_refusals(ClockFacts(received_on=R), date(2026, 3, 18), CLOCK)) == {
        "too_late"
    }


def test_extended_to_60_with_approval_and_notice() -> None:
    facts = ClockFacts(received_on=R, complex=True)
    today = date(2026, 3, 30)
    ok = extension_refusals(facts, "senior", "handler", True, date(2026, 3, 30), today, CLOCK)
    assert ok == []
    done = replace(facts, extension_approved_by="senior", extension_notice_on=date(2026, 3, 30))
    got = state(done, date(2026, 4, 20), CLOCK)
    assert (got.limit_days, got.deadline, got.status) == (60, date(2026, 5, 1), "open")
    assert state(replace(done, decided_on=date(2026, 5, 1)), today, CLOCK).status == "decided"
    # approval without the notice does not extend the clock
    no_notice = replace(facts, extension_approved_by="senior")
    assert state(no_notice, date(2026, 4, 2), CLOCK).status == "breached"


def test_extension_refused_without_approval_or_notice() -> None:
    facts = ClockFacts(received_on=R, complex=True)
    today = date(2026, 3, 30)
    assert codes(extension_refusals(facts, "clerk", "handler", False, today, today, CLOCK)) == {
        "not_senior"
    }
    assert codes(extension_refusals(facts, "senior", "handler", True, None, today, CLOCK)) == {
        "no_notice"
    }
    own = extension_refusals(facts, "handler", "handler", True, today, today, CLOCK)
    assert codes(own) == {"own_case"}
    simple = ClockFacts(received_on=R)
    assert "not_complex" in codes(
        extension_refusals(simple, "senior", "handler", True, today, today, CLOCK)
    )
    late = date(2026, 4, 2)  # the 30 days ran out on 1 April
    assert "too_late" in codes(
        extension_refusals(facts, "senior", "handler", True, late, late, CLOCK)
    )
    future_notice = extension_refusals(facts, "senior", "h", True, date(2026, 4, 1), today, CLOCK)
    assert codes(future_notice) == {"notice_date"}


def test_recusal_names_the_person() -> None:
    refused = recusal("li.ming", frozenset({"li.ming", "wang.fang"}))
    assert refused is not None and refused.code == "recusal" and "li.ming" in refused.message
    assert recusal("zhao.lei", frozenset({"li.ming"})) is None


def test_working_day_clock_skips_national_day() -> None:
    working = CLOCK.model_copy(update={"day_count": "working"})
    cal = WorkingCalendar.from_policy(default_policy())
    # 30 Sept 2025 + 15 working days (1-8 October are holidays): 9 Oct (1), 10 (2), 11 (3, a
    # make-up Saturday), 13-17 (4-8), 20-24 (9-13), 27 (14), 28 (15) → 28 October.
    assert deadline(ClockFacts(received_on=date(2025, 9, 30)), working, cal) == date(2025, 10, 28)
