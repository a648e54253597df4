"""Contacts over the API: what the contact policy says about a planned contact (nothing is
stored), and recording one — a refused contact is kept for the compliance report and answers
409 naming every rule it breaks.

A customer outside the caller's `contact.record` scope answers 404, like one that does not
exist.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, select

from postloan.access.scope import customer_in_scope
from postloan.access.users import User
from postloan.api.deps import get_conn, now, require
from postloan.api.errors import ERROR_RESPONSES, Conflict, Invalid
from postloan.api.routes.policy import effective_policy
from postloan.api.util import NO_NUL
from postloan.collections.actions import CollectionsAction
from postloan.collections.contacts import (
    CHANNELS,
    OUTCOMES,
    Contact,
    ContactRefused,
    check_contact,
    opted_out_channels,
    recent_contacts,
    record_contact,
)
from postloan.inputs import Amount, BusinessDate, Instant
from postloan.store.schema import account_status

router = APIRouter(prefix="/api/collections", tags=["collections"], responses=ERROR_RESPONSES)

Channel = Literal["phone", "sms", "letter", "visit", "email"]
Outcome = Literal[
    "connected", "promise_to_pay", "refused_to_pay", "dispute", "no_answer", "busy",
    "wrong_number", "left_message", "sent", "delivery_failed", "met", "not_home",
]  # fmt: skip
assert set(Channel.__args__) == set(CHANNELS) and set(Outcome.__args__) == set(OUTCOMES)  # type: ignore[attr-defined]


class ContactIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    account_id: str | None = Field(None, min_length=1, max_length=64, pattern=NO_NUL)
    at: Instant | None = Field(None, description="when (with its zone); default now")
    channel: Channel
    staff: list[str] = Field(
        default_factory=list, max_length=10, description="others present (visits: ≥ 2 staff)"
    )
    outcome: Outcome
    content: str | None = Field(None, max_length=4000, pattern=NO_NUL)
    response: str | None = Field(None, max_length=4000, pattern=NO_NUL)
    promise_amount: Amount | None = None
    promise_date: BusinessDate | None = None


class Violation(BaseModel):
    rule: str
    message: str


class ContactCheck(BaseModel):
    allowed: bool
    violations: list[Violation]


def _contact(body: ContactIn, user: User) -> Contact:
    at = body.at or now()  # Instant: aware, in the business range
    staff = tuple(sorted({user.username, *(s.strip() for s in body.staff if s.strip())}))
    return Contact(body.customer_id, at, body.channel, staff, body.outcome)


@router.post("/contacts/check", response_model=ContactCheck)
def check_planned_contact(
    request: Request,
    body: ContactIn,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> ContactCheck:
    """What the contact policy says about a contact before it is saved (nothing is stored)."""
    customer_in_scope(conn, user, body.customer_id, CollectionsAction.CONTACT_RECORD)
    policy, _ = effective_policy(request)
    planned = _contact(body, user)
    rules = policy.contact.jurisdictions[policy.contact.default_jurisdiction]
    broken = check_contact(
        planned, recent_contacts(conn, planned.customer_id, planned.at),
        opted_out_channels(conn, planned.customer_id), rules, policy.contact.min_staff_per_visit,
    )  # fmt: skip
    return ContactCheck(
        allowed=not broken, violations=[Violation(rule=v.rule, message=v.message) for v in broken]
    )


class ContactSaved(BaseModel):
    contact_id: int


@router.post("/contacts", response_model=ContactSaved, status_code=201)
def save_contact(
    request: Request,
    body: ContactIn,
    user: User = Depends(require(CollectionsAction.CONTACT_RECORD)),
    conn: Connection = Depends(get_conn),
) -> ContactSaved:
    """Record a contact. One the policy refuses answers 409 naming every rule it breaks (the
    refusal is kept for the compliance report); a `promise_to_pay` carries amount and date."""
    customer_in_scope(conn, user, body.customer_id, CollectionsAction.CONTACT_RECORD)
    policy, _ = effective_policy(request)
    promise = None
    if body.outcome == "promise_to_pay":
        if body.promise_amount is None or body.promise_date is None:
            raise Invalid("a promise to pay needs promise_amount and promise_date",
                          field="promise_amount" if body.promise_amount is None
                          else "promise_date")  # fmt: skip
        promise = (body.promise_amount, body.promise_date)  # Amount: minor units, checked
    elif body.promise_amount is not None or body.promise_date is not None:
        raise Invalid("only a promise_to_pay outcome carries a promise", field="outcome")
    if body.account_id is not None:
        owned = conn.execute(
            select(account_status.c.account_id)
            .where(account_status.c.account_id == body.account_id,
                   account_status.c.customer_id == body.customer_id)
            .limit(1)
        ).first()  # fmt: skip
        if owned is None:
            raise Invalid(
                f"account {body.account_id!r} is not one of the customer's", field="account_id"
            )
    try:
        contact_id = record_contact(
            conn, _contact(body, user), policy, recorded_by=user.username,
            account_id=body.account_id, content=body.content, response=body.response,
            promise=promise,
        )  # fmt: skip
    except ContactRefused as refused:
        conn.commit()  # the refusal is kept
        raise Conflict(
            f"refused by the contact policy: {refused}",
            code="contact_refused",
            field="at" if any(v.rule == "quiet_hours" for v in refused.violations) else None,
            problems=[{"rule": v.rule, "message": v.message} for v in refused.violations],
        ) from refused
    except ValueError as exc:
        conn.rollback()
        field = str(exc).split(":", 1)[0]
        raise Invalid(str(exc), field=field if field.isidentifier() else None) from exc
    conn.commit()
    return ContactSaved(contact_id=contact_id)
