"""The 360° view's casework part: the customer's collection cases (with stage history) and
recent contacts. Read fresh on every request — unlike the ledger part it changes with every
contact recorded, so it is not in the view cache."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from postloan.collections.tables import case_stages, cases, contacts
from postloan.money import format_amount

CONTACTS_SHOWN = 100

# Built once, parameters bound per call (building a select per request costs more than
# running it).
_CASES = (
    select(cases)
    .where(cases.c.customer_id == bindparam("customer_id"))
    .order_by(cases.c.opened_on.desc())
)
_STAGES = (
    select(case_stages)
    .where(case_stages.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(case_stages.c.entered_on)
)
_CONTACTS = (
    select(contacts)
    .where(contacts.c.customer_id == bindparam("customer_id"))
    .order_by(contacts.c.at.desc())
    .limit(CONTACTS_SHOWN)
)


def casework(conn: Connection, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    who = {"customer_id": customer_id}
    case_rows = conn.execute(_CASES, who).all()
    stages: dict[int, list[dict[str, Any]]] = {}
    if case_rows:
        ids = [r.case_id for r in case_rows]
        for s in conn.execute(_STAGES, {"ids": ids}):
            stages.setdefault(s.case_id, []).append(
                {"stage": s.stage, "entered_on": s.entered_on, "left_on": s.left_on}
            )
    out_cases = [
        {
            "case_id": r.case_id, "status": r.status, "stage": r.stage,
            "opened_on": r.opened_on, "closed_on": r.closed_on, "close_reason": r.close_reason,
            "opened_max_dpd": r.opened_max_dpd,
            "opened_overdue_amount": format_amount(r.opened_overdue_amount),
            "stages": stages.get(r.case_id, []),
        }
        for r in case_rows
    ]  # fmt: skip
    out_contacts = [
        {
            "contact_id": c.contact_id, "at": c.at, "channel": c.channel,
            "account_id": c.account_id, "outcome": c.outcome, "recorded_by": c.recorded_by,
            "staff": json.loads(c.staff), "content": c.content, "response": c.response,
            "promise_amount": None if c.promise_amount is None else format_amount(c.promise_amount),
            "promise_date": c.promise_date,
        }
        for c in conn.execute(_CONTACTS, who)
    ]  # fmt: skip
    return {"cases": out_cases, "contacts": out_contacts}


def casework_tail(conn: Connection, customer_id: str) -> bytes:
    """`,"cases":[...],"contacts":[...]}` — the end of the 360° JSON object."""
    body = orjson.dumps(casework(conn, customer_id))
    return b"," + body[1:]
