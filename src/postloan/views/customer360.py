"""The customer 360° view's ledger part: accounts, status history, schedules, statements,
payments and events of one customer, as JSON-ready values.

Both the API (`GET /api/customers/{id}`) and the workbench page read it. It is built for a
page view, not a portfolio: a handful of indexed queries on the customer's own rows, schedules
regenerated per loan (`ledger.build_schedule`, exact integers) unless imported, and schedule
state computed per account by `engine.single` (equal to the portfolio engine, property-tested).
Nothing here depends on who asks — masking of the customer record and the permission to see
accounts are the caller's business.

Amounts are 2-decimal strings and dates ISO text (or `date`, which orjson writes as ISO text),
as everywhere in the API: `ledger_json` is the serialised form.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Select,
    String,
    Table,
    bindparam,
    cast,
    func,
    select,
)

from postloan.engine.single import (
    InstalmentDue,
    PaymentRow,
    StatementDue,
    instalment_states,
    statement_states,
)
from postloan.ledger import schedule_cents
from postloan.money import RATE_SCALE, format_amount
from postloan.policy import Policy
from postloan.store.schema import (
    account_status,
    card_statements,
    cards,
    events,
    loans,
    payments,
    schedules,
)
from postloan.store.values import as_date
from postloan.views.cache import ViewCache, data_version

STATUS_AMOUNTS = frozenset(
    ("outstanding_principal", "overdue_principal", "overdue_interest", "overdue_amount")
)
PAYMENT_FIELDS = ("payment_id", "account_id", "value_date", "amount", "channel",
                  "reverses_payment_id")  # fmt: skip
INSTALMENT_AMOUNTS = ("principal_due", "interest_due", "covered_principal", "covered_interest")
STATEMENT_AMOUNTS = ("statement_balance", "minimum_due", "minimum_covered")


@dataclass(frozen=True)
class Limits:
    """How much of the long lists a view carries (newest first)."""

    history_dates: int = 30
    payments: int = 200
    events: int = 200


def _day(value: Any) -> date:
    day = as_date(value)
    assert day is not None
    return day


def _money(value: Any) -> str | None:
    return None if value is None else format_amount(int(value))


def _rate(units: int | None) -> str | None:
    if units is None:
        return None
    return format((Decimal(int(units)) / RATE_SCALE).normalize(), "f")


def _text_dates(table: Table, *names: str) -> list[ColumnElement[Any]]:
    """The table's columns (or `names`), dates as ISO text straight from the database: the
    view only shows them, and converting each to `date` and back dominated its cost."""
    columns = [table.c[n] for n in names] if names else list(table.c)
    return [cast(c, String).label(c.name) if isinstance(c.type, Date) else c for c in columns]


def _dicts(result: Any, amounts: Collection[str] = ()) -> list[dict[str, Any]]:
    """Result rows as dicts, the `amounts` columns as 2-decimal strings."""
    columns = result.keys()  # (a Result: iterating it would consume the rows)
    keys = [str(k) for k in columns]  # plain str: orjson refuses str subclasses as keys
    money = [i for i, k in enumerate(keys) if k in amounts]
    out = []
    for row in result:
        values = list(row)
        for i in money:
            if values[i] is not None:
                values[i] = format_amount(values[i])
        out.append(dict(zip(keys, values, strict=True)))
    return out


def _with_amounts(values: dict[str, Any], account_id: str, amounts: Sequence[str]
                  ) -> dict[str, Any]:  # fmt: skip
    """An engine.single row for JSON: the account id first, amounts as strings (dates stay
    `date`: orjson writes them as ISO text)."""
    out: dict[str, Any] = {"account_id": account_id, **values}
    for k in amounts:
        out[k] = format_amount(out[k])
    return out


def _schedule(loan: dict[str, Any], imported: list[tuple[Any, ...]]) -> list[InstalmentDue]:
    """The loan's schedule: imported rows replace the generated schedule wholesale."""
    if imported:
        return [
            InstalmentDue(int(period), _day(due), int(principal), int(interest))
            for period, due, principal, interest in imported
        ]
    first_due = loan["first_due_date"]
    built = schedule_cents(
        int(loan["principal"]),
        Decimal(int(loan["annual_rate"])) / RATE_SCALE,
        int(loan["term_months"]),
        loan["repayment_method"],
        _day(loan["disbursement_date"]),
        None if first_due is None else _day(first_due),
    )
    return [InstalmentDue(p, due, principal, interest) for p, due, principal, interest, _ in built]


def _status_statement() -> Select[Any]:
    recent = (
        select(account_status.c.as_of)
        .where(account_status.c.customer_id == bindparam("customer_id"))
        .group_by(account_status.c.as_of)
        .order_by(account_status.c.as_of.desc())
        .limit(bindparam("dates"))
        .subquery()
    )
    columns = [c for c in _text_dates(account_status) if c.name != "customer_id"]
    return (
        select(*columns)
        .where(
            account_status.c.customer_id == bindparam("customer_id"),
            account_status.c.as_of >= select(func.min(recent.c.as_of)).scalar_subquery(),
        )
        .order_by(account_status.c.as_of.desc(), account_status.c.account_id)
    )


# The view's statements, built once: building a select per request cost more than running it.
_CUSTOMER: BindParameter[str] = bindparam("customer_id")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
STATUS = _status_statement()
LOANS = (
    select(*_text_dates(loans)).where(loans.c.customer_id == _CUSTOMER).order_by(loans.c.loan_id)
)
CARDS = (
    select(*_text_dates(cards)).where(cards.c.customer_id == _CUSTOMER).order_by(cards.c.card_id)
)
PAYMENTS = (
    select(*_text_dates(payments))
    .where(payments.c.account_id.in_(_IDS))
    .order_by(payments.c.value_date.desc(), payments.c.payment_id)
)
SCHEDULES = (
    select(*_text_dates(schedules, "loan_id", "period", "due_date", "principal_due",
                        "interest_due"))
    .where(schedules.c.loan_id.in_(_IDS))
    .order_by(schedules.c.loan_id, schedules.c.period)
)  # fmt: skip
STATEMENTS = (
    select(*_text_dates(card_statements, "card_id", "statement_date", "due_date",
                        "statement_balance", "minimum_due"))
    .where(card_statements.c.card_id.in_(_IDS))
    .order_by(card_statements.c.card_id, card_statements.c.statement_date)
)  # fmt: skip
EVENTS = (
    select(*[c for c in _text_dates(events) if c.name != "customer_id"])
    .where(events.c.customer_id == _CUSTOMER)
    .order_by(events.c.date.desc(), events.c.event_id)
    .limit(bindparam("events"))
)


def latest_stored_date(conn: Connection) -> date | None:
    value = conn.execute(select(func.max(account_status.c.as_of))).scalar()
    return None if value is None else _day(value)


def ledger_view(
    conn: Connection, customer_id: str, policy: Policy, limits: Limits = Limits()
) -> dict[str, Any]:
    """Accounts with their latest status, status history, schedules and statements as of the
    latest stored date, payments and events (newest first, up to `limits`)."""
    who = {"customer_id": customer_id}
    loan_rows = _dicts(conn.execute(LOANS, who))
    card_rows = _dicts(conn.execute(CARDS, who))
    status_rows = _dicts(
        conn.execute(STATUS, {**who, "dates": limits.history_dates}), STATUS_AMOUNTS
    )
    latest = status_rows[0]["as_of"] if status_rows else None
    as_of = _day(latest) if latest else latest_stored_date(conn) or date.today()
    current = {r["account_id"]: r for r in status_rows if r["as_of"] == latest}

    loan_ids = [r["loan_id"] for r in loan_rows]
    card_ids = [r["card_id"] for r in card_rows]
    pay_rows = (
        _dicts(conn.execute(PAYMENTS, {"ids": loan_ids + card_ids})) if loan_ids or card_ids else []
    )
    by_account: dict[str, list[PaymentRow]] = {}
    for p in pay_rows:
        by_account.setdefault(p["account_id"], []).append(
            PaymentRow(
                p["payment_id"], _day(p["value_date"]), int(p["amount"]),
                p["reverses_payment_id"],
            )
        )  # fmt: skip

    threshold = int(policy.allocation.materiality_threshold * 100)
    principal_first = policy.allocation.order == "principal_first"
    instalments: list[dict[str, Any]] = []
    if loan_ids:
        imported: dict[str, list[tuple[Any, ...]]] = {}
        for loan_id, *rest in conn.execute(SCHEDULES, {"ids": loan_ids}):
            imported.setdefault(loan_id, []).append(tuple(rest))
        for loan in loan_rows:
            states = instalment_states(
                _schedule(loan, imported.get(loan["loan_id"], [])),
                by_account.get(loan["loan_id"], ()),
                as_of,
                threshold=threshold,
                principal_first=principal_first,
            )
            instalments.extend(
                _with_amounts(s, loan["loan_id"], INSTALMENT_AMOUNTS) for s in states
            )

    statements: list[dict[str, Any]] = []
    if card_ids:
        issued: dict[str, list[StatementDue]] = {}
        for card_id, *rest in conn.execute(STATEMENTS, {"ids": card_ids}):
            statement_date, due, balance, minimum = rest
            issued.setdefault(card_id, []).append(
                StatementDue(_day(statement_date), _day(due), int(balance), int(minimum))
            )
        for card_id in card_ids:
            states = statement_states(
                issued.get(card_id, []), by_account.get(card_id, ()), as_of, threshold=threshold
            )
            statements.extend(_with_amounts(s, card_id, STATEMENT_AMOUNTS) for s in states)

    events_shown = _dicts(conn.execute(EVENTS, {**who, "events": limits.events}), ("amount",))
    accounts = [
        {
            "account_id": r["loan_id"], "account_type": "loan", "product": r["product"],
            "principal": _money(r["principal"]), "annual_rate": _rate(r["annual_rate"]),
            "term_months": r["term_months"], "repayment_method": r["repayment_method"],
            "disbursement_date": r["disbursement_date"], "first_due_date": r["first_due_date"],
            "credit_limit": None, "open_date": None, "close_date": None,
            "branch_id": r["branch_id"], "status": current.get(r["loan_id"]),
        }
        for r in loan_rows
    ] + [
        {
            "account_id": r["card_id"], "account_type": "card", "product": None, "principal": None,
            "annual_rate": None, "term_months": None, "repayment_method": None,
            "disbursement_date": None, "first_due_date": None,
            "credit_limit": _money(r["credit_limit"]), "open_date": r["open_date"],
            "close_date": r["close_date"], "branch_id": None, "status": current.get(r["card_id"]),
        }
        for r in card_rows
    ]  # fmt: skip
    for p in pay_rows[: limits.payments]:
        p["amount"] = format_amount(p["amount"])
    return {
        "as_of": as_of.isoformat(),
        "accounts": accounts,
        "status_history": status_rows,
        "schedules": instalments,
        "statements": statements,
        "payments_total": len(pay_rows),
        "payments": [{k: p[k] for k in PAYMENT_FIELDS} for p in pay_rows[: limits.payments]],
        "events": events_shown,
    }


def ledger_json(
    conn: Connection,
    customer_id: str,
    policy: Policy,
    limits: Limits = Limits(),
    cache: ViewCache | None = None,
    policy_version: str | None = None,
) -> bytes:
    """`ledger_view` as JSON bytes, from `cache` when the store has not changed since.
    (`policy_version`: the policy's version when the caller already knows it.)"""
    version = None if cache is None else data_version(conn, policy_version or policy.version)
    key = (customer_id, limits, version)
    if cache is not None and version is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    body = orjson.dumps(ledger_view(conn, customer_id, policy, limits))
    if cache is not None and version is not None:
        cache.put(key, body)
    return body
