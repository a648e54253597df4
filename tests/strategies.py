"""Hypothesis strategies: small random portfolios built directly as engine frames.

A drawn `Case` holds a `Portfolio` of 1-6 accounts (instalment loans of the three repayment
methods and credit cards), its payments and reversals, a few as-of dates chosen where things
happen (due dates, statement dates, payment and reversal dates, and the days around them) and a
policy variant (allocation order, materiality threshold).

Dates live in a compact range (2024-01-01 .. 2025-06-30) so that payments, due dates and
reversals collide often; first due dates on Jan 31 / Feb 29 / month ends exercise rolling.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import polars as pl
from hypothesis import strategies as st

from postloan.engine.frames import CARDS, INSTALMENTS, LOANS, PAYMENTS, STATEMENTS, Portfolio

START = date(2024, 1, 1)
END = date(2025, 6, 30)
METHODS = ("equal_installment", "equal_principal", "interest_only")
SPECIAL_FIRST_DUE = (
    date(2024, 1, 31),
    date(2024, 2, 29),
    date(2024, 3, 31),
    date(2024, 4, 30),
    date(2024, 8, 31),
    date(2025, 1, 31),
)


def add_months(d: date, months: int) -> date:
    """d + months, rolled to the month's last day when the day does not exist."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))


def dates_between(lo: date, hi: date) -> st.SearchStrategy[date]:
    return st.integers(0, (hi - lo).days).map(lambda n: lo + timedelta(days=n))


FIVE = st.integers(0, 4)
SHORT_BY = st.one_of(st.sampled_from((1, 49, 50, 51, 100, 101, 500)), st.integers(1, 60))


# --------------------------------------------------------------------------------------------
# Policies


@dataclass(frozen=True)
class PolicySpec:
    order: str = "interest_first"
    threshold_cents: int = 0

    def build(self) -> Any:
        return make_policy(self.order, self.threshold_cents)


@cache
def make_policy(order: str = "interest_first", threshold_cents: int = 0) -> Any:
    from postloan.policy import default_policy

    base = default_policy()
    allocation = base.allocation.model_copy(
        update={"order": order, "materiality_threshold": Decimal(threshold_cents) / 100}
    )
    return base.model_copy(update={"allocation": allocation})


@st.composite
def policy_specs(draw: st.DrawFn) -> PolicySpec:
    """Default policy 2/5 of the time, principal first 1/5, a materiality threshold 2/5."""
    kind = draw(FIVE)
    if kind < 2:
        return PolicySpec()
    if kind == 2:
        return PolicySpec("principal_first", 0)
    order = "principal_first" if draw(st.booleans()) else "interest_first"
    threshold = draw(SHORT_BY) if draw(st.booleans()) else draw(st.integers(1, 2_000))
    return PolicySpec(order, threshold)


# --------------------------------------------------------------------------------------------
# Module-level strategies (building strategies inside every draw makes generation slow)

SIX = st.integers(0, 5)
SEVEN = st.integers(0, 6)
NEAR_OFFSET = st.integers(-20, 40)
ANY_DATE = dates_between(START, END)
OPEN_DATE = dates_between(START, date(2025, 3, 31))
AS_OF_DATE = dates_between(date(2023, 12, 1), date(2025, 9, 30))
RATE = st.one_of(
    st.sampled_from((0, 4_350_000, 12_000_000, 24_000_000)), st.integers(0, 36_000_000)
)
REVERSAL_COUNT = st.sampled_from((0, 0, 0, 0, 0, 1, 1, 2))
TERM = st.one_of(st.integers(1, 6), st.integers(1, 24))


def _date_near(draw: st.DrawFn, anchor: date) -> date:
    where = draw(SIX)
    if where == 0:
        return anchor  # on the due (or statement) date
    if where == 1:
        return anchor + timedelta(days=1)  # a day late
    if where == 2:
        return anchor - timedelta(days=1)
    if where == 3:
        return anchor + timedelta(days=draw(NEAR_OFFSET))
    return draw(ANY_DATE)


# --------------------------------------------------------------------------------------------
# Schedules


def _generator() -> Any:
    """`postloan.ledger.generate_instalments` when it exists, else None."""
    try:
        from postloan.ledger import generate_instalments
    except ImportError:
        try:
            from postloan.ledger.schedule_frame import generate_instalments
        except ImportError:
            return None
    return generate_instalments


def hand_made_schedule(draw: st.DrawFn, first_due: date) -> list[dict[str, Any]]:
    """A schedule with random amounts (zero-amount instalments included) and due dates."""
    n = draw(st.integers(1, 8))
    monthly = draw(st.booleans())
    rows = []
    due = first_due
    for k in range(1, n + 1):
        if k > 1:
            if monthly:
                due = add_months(first_due, k - 1)
            else:
                due = due + timedelta(days=draw(st.integers(1, 45)))
        if draw(SEVEN) == 0:
            principal, interest = 0, 0
        else:
            principal = 0 if draw(FIVE) == 0 else draw(st.integers(1, 300_000))
            interest = 0 if draw(FIVE) == 0 else draw(st.integers(1, 5_000))
        rows.append(
            {"period": k, "due_date": due, "principal_due": principal, "interest_due": interest}
        )
    if all(r["principal_due"] == 0 for r in rows):
        rows[-1]["principal_due"] = draw(st.integers(1, 300_000))
    return rows


def loan_account(draw: st.DrawFn, account_id: str, customer_id: str) -> dict[str, Any]:
    """A loan row plus its schedule (generated by the ledger when available, else hand-made)."""
    method = METHODS[draw(st.integers(0, 2))]
    term = draw(TERM)
    principal = draw(st.integers(max(1_000, 200 * term), 3_000_000))
    rate = draw(RATE)
    kind = draw(st.integers(0, 2))
    first_due: date | None
    if kind == 0:  # Jan 31, Feb 29, month ends
        first_due = SPECIAL_FIRST_DUE[draw(st.integers(0, len(SPECIAL_FIRST_DUE) - 1))]
        disbursement = first_due - timedelta(days=draw(st.integers(1, 45)))
    else:
        disbursement = draw(OPEN_DATE)
        first_due = None  # kind 1: the default, disbursement + 1 month
        if kind == 2:
            first_due = disbursement + timedelta(days=draw(st.integers(1, 60)))
    loan = {
        "account_id": account_id,
        "customer_id": customer_id,
        "principal": principal,
        "annual_rate": rate,
        "term_months": term,
        "repayment_method": method,
        "disbursement_date": disbursement,
        "first_due_date": first_due,
    }
    generator = _generator()
    if generator is not None and draw(st.integers(0, 3)) > 0:
        schedule = generator(pl.DataFrame([loan], schema=LOANS)).to_dicts()
        schedule = [
            {key: row[key] for key in ("period", "due_date", "principal_due", "interest_due")}
            for row in schedule
        ]
    else:
        effective_first_due = first_due if first_due is not None else add_months(disbursement, 1)
        schedule = hand_made_schedule(draw, effective_first_due)
        loan["principal"] = sum(r["principal_due"] for r in schedule)
        loan["term_months"] = len(schedule)
    return {"loan": loan, "schedule": schedule}


def card_account(draw: st.DrawFn, account_id: str, customer_id: str) -> dict[str, Any]:
    """A card row and 0-8 monthly statements (minimums including 0; some cards closed)."""
    open_date = draw(OPEN_DATE)
    close_date = None
    if draw(st.booleans()):
        close_date = open_date + timedelta(days=draw(st.integers(0, 500)))
    n = draw(st.integers(0, 8))
    first_statement = open_date + timedelta(days=draw(st.integers(0, 40)))
    if draw(st.integers(0, 3)) == 0:  # statement day 31: rolls through short months
        last = calendar.monthrange(first_statement.year, first_statement.month)[1]
        first_statement = first_statement.replace(day=last)
    statements = []
    for k in range(n):
        statement_date = add_months(first_statement, k)
        balance = 0 if draw(SEVEN) == 0 else draw(st.integers(1, 1_000_000))
        kind = draw(st.integers(0, 3))
        if kind == 0:
            minimum = 0
        elif kind == 1:
            minimum = balance // 10
        elif kind == 2:
            minimum = min(balance, 10_000)
        else:
            minimum = draw(st.integers(0, balance))
        statements.append(
            {
                "account_id": account_id,
                "statement_date": statement_date,
                "due_date": statement_date + timedelta(days=draw(st.integers(5, 25))),
                "statement_balance": balance,
                "minimum_due": minimum,
                "purchases": draw(st.integers(0, balance)),
            }
        )
    card = {
        "account_id": account_id,
        "customer_id": customer_id,
        "credit_limit": draw(st.integers(100_000, 5_000_000)),
        "open_date": open_date,
        "close_date": close_date,
    }
    return {"card": card, "statements": statements}


# --------------------------------------------------------------------------------------------
# Payments


def _short_by(draw: st.DrawFn, threshold: int) -> int:
    """Cents a "nearly exact" payment leaves unpaid: near the policy's threshold, if any."""
    if threshold > 0 and draw(st.booleans()):
        return max(1, threshold + draw(st.integers(-1, 1)))
    return draw(SHORT_BY)


def loan_payments(
    draw: st.DrawFn, schedule: list[dict[str, Any]], threshold: int = 0
) -> list[tuple[date, int]]:
    """(value_date, amount) pairs around the schedule: partial, exact, early, late, over."""
    totals = [r["principal_due"] + r["interest_due"] for r in schedule]
    whole = sum(totals)
    out: list[tuple[date, int]] = []
    for _ in range(draw(st.integers(0, 7))):
        k = draw(st.integers(0, len(schedule) - 1))
        instalment = max(totals[k], 1)
        kind = draw(SIX)
        if kind == 0:  # exact
            amount = instalment
        elif kind == 1:  # partial
            amount = draw(st.integers(1, instalment))
        elif kind == 2:  # catch up to instalment k
            amount = max(1, sum(totals[: k + 1]))
        elif kind == 3:  # short by a few cents (materiality)
            amount = max(1, instalment - _short_by(draw, threshold))
        elif kind == 4:  # beyond the last instalment: credit balance
            amount = whole + draw(st.integers(1, 50_000))
        else:
            amount = draw(st.integers(1, 2_000))
        value_date = _date_near(draw, schedule[k]["due_date"])
        if out and draw(FIVE) == 0:
            value_date = out[-1][0]  # same day as another payment: ties by payment_id
        out.append((value_date, amount))
    return out


def card_payments(
    draw: st.DrawFn, statements: list[dict[str, Any]], threshold: int = 0
) -> list[tuple[date, int]]:
    """(value_date, amount) pairs around statement and due dates."""
    out: list[tuple[date, int]] = []
    for _ in range(draw(st.integers(0, 7 if statements else 2))):
        if statements:
            s = statements[draw(st.integers(0, len(statements) - 1))]
            anchor = s["due_date"] if draw(st.booleans()) else s["statement_date"]
            value_date = _date_near(draw, anchor)
            minimum = s["minimum_due"]
            kind = draw(FIVE)
            if kind == 0:
                amount = max(1, minimum)
            elif kind == 1:
                amount = draw(st.integers(1, max(1, minimum)))
            elif kind == 2:
                amount = max(1, s["statement_balance"])
            elif kind == 3:
                amount = max(1, minimum - _short_by(draw, threshold))
            else:
                amount = draw(st.integers(1, 1_200_000))
        else:
            value_date = draw(ANY_DATE)
            amount = draw(st.integers(1, 100_000))
        if out and draw(FIVE) == 0:
            value_date = out[-1][0]
        out.append((value_date, amount))
    return out


# --------------------------------------------------------------------------------------------
# Whole cases


@dataclass(frozen=True)
class Case:
    portfolio: Portfolio
    dates: tuple[date, ...]
    policy: PolicySpec

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' falsifying example
        printer.text(repr(self))

    def __repr__(self) -> str:  # readable falsifying examples
        parts = [f"policy={self.policy}", f"dates={list(self.dates)}"]
        for name in ("loans", "instalments", "cards", "statements", "payments"):
            frame = getattr(self.portfolio, name)
            parts.append(f"{name}={frame.to_dicts()}")
        return "Case(\n  " + ",\n  ".join(parts) + "\n)"


def _interesting_dates(
    loans: list[dict[str, Any]],
    instalments: list[dict[str, Any]],
    cards: list[dict[str, Any]],
    statements: list[dict[str, Any]],
    payments: list[dict[str, Any]],
) -> list[date]:
    anchors: set[date] = set()
    anchors.update(r["disbursement_date"] for r in loans)
    anchors.update(r["due_date"] for r in instalments)
    anchors.update(r["open_date"] for r in cards)
    anchors.update(r["close_date"] for r in cards if r["close_date"] is not None)
    anchors.update(r["statement_date"] for r in statements)
    anchors.update(r["due_date"] for r in statements)
    anchors.update(r["value_date"] for r in payments)
    around: set[date] = set()
    for d in anchors:
        around.update((d - timedelta(days=1), d, d + timedelta(days=1)))
    return sorted(around)


@st.composite
def cases(draw: st.DrawFn, max_accounts: int = 6, max_dates: int = 3) -> Case:
    policy = draw(policy_specs())
    n_accounts = draw(st.integers(1, max_accounts))
    # Ids sort in a random order relative to account kind and creation order.
    numbers = draw(
        st.lists(st.integers(1, 99), min_size=n_accounts, max_size=n_accounts, unique=True)
    )
    loans: list[dict[str, Any]] = []
    instalments: list[dict[str, Any]] = []
    cards: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    raw_payments: list[tuple[str, date, int]] = []
    for number in numbers:
        account_id = f"A{number}"
        customer_id = f"K{draw(st.integers(1, 3))}"
        if draw(st.integers(0, 2)) > 0:
            built = loan_account(draw, account_id, customer_id)
            loans.append(built["loan"])
            instalments.extend({"account_id": account_id, **row} for row in built["schedule"])
            pays = loan_payments(draw, built["schedule"], policy.threshold_cents)
        else:
            built = card_account(draw, account_id, customer_id)
            cards.append(built["card"])
            statements.extend(built["statements"])
            pays = card_payments(draw, built["statements"], policy.threshold_cents)
        raw_payments.extend((account_id, d, a) for d, a in pays)

    # Payment ids in string order unrelated to dates (mixed widths: "p10" < "p9").
    n_rows = len(raw_payments)
    ids = draw(st.lists(st.integers(0, 999), min_size=n_rows, max_size=n_rows, unique=True))
    payments: list[dict[str, Any]] = [
        {
            "payment_id": f"p{i}",
            "account_id": account,
            "value_date": d,
            "amount": amount,
            "reverses_payment_id": None,
        }
        for i, (account, d, amount) in zip(ids, raw_payments, strict=True)
    ]
    # Reversals: same day as the payment, the next day, much later (after completion), and now
    # and then dated before the payment itself; a few payments are reversed twice.
    reversals: list[dict[str, Any]] = []
    for payment in payments:
        for _ in range(draw(REVERSAL_COUNT)):
            kind = draw(FIVE)
            if kind < 2:
                offset = kind  # same day, next day
            elif kind < 4:
                offset = draw(st.integers(2, 200))
            else:
                offset = -1
            reversals.append(
                {
                    "payment_id": f"r{len(reversals)}",
                    "account_id": payment["account_id"],
                    "value_date": payment["value_date"] + timedelta(days=offset),
                    "amount": payment["amount"],
                    "reverses_payment_id": payment["payment_id"],
                }
            )
    if payments and draw(st.integers(0, 9)) == 0:
        # A reversal of a payment that does not exist: ignored (the import rejects it).
        reversals.append(
            {
                "payment_id": f"r{len(reversals)}",
                "account_id": payments[0]["account_id"],
                "value_date": draw(ANY_DATE),
                "amount": 1_000,
                "reverses_payment_id": "p-missing",
            }
        )
    payments.extend(reversals)

    portfolio = Portfolio(
        loans=pl.DataFrame(loans, schema=LOANS),
        instalments=pl.DataFrame(instalments, schema=INSTALMENTS),
        cards=pl.DataFrame(cards, schema=CARDS),
        statements=pl.DataFrame(statements, schema=STATEMENTS),
        payments=pl.DataFrame(payments, schema=PAYMENTS),
    )
    interesting = _interesting_dates(loans, instalments, cards, statements, payments)
    dates: list[date] = []
    for _ in range(draw(st.integers(1, max_dates))):
        if draw(FIVE) > 0:  # mostly where something happens
            d = interesting[draw(st.integers(0, len(interesting) - 1))]
        else:
            d = draw(AS_OF_DATE)
        if d not in dates:
            dates.append(d)
    return Case(portfolio, tuple(dates), policy)


# --------------------------------------------------------------------------------------------
# Builders for hand-written portfolios (scenario and self tests)


def loan_row(
    account_id: str,
    principal: int,
    disbursement: date,
    *,
    customer_id: str = "K1",
    annual_rate: int = 0,
    term_months: int = 1,
    method: str = "equal_installment",
    first_due: date | None = None,
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "principal": principal,
        "annual_rate": annual_rate,
        "term_months": term_months,
        "repayment_method": method,
        "disbursement_date": disbursement,
        "first_due_date": first_due,
    }


def instalment_row(
    account_id: str, period: int, due: date, principal: int, interest: int
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "period": period,
        "due_date": due,
        "principal_due": principal,
        "interest_due": interest,
    }


def card_row(
    account_id: str, open_date: date, close_date: date | None = None, *, customer_id: str = "K1"
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "credit_limit": 10_000_000,
        "open_date": open_date,
        "close_date": close_date,
    }


def statement_row(
    account_id: str, statement_date: date, due: date, balance: int, minimum: int
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "statement_date": statement_date,
        "due_date": due,
        "statement_balance": balance,
        "minimum_due": minimum,
        "purchases": 0,
    }


def payment_row(
    payment_id: str, account_id: str, value_date: date, amount: int, reverses: str | None = None
) -> dict[str, Any]:
    return {
        "payment_id": payment_id,
        "account_id": account_id,
        "value_date": value_date,
        "amount": amount,
        "reverses_payment_id": reverses,
    }


def build_portfolio(
    loans: Sequence[dict[str, Any]] = (),
    instalments: Sequence[dict[str, Any]] = (),
    cards: Sequence[dict[str, Any]] = (),
    statements: Sequence[dict[str, Any]] = (),
    payments: Sequence[dict[str, Any]] = (),
) -> Portfolio:
    return Portfolio(
        loans=pl.DataFrame(list(loans), schema=LOANS),
        instalments=pl.DataFrame(list(instalments), schema=INSTALMENTS),
        cards=pl.DataFrame(list(cards), schema=CARDS),
        statements=pl.DataFrame(list(statements), schema=STATEMENTS),
        payments=pl.DataFrame(list(payments), schema=PAYMENTS),
    )
