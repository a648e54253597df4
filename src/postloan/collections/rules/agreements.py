"""Payment agreement rules, pure: the errors, a proposal's terms and eligibility, and the loan's
new schedule under an agreement, with the check that it leaves nothing overdue (the store side:
`agreements`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from postloan.engine.single import InstalmentDue
from postloan.errors import (
    ConflictError,
    DomainError,
    InvalidError,
    NotFoundError,
    RefusedError,
)
from postloan.ledger import add_months, schedule_cents
from postloan.policy import Policy

KINDS = ("instalments", "extension")


class AgreementError(DomainError):
    """Base of the agreement rules' errors (`postloan.errors`: each shell maps them by kind)."""


class AgreementInvalid(AgreementError, InvalidError):
    """The proposal or decision breaks a rule (the message says which)."""


class AgreementNotFound(AgreementError, NotFoundError):
    pass


class AgreementConflict(AgreementError, ConflictError):
    """The agreement (or the loan) is not in a state that allows this."""


class MakerCheckerRefused(AgreementError, RefusedError):
    """The user may not make this decision: the proposer deciding their own agreement, or a
    role without `agreement.approve`."""

    code = "maker_checker"


@dataclass(frozen=True)
class NewInstalment:
    period: int
    due_date: date
    principal_due: int
    interest_due: int
    agreed: bool  # new or moved by the agreement (the rest were already paid)


def _spread(total: int, n: int, first_due: date) -> list[tuple[date, int]]:
    """`total` minor units over n monthly periods: the ledger's equal-principal split at a zero
    rate (round(total / n) each, the last takes the rest; exact)."""
    if total == 0:
        return [(add_months(first_due, k), 0) for k in range(n)]
    built = schedule_cents(total, Decimal(0), n, "equal_principal", first_due, first_due)
    return [(due, part) for _, due, part, _, _ in built]


def new_schedule(
    schedule: list[InstalmentDue],
    states: list[dict[str, Any]],
    kind: str,
    *,
    instalments: int | None = None,
    first_due_date: date | None = None,
    extension_months: int | None = None,
) -> list[NewInstalment]:
    """The loan's schedule under the agreement. `states` are `engine.single.instalment_states`
    of `schedule` as of the day before it applies (for the fully paid instalments)."""
    by_period = {s["period"]: s for s in states}
    ordered = sorted(schedule, key=lambda i: (i.due_date, i.period))
    paid = [
        i for i in ordered
        if by_period[i.period]["covered_principal"] == i.principal_due
        and by_period[i.period]["covered_interest"] == i.interest_due
    ]  # fmt: skip
    rest = ordered[len(paid) :]  # covered amounts fill the queue in order: paid is a prefix
    kept = [NewInstalment(i.period, i.due_date, i.principal_due, i.interest_due, False)
            for i in paid]  # fmt: skip
    if kind == "extension":
        assert extension_months is not None
        moved = [
            NewInstalment(i.period, add_months(i.due_date, extension_months), i.principal_due,
                          i.interest_due, True)
            for i in rest
        ]  # fmt: skip
        return kept + moved
    assert instalments is not None and first_due_date is not None
    principal = _spread(sum(i.principal_due for i in rest), instalments, first_due_date)
    interest = _spread(sum(i.interest_due for i in rest), instalments, first_due_date)
    start = max((i.period for i in ordered), default=0)
    return kept + [
        NewInstalment(start + k + 1, due, p, interest[k][1], True)
        for k, (due, p) in enumerate(principal)
    ]


@dataclass(frozen=True)
class Terms:
    kind: str
    instalments: int | None
    first_due_date: date | None
    extension_months: int | None


def check_terms(terms: Terms, policy: Policy, stored: date) -> None:
    r = policy.restructuring
    if terms.kind not in KINDS:
        raise AgreementInvalid(f"kind: one of {', '.join(KINDS)}, not {terms.kind!r}", "kind")
    if terms.kind == "instalments":
        if terms.extension_months is not None:
            raise AgreementInvalid("extension_months: only for kind extension", "extension_months")
        n, first = terms.instalments, terms.first_due_date
        if n is None or not 1 <= n <= r.max_instalments:
            raise AgreementInvalid(
                f"instalments: 1 to {r.max_instalments} (restructuring.max_instalments), "
                f"got {n}", "instalments",
            )  # fmt: skip
        if first is None:
            raise AgreementInvalid("first_due_date: required for kind instalments",
                                   "first_due_date")  # fmt: skip
        if not stored < first <= stored + timedelta(days=r.max_days_to_first_due):
            raise AgreementInvalid(
                f"first_due_date: must fall after the latest status date {stored} and at most "
                f"{r.max_days_to_first_due} days after it (restructuring.max_days_to_first_due)"
                f", got {first}", "first_due_date",
            )  # fmt: skip
        return
    if terms.instalments is not None or terms.first_due_date is not None:
        field = "instalments" if terms.instalments is not None else "first_due_date"
        raise AgreementInvalid(f"{field}: only for kind instalments", field)
    m = terms.extension_months
    if m is None or not 1 <= m <= r.max_extension_months:
        raise AgreementInvalid(
            f"extension_months: 1 to {r.max_extension_months} "
            f"(restructuring.max_extension_months), got {m}", "extension_months",
        )  # fmt: skip


def check_proposable(account_id: str, dpd: int, stored: date, least: int) -> None:
    """An agreement starts at `least` DPD (`collections.agreement_min_dpd`)."""
    if dpd < least:
        raise AgreementInvalid(
            f"account_id: loan {account_id!r} is {dpd} DPD on {stored}; agreements start "
            f"at {least} DPD (collections.agreement_min_dpd)", "account_id",
        )  # fmt: skip


def check_built(account_id: str, terms: Terms, schedule: list[InstalmentDue],
                built: list[NewInstalment], effective: date) -> None:  # fmt: skip
    """The new schedule (`new_schedule`, applying from `effective`) agrees something, and its
    oldest agreed instalment is not already overdue (an extension too short)."""
    agreed = [i for i in built if i.agreed]
    if not agreed:
        raise AgreementInvalid(f"account_id: loan {account_id!r} has nothing left to pay",
                               "account_id")  # fmt: skip
    if agreed[0].due_date < effective:  # an extension too short to cure the arrears
        original = next(i.due_date for i in schedule if i.period == agreed[0].period)
        need = next(m for m in range(1, 12 * 200) if add_months(original, m) >= effective)
        raise AgreementInvalid(
            f"extension_months: {terms.extension_months} months moves the oldest unpaid "
            f"instalment only to {agreed[0].due_date}, still overdue on {effective}; at least "
            f"{need} months are needed", "extension_months",
        )  # fmt: skip
