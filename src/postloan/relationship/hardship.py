"""Hardship plans (CR-5): proposed by an officer, approved or rejected by another user holding
`hardship.approve` (maker-checker), then kept — collections' work for the customer paused
through `collections.handover.pause_work` — until broken (work resumed) or completed. The
checks are `rules.hardship`; every change is audited. Flushes, never commits."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from postloan.access import audit
from postloan.access.permissions import can
from postloan.collections.handover import pause_work, resume_work
from postloan.errors import InvalidError, NotFoundError, RefusedError
from postloan.policy import Policy
from postloan.relationship.actions import RelAction
from postloan.relationship.rules.clock import Refusal
from postloan.relationship.rules.hardship import (
    MAX_TEXT,
    PlanDraft,
    approval_refusals,
    plan_refusals,
    transition_refusal,
)
from postloan.relationship.tables import hardship_plans
from postloan.store.schema import cards, loans

SOURCE = "relationship"


def _refuse(refusals: list[Refusal], field: str) -> None:
    if refusals:
        raise RefusedError(
            "; ".join(r.message for r in refusals), field=field, code=refusals[0].code
        )


def _account(conn: Connection, customer_id: str, account_id: str) -> tuple[str, int | None]:
    loan = conn.execute(
        select(loans.c.customer_id, loans.c.term_months).where(loans.c.loan_id == account_id)
    ).first()
    if loan is not None and loan.customer_id == customer_id:
        return "loan", int(loan.term_months)
    card = conn.execute(select(cards.c.customer_id).where(cards.c.card_id == account_id)).first()
    if card is not None and card.customer_id == customer_id:
        return "card", None
    raise InvalidError("account_id: not an account of this customer", field="account_id")


def _audit(
    conn: Connection, actor: str, action: str, plan_id: int, detail: dict[str, Any], now: datetime
) -> None:
    audit.record(
        conn,
        actor=actor,
        action=f"hardship.{action}",
        target_type="hardship_plan",
        target_id=str(plan_id),
        detail=detail,
        now=now,
    )


def propose(
    conn: Connection,
    policy: Policy,
    *,
    customer_id: str,
    account_id: str,
    kind: str,
    months: int,
    form: str,
    oral_record: str | None,
    reason: str,
    actor: str,
    today: date,
    now: datetime,
) -> int:
    account_type, term = _account(conn, customer_id, account_id)
    draft = PlanDraft(kind, account_type, months, form, oral_record, term)
    _refuse(plan_refusals(draft, policy.relationship.hardship), "plan")
    why = (reason or "").strip()
    if not why or len(why) > MAX_TEXT or "\x00" in why:
        raise InvalidError(
            f"reason: the customer's difficulty, 1 to {MAX_TEXT} characters", field="reason"
        )
    live = conn.execute(
        select(hardship_plans.c.plan_id).where(
            hardship_plans.c.account_id == account_id,
            hardship_plans.c.status.in_(("proposed", "approved")),
        )
    ).first()
    if live is not None:
        raise RefusedError(
            f"account {account_id} already has plan {live.plan_id}",
            field="account_id",
            code="plan_exists",
        )
    key = conn.execute(
        insert(hardship_plans).values(
            customer_id=customer_id,
            account_id=account_id,
            account_type=account_type,
            kind=kind,
            months=months,
            form=form,
            oral_record=(oral_record or "").strip() or None,
            reason=why,
            status="proposed",
            proposed_by=actor,
            proposed_on=today,
            created_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    plan_id = int(key[0])
    _audit(
        conn,
        actor,
        "propose",
        plan_id,
        {
            "customer_id": customer_id,
            "account_id": account_id,
            "kind": kind,
            "months": months,
            "form": form,
        },
        now,
    )
    return plan_id


def get(conn: Connection, plan_id: int) -> Any:
    row = conn.execute(select(hardship_plans).where(hardship_plans.c.plan_id == plan_id)).first()
    if row is None:
        raise NotFoundError(f"hardship plan {plan_id}: not found", field="plan_id")
    return row


def _move(conn: Connection, row: Any, to: str, values: dict[str, Any]) -> None:
    _refuse([r for r in [transition_refusal(row.status, to)] if r], "status")
    conn.execute(
        update(hardship_plans)
        .where(hardship_plans.c.plan_id == row.plan_id)
        .values(status=to, **values)
    )


def decide(
    conn: Connection,
    plan_id: int,
    *,
    approve: bool,
    approver: str,
    approver_role: str,
    note: str | None,
    today: date,
    now: datetime,
) -> int:
    """Approve (the plan is kept from today: collection work paused; returns the tasks taken
    out of the queue) or reject (a note is required)."""
    row = get(conn, plan_id)
    _refuse(
        approval_refusals(
            row.proposed_by, approver, can(approver_role, RelAction.HARDSHIP_APPROVE)
        ),
        "approver",
    )
    if not approve and not (note or "").strip():
        raise InvalidError("note: say why the plan is rejected", field="note")
    held = 0
    if approve:
        hold = f"hardship:{plan_id}"
        _move(
            conn, row, "approved", {"decided_by": approver, "decided_on": today, "hold_key": hold}
        )
        basis = json.dumps({"plan_id": plan_id, "kind": row.kind, "months": row.months})
        held = pause_work(conn, SOURCE, hold, row.customer_id, today, basis, approver, now)
    else:
        _move(
            conn,
            row,
            "rejected",
            {"decided_by": approver, "decided_on": today, "end_note": (note or "").strip()},
        )
    _audit(
        conn,
        approver,
        "approve" if approve else "reject",
        plan_id,
        {"customer_id": row.customer_id, "note": note},
        now,
    )
    return held


def withdraw(conn: Connection, plan_id: int, *, actor: str, today: date, now: datetime) -> None:
    row = get(conn, plan_id)
    if row.proposed_by != actor:
        raise RefusedError(
            "only the proposer may withdraw a plan", field="plan_id", code="not_proposer"
        )
    _move(conn, row, "withdrawn", {"ended_on": today})
    _audit(conn, actor, "withdraw", plan_id, {"customer_id": row.customer_id}, now)


def end(
    conn: Connection,
    plan_id: int,
    *,
    broken: bool,
    note: str,
    actor: str,
    today: date,
    now: datetime,
) -> int:
    """The plan is broken (collection resumes) or completed (settled: the pause ends too);
    returns the tasks given back to the queue."""
    row = get(conn, plan_id)
    text = (note or "").strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidError(f"note: 1 to {MAX_TEXT} characters", field="note")
    _move(conn, row, "broken" if broken else "completed", {"ended_on": today, "end_note": text})
    back = resume_work(conn, SOURCE, row.hold_key, today, text, actor, now)
    _audit(
        conn,
        actor,
        "broken" if broken else "completed",
        plan_id,
        {"customer_id": row.customer_id, "note": text, "tasks_resumed": back},
        now,
    )
    return back
