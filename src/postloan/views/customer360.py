"""The customer 360° view's ledger part: accounts, status history, schedules, statements,
payments and events of one customer, as JSON-ready values.

Both the API (`GET /api/customers/{id}`) and the workbench page read it. It is built for a page
view, not a portfolio: a handful of indexed queries on the customer's own rows, schedules
regenerated per loan (`ledger.build_schedule`, exact integers) unless imported or replaced by an
approved repayment agreement in force (a business area's `Area.agreed_schedules`), and schedule
state computed per account by `engine.single` (equal to the portfolio engine, property-tested).
Nothing here depends on who asks — masking of the customer record and the permission to see
accounts are the caller's business.

Amounts are 2-decimal strings and dates ISO text (or `date`, which orjson writes as ISO text),
as everywhere in the API: `ledger_json` is the serialised form.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
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
    union_all,
)

from postloan import areas
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
from postloan.store.dates import LATEST_STORED_DATE
from postloan.store.schema import (
    account_status,
    card_statements,
    cards,
    events,
    loans,
    payments,
    schedules,
)
from postloan.store.values import stored_date
from postloan.views.cache import ViewCache, data_version
from postloan.views.sql import Query

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


def _dicts(query: Query, conn: Connection, params: dict[str, Any],
           amounts: Collection[str] = ()) -> list[dict[str, Any]]:  # fmt: skip
    """The query's rows as dicts, the `amounts` columns as 2-decimal strings."""
    keys = query.keys
    money = [i for i, k in enumerate(keys) if k in amounts]
    if not money:
        return [dict(zip(keys, row, strict=True)) for row in query.rows(conn, params)]
    out = []
    for row in query.rows(conn, params):
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
            InstalmentDue(int(period), stored_date(due), int(principal), int(interest))
            for period, due, principal, interest in imported
        ]
    first_due = loan["first_due_date"]
    built = schedule_cents(
        int(loan["principal"]),
        Decimal(int(loan["annual_rate"])) / RATE_SCALE,
        int(loan["term_months"]),
        loan["repayment_method"],
        stored_date(loan["disbursement_date"]),
        None if first_due is None else stored_date(first_due),
    )
    return [InstalmentDue(p, due, principal, interest) for p, due, principal, interest, _ in built]


def _agreed_schedules(
    conn: Connection, loan_ids: list[str], as_of: date
) -> dict[str, list[tuple[Any, ...]]]:
    """Per restructured loan, the schedule of the latest agreement in force on `as_of`
    (period, due date, principal, interest) — it replaces imported and generated ones."""
    latest: dict[str, tuple[tuple[str, int], list[tuple[Any, ...]]]] = {}
    rows = [row for hook in areas.agreed_schedule_hooks() for row in hook(conn, loan_ids)]
    for loan_id, effective, agreement_id, *row in rows:
        if stored_date(effective) > as_of:
            continue
        key = (str(effective), int(agreement_id))
        held = latest.get(loan_id)
        if held is None or held[0] < key:
            held = latest[loan_id] = (key, [])
        if held[0] == key:
            held[1].append(tuple(row))
    return {loan_id: rows for loan_id, (_, rows) in latest.items()}


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


# The view's statements, built once (building a select per request cost more than running
# it) and run through `views.sql.Query` (lean on SQLite).
_CUSTOMER: BindParameter[str] = bindparam("customer_id")
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
STATUS = Query(_status_statement())
LOANS = Query(
    select(*_text_dates(loans)).where(loans.c.customer_id == _CUSTOMER).order_by(loans.c.loan_id)
)
CARDS = Query(
    select(*_text_dates(cards)).where(cards.c.customer_id == _CUSTOMER).order_by(cards.c.card_id)
)
PAYMENTS = Query(
    select(*_text_dates(payments, *PAYMENT_FIELDS))
    .where(payments.c.account_id.in_(_IDS))
    .order_by(payments.c.value_date.desc(), payments.c.payment_id)
)
SCHEDULES = Query(
    select(*_text_dates(schedules, "loan_id", "period", "due_date", "principal_due",
                        "interest_due"))
    .where(schedules.c.loan_id.in_(_IDS))
    .order_by(schedules.c.loan_id, schedules.c.period)
)  # fmt: skip
STATEMENTS = Query(
    select(*_text_dates(card_statements, "card_id", "statement_date", "due_date",
                        "statement_balance", "minimum_due"))
    .where(card_statements.c.card_id.in_(_IDS))
    .order_by(card_statements.c.card_id, card_statements.c.statement_date)
)  # fmt: skip
EVENTS = Query(
    select(*[c for c in _text_dates(events) if c.name != "customer_id"])
    .where(events.c.customer_id == _CUSTOMER)
    .order_by(events.c.date.desc(), events.c.event_id)
    .limit(bindparam("events"))
)
# The workbench page's counts of the long lists it loads on demand: imported schedule rows per
# loan, statements per card, and payments on all the accounts.
ROW_COUNTS = Query(
    union_all(
        select(schedules.c.loan_id.label("account_id"), func.count().label("n"))
        .where(schedules.c.loan_id.in_(_IDS))
        .group_by(schedules.c.loan_id),
        select(card_statements.c.card_id, func.count())
        .where(card_statements.c.card_id.in_(_IDS))
        .group_by(card_statements.c.card_id),
    )
)
PAYMENT_COUNT = Query(select(func.count()).where(payments.c.account_id.in_(_IDS)))


_LATEST = Query(LATEST_STORED_DATE)  # store.dates, compiled once for the event loop


def latest_stored_date(conn: Connection) -> date | None:
    value = _LATEST.rows(conn, {})[0][0]
    return None if value is None else stored_date(value)


@dataclass
class _Accounts:
    """What both the full view and the page summary start from."""

    loans: list[dict[str, Any]]
    cards: list[dict[str, Any]]
    status_history: list[dict[str, Any]]
    as_of: date
    accounts: list[dict[str, Any]]

    @property
    def loan_ids(self) -> list[str]:
        return [r["loan_id"] for r in self.loans]

    @property
    def card_ids(self) -> list[str]:
        return [r["card_id"] for r in self.cards]


def _accounts(conn: Connection, customer_id: str, history_dates: int) -> _Accounts:
    """The customer's loans and cards with their latest status, and the status history of the
    latest `history_dates` stored dates (newest first)."""
    who = {"customer_id": customer_id}
    loan_rows = _dicts(LOANS, conn, who)
    card_rows = _dicts(CARDS, conn, who)
    status_rows = _dicts(STATUS, conn, {**who, "dates": history_dates}, STATUS_AMOUNTS)
    latest = status_rows[0]["as_of"] if status_rows else None
    as_of = stored_date(latest) if latest else latest_stored_date(conn) or date.today()
    current = {r["account_id"]: r for r in status_rows if r["as_of"] == latest}
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
    return _Accounts(loan_rows, card_rows, status_rows, as_of, accounts)


def ledger_view(
    conn: Connection, customer_id: str, policy: Policy, limits: Limits = Limits()
) -> dict[str, Any]:
    """Accounts with their latest status, status history, schedules and statements as of the
    latest stored date, payments and events (newest first, up to `limits`)."""
    base = _accounts(conn, customer_id, limits.history_dates)
    as_of = base.as_of
    loan_ids, card_ids = base.loan_ids, base.card_ids
    pay_rows = PAYMENTS.rows(conn, {"ids": loan_ids + card_ids}) if base.accounts else []
    # (payment_id, account_id, value_date, amount, channel, reverses_payment_id)
    by_account: dict[str, list[PaymentRow]] = {}
    for payment_id, account_id, value_date, amount, _, reverses in pay_rows:
        by_account.setdefault(account_id, []).append(
            PaymentRow(payment_id, stored_date(value_date), int(amount), reverses)
        )

    threshold = int(policy.allocation.materiality_threshold * 100)
    principal_first = policy.allocation.order == "principal_first"
    instalments: list[dict[str, Any]] = []
    if loan_ids:
        imported: dict[str, list[tuple[Any, ...]]] = {}
        for loan_id, *rest in SCHEDULES.rows(conn, {"ids": loan_ids}):
            imported.setdefault(loan_id, []).append(tuple(rest))
        imported.update(_agreed_schedules(conn, loan_ids, as_of))
        for loan in base.loans:
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
        for card_id, statement_date, due, balance, minimum in STATEMENTS.rows(
            conn, {"ids": card_ids}
        ):
            issued.setdefault(card_id, []).append(
                StatementDue(
                    stored_date(statement_date), stored_date(due), int(balance), int(minimum)
                )
            )
        for card_id in card_ids:
            states = statement_states(
                issued.get(card_id, []), by_account.get(card_id, ()), as_of, threshold=threshold
            )
            statements.extend(_with_amounts(s, card_id, STATEMENT_AMOUNTS) for s in states)

    events_shown = _dicts(
        EVENTS, conn, {"customer_id": customer_id, "events": limits.events}, ("amount",)
    )
    shown = [
        dict(zip(PAYMENT_FIELDS, (*p[:3], format_amount(p[3]), *p[4:]), strict=True))
        for p in pay_rows[: limits.payments]
    ]
    return {
        "as_of": as_of.isoformat(),
        "accounts": base.accounts,
        "status_history": base.status_history,
        "schedules": instalments,
        "statements": statements,
        "payments_total": len(pay_rows),
        "payments": shown,
        "events": events_shown,
    }


def page_view(conn: Connection, customer_id: str, limits: Limits) -> dict[str, Any]:
    """What the workbench's 360° page shows up front: `ledger_view`'s accounts, status history,
    events, as-of date and payments total, with only the *number* of schedule and statement
    rows (`schedule_rows`, `statement_rows`) — those tables load when opened, from the full
    view, so their state as of D is not computed for a page visit."""
    base = _accounts(conn, customer_id, limits.history_dates)
    ids = base.loan_ids + base.card_ids
    counts: dict[str, int] = {}
    payments_total = 0
    if ids:
        counts = {account: int(n) for account, n in ROW_COUNTS.rows(conn, {"ids": ids})}
        payments_total = int(PAYMENT_COUNT.rows(conn, {"ids": ids})[0][0])
    # A loan without imported schedule rows has its generated schedule: one row per month.
    schedule_rows = sum(counts.get(r["loan_id"]) or int(r["term_months"]) for r in base.loans)
    return {
        "as_of": base.as_of.isoformat(),
        "accounts": base.accounts,
        "status_history": base.status_history,
        "schedule_rows": schedule_rows,
        "statement_rows": sum(counts.get(card_id, 0) for card_id in base.card_ids),
        "payments_total": payments_total,
        "events": _dicts(
            EVENTS, conn, {"customer_id": customer_id, "events": limits.events}, ("amount",)
        ),
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
    return _cached(
        conn, cache, ("ledger", customer_id, limits), policy_version or policy.version,
        lambda: ledger_view(conn, customer_id, policy, limits),
    )  # fmt: skip


def page_json(
    conn: Connection,
    customer_id: str,
    policy_version: str,
    limits: Limits,
    cache: ViewCache | None = None,
) -> bytes:
    """`page_view` as JSON bytes, cached like `ledger_json` (the page summary depends on the
    same data; the policy version is part of the key all the same)."""
    return _cached(
        conn, cache, ("page", customer_id, limits), policy_version,
        lambda: page_view(conn, customer_id, limits),
    )  # fmt: skip


def _cached(
    conn: Connection,
    cache: ViewCache | None,
    key: tuple[object, ...],
    policy_version: str,
    build: Callable[[], dict[str, Any]],
) -> bytes:
    version = None if cache is None else data_version(conn, policy_version)
    if cache is None or version is None:
        return orjson.dumps(build())
    full_key = (*key, version)
    hit = cache.get(full_key)
    if hit is None:
        hit = orjson.dumps(build())
        cache.put(full_key, hit)
    return hit


def area_sections_tail(
    conn: Connection, customer_id: str | None, may: Callable[[str], bool] = lambda _: True
) -> bytes:
    """`,"<section>":...}` — the business areas' sections of the view (`Area.customer_view`:
    collections' cases and contacts, churn's card), ending the 360° JSON object; each area's
    empty sections for None (a caller who may not see accounts) and for a caller who may not
    do the area's `customer_view_action` (`may(action)` is False)."""
    sections: dict[str, Any] = {}
    for action, hook in areas.customer_view_hooks():
        allowed = action is None or may(action)
        sections.update(hook(conn, customer_id if allowed else None))
    if not sections:
        return b"}"
    return b"," + orjson.dumps(sections)[1:]
