"""Repayment agreements (OD-4): proposed by one officer, approved by another (maker-checker),
applied through the ledger.

From `collections.agreement_min_dpd` DPD (as of the latest stored status) an officer proposes:

- `instalments`: what is still owed on the loan's schedule, re-spread over N new monthly
  instalments from an agreed first due date (principal and interest each spread with the
  ledger's equal-principal arithmetic: round(total / N) per period, the last absorbing the
  rounding — the total is unchanged to the cent, no new interest is added);
- `extension`: the instalments not yet fully paid, moved M months later, amounts unchanged.

A different user holding `agreement.approve` approves or rejects it — the proposer never can,
whatever their role; the proposer may withdraw it while it waits. One agreement per loan waits
for a decision at a time (a unique key in the database, see `agreement_tables`).

Approval fixes the new schedule from the schedule in force and the payments counted on the
latest stored status date D: the instalments already fully paid stay as they were, the rest is
replaced as above. It applies from D + 1 (`effective_date`), the next date the daily run
computes; dates up to D keep the old schedule even when re-run (`engine.schedule_versions`).
Because the new schedule owes the same total in the same queue order, the cumulative amount
paid — all the engine reads — covers it exactly where it covered the old one: a payment made
before approval on the first unpaid instalment now counts towards the first agreed one.
From the effective date the loan is restructured: its class follows `engine.restructure`,
using the class stored on D and whether it was already restructured then (a second
restructuring). Every proposal and decision is written to the audit log.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from postloan.access import audit
from postloan.access.permissions import can
from postloan.access.users import User
from postloan.collections.actions import CollectionsAction
from postloan.collections.agreement_tables import agreement_instalments, agreements
from postloan.collections.rules.agreements import KINDS as KINDS
from postloan.collections.rules.agreements import AgreementConflict as AgreementConflict
from postloan.collections.rules.agreements import AgreementError as AgreementError
from postloan.collections.rules.agreements import AgreementInvalid as AgreementInvalid
from postloan.collections.rules.agreements import AgreementNotFound as AgreementNotFound
from postloan.collections.rules.agreements import MakerCheckerRefused as MakerCheckerRefused
from postloan.collections.rules.agreements import NewInstalment as NewInstalment
from postloan.collections.rules.agreements import Terms as _Terms
from postloan.collections.rules.agreements import check_built, check_proposable
from postloan.collections.rules.agreements import check_terms as _check_terms
from postloan.collections.rules.agreements import new_schedule as new_schedule
from postloan.engine.single import InstalmentDue, PaymentRow, instalment_states
from postloan.ledger import schedule_cents
from postloan.money import RATE_SCALE
from postloan.policy import Policy
from postloan.store.dates import latest_stored_date
from postloan.store.schema import account_status, cards, loans, payments, schedules
from postloan.store.values import as_date, stored_date

# The new schedule, the terms' checks and the errors are pure: `rules.agreements` (re-exported).

# ---------------------------------------------------------------------------------------------
# Reading the loan


def contract_schedule(conn: Connection, loan: Any) -> list[InstalmentDue]:
    """The loan's schedule before any agreement: imported, else generated from its terms."""
    imported = conn.execute(
        select(schedules.c.period, schedules.c.due_date, schedules.c.principal_due,
               schedules.c.interest_due)
        .where(schedules.c.loan_id == loan.loan_id).order_by(schedules.c.period)
    ).all()  # fmt: skip
    if imported:
        return [InstalmentDue(int(p), stored_date(d), int(a), int(b)) for p, d, a, b in imported]
    built = schedule_cents(
        int(loan.principal), Decimal(int(loan.annual_rate)) / RATE_SCALE, int(loan.term_months),
        loan.repayment_method, stored_date(loan.disbursement_date), as_date(loan.first_due_date),
    )  # fmt: skip
    return [InstalmentDue(p, due, a, b) for p, due, a, b, _ in built]


def schedule_in_force(conn: Connection, loan_id: str, on: date | None = None
                      ) -> list[InstalmentDue] | None:  # fmt: skip
    """The loan's schedule in force on `on` (None: the latest approved agreement's): what the
    daily run uses for that date. None when the loan does not exist."""
    loan = conn.execute(select(loans).where(loans.c.loan_id == loan_id)).first()
    if loan is None:
        return None
    query = (
        select(agreements.c.agreement_id)
        .where(agreements.c.account_id == loan_id, agreements.c.status == "approved")
        .order_by(agreements.c.effective_date.desc())
        .limit(1)
    )
    if on is not None:
        query = query.where(agreements.c.effective_date <= on)
    current = conn.execute(query).scalar()
    if current is None:
        return contract_schedule(conn, loan)
    rows = conn.execute(
        select(agreement_instalments).where(agreement_instalments.c.agreement_id == current)
        .order_by(agreement_instalments.c.period)
    ).all()  # fmt: skip
    return [InstalmentDue(r.period, stored_date(r.due_date), r.principal_due, r.interest_due)
            for r in rows]  # fmt: skip


def _payments(conn: Connection, account_id: str) -> list[PaymentRow]:
    rows = conn.execute(
        select(payments.c.payment_id, payments.c.value_date, payments.c.amount,
               payments.c.reverses_payment_id).where(payments.c.account_id == account_id)
    ).all()  # fmt: skip
    return [
        PaymentRow(r.payment_id, stored_date(r.value_date), int(r.amount), r.reverses_payment_id)
        for r in rows
    ]


def _build(conn: Connection, account_id: str, terms: _Terms, policy: Policy, stored: date
           ) -> list[NewInstalment]:  # fmt: skip
    """The new schedule as it would apply from stored + 1 (checks it leaves nothing overdue)."""
    _check_terms(terms, policy, stored)
    effective = stored + timedelta(days=1)
    schedule = schedule_in_force(conn, account_id, effective)
    assert schedule is not None
    states = instalment_states(
        schedule, _payments(conn, account_id), stored,
        principal_first=policy.allocation.order == "principal_first",
    )  # fmt: skip
    built = new_schedule(
        schedule, states, terms.kind, instalments=terms.instalments,
        first_due_date=terms.first_due_date, extension_months=terms.extension_months,
    )  # fmt: skip
    check_built(account_id, terms, schedule, built, effective)
    return built


def _status_on(conn: Connection, account_id: str, day: date) -> Any:
    return conn.execute(
        select(account_status.c.dpd, account_status.c.risk_class,
               account_status.c.restructured, account_status.c.customer_id)
        .where(account_status.c.account_id == account_id, account_status.c.as_of == day)
    ).first()  # fmt: skip


def _stored_date(conn: Connection) -> date:
    stored = latest_stored_date(conn)
    if stored is None:
        raise AgreementConflict("no stored account status yet: run the daily run first")
    return stored


# ---------------------------------------------------------------------------------------------
# Maker and checker


def propose(
    conn: Connection,
    policy: Policy,
    *,
    account_id: str,
    kind: str,
    proposed_by: str,
    now: datetime,
    instalments: int | None = None,
    first_due_date: date | None = None,
    extension_months: int | None = None,
    reason: str | None = None,
) -> int:
    """Store a proposed agreement (returns its id) after checking it fully; the caller commits."""
    loan = conn.execute(select(loans.c.loan_id).where(loans.c.loan_id == account_id)).first()
    if loan is None:
        is_card = conn.execute(select(cards.c.card_id).where(cards.c.card_id == account_id))
        if is_card.first() is not None:
            raise AgreementInvalid(
                f"account_id: {account_id!r} is a card; an agreement re-spreads a loan's "
                "schedule", "account_id",
            )  # fmt: skip
        raise AgreementNotFound(f"no loan {account_id!r}", "account_id")
    stored = _stored_date(conn)
    status = _status_on(conn, account_id, stored)
    if status is None:
        raise AgreementInvalid(
            f"account_id: loan {account_id!r} has no status on {stored} (repaid, or not yet "
            "disbursed)", "account_id",
        )  # fmt: skip
    check_proposable(account_id, status.dpd, stored, policy.collections.agreement_min_dpd)
    live = conn.execute(
        select(agreements.c.agreement_id).where(agreements.c.live_account_id == account_id)
    ).scalar()
    if live is not None:
        raise AgreementConflict(
            f"account_id: loan {account_id!r} already has agreement {live} awaiting a decision",
            "account_id",
        )
    terms = _Terms(kind, instalments, first_due_date, extension_months)
    built = _build(conn, account_id, terms, policy, stored)
    try:
        with conn.begin_nested():  # a concurrent proposal for the loan hits the unique key
            key = conn.execute(
                agreements.insert().values(
                    account_id=account_id, customer_id=status.customer_id, kind=kind,
                    status="proposed", live_account_id=account_id, instalments=instalments,
                    first_due_date=first_due_date, extension_months=extension_months,
                    reason=reason, proposed_by=proposed_by, proposed_at=now,
                    proposed_as_of=stored, dpd_at_proposal=status.dpd,
                    amount=sum(i.principal_due + i.interest_due for i in built if i.agreed),
                )
            ).inserted_primary_key  # fmt: skip
    except IntegrityError:
        raise AgreementConflict(
            f"account_id: loan {account_id!r} already has an agreement awaiting a decision",
            "account_id",
        ) from None
    assert key is not None
    agreement_id = int(key[0])
    audit.record(
        conn, actor=proposed_by, action="agreement.propose", target_type="agreement",
        target_id=str(agreement_id),
        detail={"account_id": account_id, "kind": kind, "instalments": instalments,
                "first_due_date": first_due_date, "extension_months": extension_months,
                "dpd": status.dpd, "as_of": stored},
        now=now,
    )  # fmt: skip
    return agreement_id


def get(conn: Connection, agreement_id: int) -> Any:
    row = conn.execute(select(agreements).where(agreements.c.agreement_id == agreement_id)).first()
    if row is None:
        raise AgreementNotFound(f"no agreement {agreement_id}", "agreement_id")
    return row


def _pending(conn: Connection, agreement_id: int) -> Any:
    row = get(conn, agreement_id)
    if row.status != "proposed":
        raise AgreementConflict(
            f"agreement {agreement_id} is {row.status}; only a proposed agreement can be decided "
            "or withdrawn", "agreement_id",
        )  # fmt: skip
    return row


def _checker(row: Any, user: User) -> None:
    if user.username == row.proposed_by:
        raise MakerCheckerRefused(
            f"agreement {row.agreement_id} was proposed by {user.username}; a different user "
            "must decide it (maker-checker)"
        )
    if not user.active or not can(user.role, CollectionsAction.AGREEMENT_APPROVE):
        raise MakerCheckerRefused(f"role {user.role} may not decide agreements")


def approve(conn: Connection, policy: Policy, agreement_id: int, checker: User, now: datetime,
            note: str | None = None) -> Any:  # fmt: skip
    """Approve: fix the new schedule, effective the day after the latest stored status date."""
    row = _pending(conn, agreement_id)
    _checker(row, checker)
    stored = _stored_date(conn)
    status = _status_on(conn, row.account_id, stored)
    if status is None:
        raise AgreementInvalid(
            f"agreement_id: loan {row.account_id!r} has no status on {stored} (repaid?)",
            "agreement_id",
        )
    terms = _Terms(row.kind, row.instalments, as_date(row.first_due_date), row.extension_months)
    built = _build(conn, row.account_id, terms, policy, stored)
    conn.execute(
        agreement_instalments.insert(),
        [{"agreement_id": agreement_id, "period": i.period, "due_date": i.due_date,
          "principal_due": i.principal_due, "interest_due": i.interest_due, "agreed": i.agreed}
         for i in built],
    )  # fmt: skip
    effective = stored + timedelta(days=1)
    first_agreed = next(i.due_date for i in built if i.agreed)
    values = {
        "status": "approved", "live_account_id": None, "decided_by": checker.username,
        "decided_at": now, "decision_note": note, "effective_date": effective,
        "first_agreed_due": first_agreed, "class_at_restructuring": status.risk_class,
        "repeat": bool(status.restructured),
        "amount": sum(i.principal_due + i.interest_due for i in built if i.agreed),
    }  # fmt: skip
    conn.execute(update(agreements).where(agreements.c.agreement_id == agreement_id)
                 .values(**values))  # fmt: skip
    audit.record(
        conn, actor=checker.username, action="agreement.approve", target_type="agreement",
        target_id=str(agreement_id),
        detail={"account_id": row.account_id, "effective_date": effective,
                "first_agreed_due": first_agreed, "class_at_restructuring": status.risk_class,
                "repeat": bool(status.restructured), "note": note},
        now=now,
    )  # fmt: skip
    return get(conn, agreement_id)


def reject(conn: Connection, agreement_id: int, checker: User, now: datetime,
           note: str | None = None) -> Any:  # fmt: skip
    row = _pending(conn, agreement_id)
    _checker(row, checker)
    return _close(conn, row, "rejected", checker.username, now, note)


def withdraw(conn: Connection, agreement_id: int, user: User, now: datetime,
             note: str | None = None) -> Any:  # fmt: skip
    row = _pending(conn, agreement_id)
    if user.username != row.proposed_by:
        raise MakerCheckerRefused(
            f"agreement {agreement_id} was proposed by {row.proposed_by}; only they may withdraw it"
        )
    return _close(conn, row, "withdrawn", user.username, now, note)


def _close(conn: Connection, row: Any, status: str, user: str, now: datetime,
           note: str | None) -> Any:  # fmt: skip
    conn.execute(
        update(agreements).where(agreements.c.agreement_id == row.agreement_id).values(
            status=status, live_account_id=None, decided_by=user, decided_at=now,
            decision_note=note,
        )
    )  # fmt: skip
    action = "agreement.reject" if status == "rejected" else "agreement.withdraw"
    audit.record(
        conn, actor=user, action=action, target_type="agreement",
        target_id=str(row.agreement_id), detail={"account_id": row.account_id, "note": note},
        now=now,
    )  # fmt: skip
    return get(conn, row.agreement_id)


def schedule_of(conn: Connection, policy: Policy, row: Any) -> list[NewInstalment]:
    """An approved agreement's fixed schedule; for a proposed one, the schedule it would fix
    if approved now (empty when it no longer could be)."""
    if row.status == "approved":
        rows = conn.execute(
            select(agreement_instalments)
            .where(agreement_instalments.c.agreement_id == row.agreement_id)
            .order_by(agreement_instalments.c.period)
        ).all()
        return [NewInstalment(r.period, stored_date(r.due_date), r.principal_due, r.interest_due,
                              bool(r.agreed)) for r in rows]  # fmt: skip
    if row.status != "proposed":
        return []
    stored = latest_stored_date(conn)
    terms = _Terms(row.kind, row.instalments, as_date(row.first_due_date), row.extension_months)
    try:
        return _build(conn, row.account_id, terms, policy, stored) if stored else []
    except AgreementError:
        return []
