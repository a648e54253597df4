"""Collections' sections of a customer's 360° view (its `Area.customer_view` hook): the
customer's collection cases (with stage history) and recent contacts. Read fresh on every
request — unlike the ledger part they change with every contact recorded, so they are not in
the view cache."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, bindparam, select

from postloan.collections.tables import case_stages, cases, contacts
from postloan.money import format_amount
from postloan.views.sql import Query

CONTACTS_SHOWN = 100

# Built once, parameters bound per call (building a select per request costs more than
# running it); run through `views.sql.Query` (lean on SQLite).
_CASES = Query(
    select(
        cases.c.case_id, cases.c.status, cases.c.stage, cases.c.opened_on, cases.c.closed_on,
        cases.c.close_reason, cases.c.opened_max_dpd, cases.c.opened_overdue_amount,
    )
    .where(cases.c.customer_id == bindparam("customer_id"))
    .order_by(cases.c.opened_on.desc())
)  # fmt: skip
_STAGES = Query(
    select(case_stages.c.case_id, case_stages.c.stage, case_stages.c.entered_on,
           case_stages.c.left_on)
    .where(case_stages.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(case_stages.c.entered_on)
)  # fmt: skip
_CONTACTS = Query(
    select(
        contacts.c.contact_id, contacts.c.at, contacts.c.channel, contacts.c.account_id,
        contacts.c.outcome, contacts.c.recorded_by, contacts.c.staff, contacts.c.content,
        contacts.c.response, contacts.c.promise_amount, contacts.c.promise_date,
    )
    .where(contacts.c.customer_id == bindparam("customer_id"))
    .order_by(contacts.c.at.desc())
    .limit(CONTACTS_SHOWN)
)  # fmt: skip


def customer_sections(conn: Connection, customer_id: str | None) -> dict[str, list[Any]]:
    """`{"cases": [...], "contacts": [...]}` for the customer; empty lists for None (a caller
    who may not see the customer's accounts)."""
    if customer_id is None:
        return {"cases": [], "contacts": []}
    who = {"customer_id": customer_id}
    case_rows = _CASES.rows(conn, who)
    stages: dict[int, list[dict[str, Any]]] = {}
    if case_rows:
        ids = [r[0] for r in case_rows]
        for case_id, stage, entered_on, left_on in _STAGES.rows(conn, {"ids": ids}):
            stages.setdefault(case_id, []).append(
                {"stage": stage, "entered_on": entered_on, "left_on": left_on}
            )
    out_cases = [
        {
            "case_id": case_id, "status": status, "stage": stage, "opened_on": opened_on,
            "closed_on": closed_on, "close_reason": close_reason,
            "opened_max_dpd": opened_max_dpd,
            "opened_overdue_amount": format_amount(opened_overdue_amount),
            "stages": stages.get(case_id, []),
        }
        for (case_id, status, stage, opened_on, closed_on, close_reason, opened_max_dpd,
             opened_overdue_amount) in case_rows
    ]  # fmt: skip
    out_contacts = [
        {
            "contact_id": contact_id, "at": at, "channel": channel, "account_id": account_id,
            "outcome": outcome, "recorded_by": recorded_by, "staff": json.loads(staff),
            "content": content, "response": response,
            "promise_amount": None if promise_amount is None else format_amount(promise_amount),
            "promise_date": promise_date,
        }
        for (contact_id, at, channel, account_id, outcome, recorded_by, staff, content,
             response, promise_amount, promise_date) in _CONTACTS.rows(conn, who)
    ]  # fmt: skip
    return {"cases": out_cases, "contacts": out_contacts}
