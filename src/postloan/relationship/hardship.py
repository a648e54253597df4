"""Hardship plans (CR-5): proposed by an officer, approved or rejected by another user holding
`hardship.approve` (maker-checker), then kept — collections' work for the customer paused
through `collections.handover.pause_work` — until broken (work resumed) or completed. The
checks are `rules.hardship`; every change is audited. Flushes, never commits."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, and_, exists, func, insert, select, update

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
    missed_plans,
    plan_refusals,
    transition_refusal,
)
from postloan.relationship.tables import hardship_plans
from postloan.store.schema import cards, loans, payments
from postloan.store.values import stored_date

SOURCE = "relationship"
SYSTEM = "daily-run"  # the actor of what the daily run decides


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
    return _end(conn, row, broken=broken, note=text, actor=actor, today=today, now=now, extra={})


def _end(
    conn: Connection,
    row: Any,
    *,
    broken: bool,
    note: str,
    actor: str,
    today: date,
    now: datetime,
    extra: dict[str, Any],
) -> int:
    _move(conn, row, "broken" if broken else "completed", {"ended_on": today, "end_note": note})
    back = resume_work(conn, SOURCE, row.hold_key, today, note, actor, now)
    _audit(
        conn,
        actor,
        "broken" if broken else "completed",
        row.plan_id,
        {"customer_id": row.customer_id, "note": note, "tasks_resumed": back} | extra,
        now,
    )
    return back


def _kept_with_last_payment(conn: Connection, day: date) -> pl.DataFrame:
    """The plans kept on `day` (approved on or before it) with the latest payment on their
    account on or before `day` that no reversal (value-dated on or before `day`) cancels —
    one grouped query over the plans' accounts, whatever their number."""
    h = hardship_plans.c
    kept = select(h.account_id).where(h.status == "approved", h.decided_on <= day)
    rev = payments.alias("reversal")
    last = (
        select(payments.c.account_id, func.max(payments.c.value_date).label("last_paid"))
        .where(
            payments.c.account_id.in_(kept),
            payments.c.value_date <= day,
            payments.c.reverses_payment_id.is_(None),
            ~exists().where(
                rev.c.reverses_payment_id == payments.c.payment_id, rev.c.value_date <= day
            ),
        )
        .group_by(payments.c.account_id)
        .subquery()
    )
    q = (
        select(h.plan_id, h.kind, h.months, h.decided_on, last.c.last_paid)
        .select_from(hardship_plans.outerjoin(last, last.c.account_id == h.account_id))
        .where(and_(h.status == "approved", h.decided_on <= day))
    )
    rows = [
        (int(r.plan_id), r.kind, int(r.months), stored_date(r.decided_on),
         stored_date(r.last_paid) if r.last_paid is not None else None)
        for r in conn.execute(q)
    ]  # fmt: skip
    schema = {"plan_id": pl.Int64, "kind": pl.String, "months": pl.Int64,
              "decided_on": pl.Date, "last_paid": pl.Date}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def break_missed(conn: Connection, policy: Policy, dates: list[date], now: datetime) -> int:
    """The daily run's check (CR-5): on each run date, in order, every kept plan whose account
    went quiet (`rules.hardship.missed_plans`) is broken as of that date — collection work
    resumed through `collections.handover.resume_work`, the plan's end and the figures it was
    broken on audited (actor `daily-run`). A broken plan stays broken: re-running a date finds
    no kept plan to break again. Returns the plans broken."""
    days = policy.relationship.hardship.missed_payment_days
    broken = 0
    for day in dates:
        hits = missed_plans(_kept_with_last_payment(conn, day), day, days)
        for hit in hits.iter_rows(named=True):
            row = get(conn, int(hit["plan_id"]))
            paid = hit["last_paid"]
            note = (
                f"missed instalment: no payment for {hit['days_quiet']} days since "
                f"{hit['quiet_since'].isoformat()} (more than {days}; daily run)"
            )
            _end(
                conn,
                row,
                broken=True,
                note=note,
                actor=SYSTEM,
                today=day,
                now=now,
                extra={
                    "detected": "payments",
                    "due_from": hit["due_from"].isoformat(),
                    "last_paid": paid.isoformat() if paid is not None else None,
                    "days_quiet": int(hit["days_quiet"]),
                },
            )
            broken += 1
    return broken
