"""A plain-Python reading of DATA_CONTRACT "Semantics of churn identification as of D" (SPEC
CH-2) under the default thresholds, for checking that a generated portfolio exercises every rule.

Deliberately naive (dicts, lists and loops over customers) and written from the rule text alone,
not from the generator: it reuses only the account-status oracle (`tests.synth.oracle`).
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from postloan.synth import SyntheticPortfolio
from tests.synth.oracle import instalment_lateness, statement_lateness

RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out", "inactive")
# The rules' alternatives: (a) and (b) hold by either of two counts.
CONDITIONS = {
    "loan_consecutive": "loan_overdue",
    "loan_cumulative": "loan_overdue",
    "card_not_paid_in_full": "card_default",
    "card_late": "card_default",
    "closed_not_reapplied": "closed_not_reapplied",
    "transferred_out": "transferred_out",
    "inactive": "inactive",
}
# Default thresholds [X] of the contract.
LOAN_CONSECUTIVE, LOAN_CUMULATIVE = 3, 6
CARD_CONSECUTIVE, CARD_LATE = 3, 6
LOOKBACK_MONTHS = 24
CLOSED_MONTHS, TRANSFER_MONTHS, INACTIVE_MONTHS = 6, 6, 12


def add_months(day: date, months: int) -> date:
    """`day` + `months` months, rolled to the month's last day when the day does not exist."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@dataclass
class _Loan:
    disbursed: date
    schedule: list[tuple[date, int]]  # (due date, principal + interest)


@dataclass
class _Card:
    opened: date
    closed: date | None
    statements: list[tuple[date, date, int, int, int]]  # stmt, due, balance, minimum, purchases


@dataclass
class _Customer:
    loans: dict[str, _Loan] = field(default_factory=dict)
    cards: dict[str, _Card] = field(default_factory=dict)
    events: list[tuple[date, str]] = field(default_factory=list)


@dataclass
class ChurnReference:
    """The portfolio regrouped per customer, ready to be asked about any date D."""

    customers: dict[str, _Customer]
    # per account: (value_date, payment_id, amount, reverses_payment_id)
    payments: dict[str, list[tuple[date, str, int, str | None]]]
    loans: dict[str, _Loan]  # by account id

    @classmethod
    def of(cls, sp: SyntheticPortfolio) -> ChurnReference:
        customers: dict[str, _Customer] = defaultdict(_Customer)
        schedules: dict[str, list[tuple[date, int]]] = defaultdict(list)
        for acc, due, principal, interest in (
            sp.instalments.sort("account_id", "period")
            .select("account_id", "due_date", "principal_due", "interest_due")
            .iter_rows()
        ):
            schedules[acc].append((due, principal + interest))
        for cust, acc, disbursed in sp.loans.select(
            "customer_id", "account_id", "disbursement_date"
        ).iter_rows():
            customers[cust].loans[acc] = _Loan(disbursed, schedules[acc])
        statements: dict[str, list[tuple[date, date, int, int, int]]] = defaultdict(list)
        for acc, *row in (
            sp.statements.sort("account_id", "statement_date")
            .select(
                "account_id",
                "statement_date",
                "due_date",
                "statement_balance",
                "minimum_due",
                "purchases",
            )
            .iter_rows()
        ):
            statements[acc].append((row[0], row[1], row[2], row[3], row[4]))
        for cust, acc, opened, closed in sp.cards.select(
            "customer_id", "account_id", "open_date", "close_date"
        ).iter_rows():
            customers[cust].cards[acc] = _Card(opened, closed, statements[acc])
        for cust, day, kind in sp.events.select("customer_id", "date", "type").iter_rows():
            customers[cust].events.append((day, kind))
        payments: dict[str, list[tuple[date, str, int, str | None]]] = defaultdict(list)
        for acc, day, pid, amount, reverses in sp.payments.select(
            "account_id", "value_date", "payment_id", "amount", "reverses_payment_id"
        ).iter_rows():
            payments[acc].append((day, pid, amount, reverses))
        for rows in payments.values():
            rows.sort()
        loans = {acc: loan for c in customers.values() for acc, loan in c.loans.items()}
        return cls(dict(customers), dict(payments), loans)

    def counted(self, account: str, d: date) -> list[tuple[date, str, int]]:
        """Payments that count on D: dated <= D, not reversals, not reversed by D."""
        rows = [r for r in self.payments.get(account, []) if r[0] <= d]
        reversed_ids = {r[3] for r in rows if r[3]}
        return [(r[0], r[1], r[2]) for r in rows if not r[3] and r[1] not in reversed_ids]

    def rules(self, d: date) -> dict[str, set[str]]:
        """customer_id -> the rules that identify the customer as churned on D (non-empty)."""
        return {
            cust: {CONDITIONS[name] for name in held} for cust, held in self.conditions(d).items()
        }

    def conditions(self, d: date) -> dict[str, set[str]]:
        """customer_id -> the `CONDITIONS` that hold on D (non-empty)."""
        out: dict[str, set[str]] = {}
        for cust, c in self.customers.items():
            held = {name for name, holds in self._check(c, d).items() if holds}
            if held:
                out[cust] = held
        return out

    def loan_dpd(self, account: str, d: date) -> int:
        """Days past due of a loan on D: D − due date of its earliest instalment due before D
        not covered by the payments that count on D (0 when none)."""
        paid = sum(a for _, _, a in self.counted(account, d))
        owed = 0
        for due, amount in self.loans[account].schedule:
            if due >= d:
                break
            owed += amount
            if owed > paid:
                return (d - due).days
        return 0

    def quiet_but_explained(self, d: date) -> set[str]:
        """Customers rule (e) would identify on D but for an `explanation` event."""
        return {cust for cust, c in self.customers.items() if self._inactive(c, d, explained=True)}

    def _check(self, c: _Customer, d: date) -> dict[str, bool]:
        window = add_months(d, -LOOKBACK_MONTHS)
        counted = {a: self.counted(a, d) for a in (*c.loans, *c.cards)}

        loan_consecutive = loan_cumulative = False
        for acc, loan in c.loans.items():
            if loan.disbursed > d:
                continue
            late = instalment_lateness(loan.schedule, counted[acc], d)
            dues = [due for due, _ in loan.schedule[: len(late)]]
            consecutive = 0
            for days in reversed(late):
                if days == 0:
                    break
                consecutive += 1
            cumulative = sum(1 for due, n in zip(dues, late, strict=True) if n and due >= window)
            loan_consecutive |= consecutive >= LOAN_CONSECUTIVE
            loan_cumulative |= cumulative >= LOAN_CUMULATIVE

        card_not_paid_in_full = card_late = False
        for acc, card in c.cards.items():
            if card.opened > d:
                continue
            billed = [s for s in card.statements if s[1] < d]
            not_full = 0
            for stmt, due, balance, _, _ in reversed(billed):
                paid = sum(a for day, _, a in counted[acc] if stmt <= day <= due)
                if balance <= 0 or paid >= balance:
                    break
                not_full += 1
            late = statement_lateness([(s[0], s[1], s[3]) for s in billed], counted[acc], d)
            times = sum(1 for s, days in zip(billed, late, strict=True) if days and s[1] >= window)
            card_not_paid_in_full |= not_full >= CARD_CONSECUTIVE
            card_late |= times >= CARD_LATE

        opened = _opened(c)
        applied = [day for day, kind in c.events if kind == "application"]

        def resumed_after(start: date) -> bool:
            return any(start < day <= d for day in (*applied, *opened))

        def open_on_d() -> bool:
            for acc, loan in c.loans.items():
                owed = sum(amount for _, amount in loan.schedule)
                if loan.disbursed <= d and sum(a for _, _, a in counted[acc]) < owed:
                    return True
            return any(
                card.opened <= d and (card.closed is None or card.closed > d)
                for card in c.cards.values()
            )

        closures = [day for day, kind in c.events if kind == "account_closed" and day <= d]
        closed_not_reapplied = bool(closures) and (
            add_months(max(closures), CLOSED_MONTHS) <= d
            and not resumed_after(max(closures))
            and not open_on_d()
        )
        transfers = [day for day, kind in c.events if kind == "transfer_out" and day <= d]
        transferred_out = bool(transfers) and (
            add_months(max(transfers), TRANSFER_MONTHS) <= d and not resumed_after(max(transfers))
        )

        return {
            "loan_consecutive": loan_consecutive,
            "loan_cumulative": loan_cumulative,
            "card_not_paid_in_full": card_not_paid_in_full,
            "card_late": card_late,
            "closed_not_reapplied": closed_not_reapplied,
            "transferred_out": transferred_out,
            "inactive": self._inactive(c, d),
        }

    def _inactive(self, c: _Customer, d: date, explained: bool = False) -> bool:
        """Rule (e); with `explained`: (e) but for an explanation dated in the window."""
        since = add_months(d, -INACTIVE_MONTHS)
        opened = _opened(c)
        if not any(day <= since for day in opened):
            return False
        credit = [day for day, kind in c.events if kind == "application"]
        credit += opened
        for acc in (*c.loans, *c.cards):
            credit += [r[0] for r in self.payments.get(acc, []) if not r[3]]
        for card in c.cards.values():
            credit += [s[0] for s in card.statements if s[4] > 0]
        explanations = [day for day, kind in c.events if kind == "explanation"]
        if any(since < day <= d for day in credit):
            return False
        return any(since < day <= d for day in explanations) == explained


def _opened(c: _Customer) -> list[date]:
    """Opening dates of the customer's accounts (loan disbursement, card open date)."""
    return [loan.disbursed for loan in c.loans.values()] + [
        card.opened for card in c.cards.values()
    ]
