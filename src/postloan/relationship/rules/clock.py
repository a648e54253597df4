"""The complaint clock (银行业保险业消费投诉处理管理办法, 2020, Art. 20-21), as pure rules.

A complaint received on day R must be decided *and the complainant told* by R + 15 days; a
complex case by R + 30; an especially complex one by R + 30 + 30, but only when a senior
(a user other than the handler, holding the approve action) approved the extension **and**
the complainant was told of it. The days are calendar days by default (`day_count`), or PRC
working days from the policy calendar. Day 0 is the day of receipt, so "decided on day 15"
(R + 15) is in time and R + 16 is a breach.

`state` answers, for a business date, where a complaint stands: `open` (within its limit),
`breached` (undecided past it), `decided` (told in time) or `decided_late`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from postloan.calendar import WorkingCalendar
from postloan.policy.relationship import ComplaintClock


@dataclass(frozen=True)
class ClockFacts:
    """What the clock reads of a complaint."""

    received_on: date
    complex: bool = False  # declared complex by the handler (with a reason, recorded)
    extension_approved_by: str | None = None  # the senior who approved the extension
    extension_notice_on: date | None = None  # the day the complainant was told of it
    decided_on: date | None = None  # the day the decision was told to the complainant


@dataclass(frozen=True)
class ClockState:
    limit_days: int  # 15, 30 or 60 by default
    deadline: date
    status: str  # open | breached | decided | decided_late
    days_left: int  # calendar days from as_of to the deadline (negative: overdue)


def _add(day: date, n: int, clock: ComplaintClock, cal: WorkingCalendar | None) -> date:
    if clock.day_count == "working":
        if cal is None:
            raise ValueError("a working-day clock needs the policy calendar")
        return cal.add_working_days(day, n)
    return day + timedelta(days=n)


def extended(facts: ClockFacts) -> bool:
    """The +30 applies only with both an approval and the notice to the complainant."""
    return (
        facts.complex
        and facts.extension_approved_by is not None
        and facts.extension_notice_on is not None
    )


def limit_days(facts: ClockFacts, clock: ComplaintClock) -> int:
    if extended(facts):
        return clock.complex_days + clock.extension_days
    return clock.complex_days if facts.complex else clock.decide_days


def deadline(facts: ClockFacts, clock: ComplaintClock, cal: WorkingCalendar | None = None) -> date:
    return _add(facts.received_on, limit_days(facts, clock), clock, cal)


def state(
    facts: ClockFacts, as_of: date, clock: ComplaintClock, cal: WorkingCalendar | None = None
) -> ClockState:
    due = deadline(facts, clock, cal)
    if facts.decided_on is not None:
        status = "decided" if facts.decided_on <= due else "decided_late"
    else:
        status = "open" if as_of <= due else "breached"
    return ClockState(limit_days(facts, clock), due, status, (due - as_of).days)


# --- refusals, each named: a code for programs and a sentence for people ----------------------


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def recusal(handler: str, complained_about: frozenset[str]) -> Refusal | None:
    """回避: the handler must not be a person the complaint is about."""
    if handler in complained_about:
        return Refusal(
            "recusal",
            f"{handler} is named in the complaint and may not handle it "
            "(回避): route it to someone else",
        )
    return None


def extension_refusals(
    facts: ClockFacts,
    approver: str,
    handler: str | None,
    approver_may_approve: bool,
    notice_on: date | None,
    as_of: date,
    clock: ComplaintClock,
    cal: WorkingCalendar | None = None,
) -> list[Refusal]:
    """Why a +extension_days extension cannot be granted (empty: it can). It needs a complex
    case still undecided and within its 30 days, a senior approver who is not the handler and
    holds the approve action, and the complainant told (the notice date, not after as_of)."""
    out: list[Refusal] = []
    if clock.extension_days == 0:
        out.append(Refusal("no_extension", "the policy allows no extension"))
    if not facts.complex:
        out.append(Refusal("not_complex", "only a case declared complex may be extended"))
    if facts.decided_on is not None:
        out.append(Refusal("decided", "the complaint is already decided"))
    if facts.extension_approved_by is not None:
        out.append(Refusal("already_extended", "the complaint was already extended"))
    if not approver_may_approve:
        out.append(Refusal("not_senior", f"{approver} may not approve extensions"))
    if handler is not None and approver == handler:
        out.append(Refusal("own_case", "the handler may not approve their own extension"))
    if notice_on is None:
        out.append(Refusal("no_notice", "the complainant must be told of the extension"))
    elif notice_on > as_of or notice_on < facts.received_on:
        out.append(Refusal("notice_date", "the notice date must lie between receipt and today"))
    complex_due = _add(facts.received_on, clock.complex_days, clock, cal)
    if as_of > complex_due:
        out.append(
            Refusal(
                "too_late",
                f"the 30-day limit passed on {complex_due}: an extension "
                "must be granted before the clock runs out",
            )
        )
    return out


def complex_refusals(
    facts: ClockFacts, as_of: date, clock: ComplaintClock, cal: WorkingCalendar | None = None
) -> list[Refusal]:
    """A case may be declared complex while undecided and before its 15 days ran out."""
    out: list[Refusal] = []
    if facts.complex:
        out.append(Refusal("already_complex", "the complaint is already complex"))
    if facts.decided_on is not None:
        out.append(Refusal("decided", "the complaint is already decided"))
    first_due = _add(facts.received_on, clock.decide_days, clock, cal)
    if as_of > first_due:
        out.append(Refusal("too_late", f"the first limit passed on {first_due}"))
    return out
