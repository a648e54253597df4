"""Reference implementation of account status as of D: plain, per-account, literal.

Written straight from DATA_CONTRACT.md ("Semantics of account status", "Outputs") and
docs/semantics.md, independently of `postloan.engine`. It simulates every payment one at a time,
in value-date order (ties by payment_id), against each account's instalments or statements, and
keeps a note of what each payment covered. No cumulative sums, no vectorisation: the engine is
the fast version, this is the obviously-correct one the property tests hold it to.

Inputs are `postloan.engine.frames.Portfolio` frames (read with `.to_dicts()`), outputs are lists
of dicts with the engine's column names and units (amounts in integer minor units, dates as
`datetime.date`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from postloan.engine.frames import Portfolio

# "Covered from the start": an instalment or statement that counts as covered without any payment
# (nothing due, or everything due up to it is within the materiality threshold). It is covered on
# its due date and never late.
FROM_START = "from_start"


@dataclass(frozen=True)
class Payment:
    payment_id: str
    value_date: date
    amount: int


# --------------------------------------------------------------------------------------------
# Payments that count as of D


def counting_payments(payment_rows: list[dict[str, Any]], as_of: date) -> dict[str, list[Payment]]:
    """Per account, the payments that count as of D, in application order.

    A payment counts when its value date is <= D and no reversal row cancelling it is dated <= D.
    Reversal rows are not payments themselves (their amount is ignored).
    """
    reversal_dates: dict[str, list[date]] = {}
    for row in payment_rows:
        if row["reverses_payment_id"] is not None:
            reversal_dates.setdefault(row["reverses_payment_id"], []).append(row["value_date"])

    by_account: dict[str, list[Payment]] = {}
    for row in payment_rows:
        if row["reverses_payment_id"] is not None:
            continue
        if row["value_date"] > as_of:
            continue
        reversed_by_d = any(r <= as_of for r in reversal_dates.get(row["payment_id"], []))
        if reversed_by_d:
            continue
        by_account.setdefault(row["account_id"], []).append(
            Payment(row["payment_id"], row["value_date"], row["amount"])
        )
    for payments in by_account.values():
        payments.sort(key=lambda p: (p.value_date, p.payment_id))
    return by_account


# --------------------------------------------------------------------------------------------
# Policy access (the policy object is postloan.policy's model; only these few attributes are used)


def threshold_cents(policy: Any) -> int:
    threshold = Decimal(str(policy.allocation.materiality_threshold))
    return int(threshold * 100)


def allocation_order(policy: Any) -> str:
    return str(policy.allocation.order)


# --------------------------------------------------------------------------------------------
# Loans


@dataclass
class InstalmentState:
    period: int
    due_date: date
    principal_due: int
    interest_due: int
    covered_interest: int = 0
    covered_principal: int = 0
    completion_date: date | None = None  # exact: fully covered
    material_date: date | str | None = None  # covered within the threshold (or FROM_START)

    @property
    def is_zero(self) -> bool:
        return self.principal_due == 0 and self.interest_due == 0

    @property
    def uncovered(self) -> int:
        return (self.interest_due - self.covered_interest) + (
            self.principal_due - self.covered_principal
        )


@dataclass
class LoanResult:
    instalments: list[InstalmentState] = field(default_factory=list)
    credit: int = 0  # money beyond the last instalment


def _uncovered_up_to(items: list[Any], index: int) -> int:
    """Total still uncovered on item `index` and every item before it."""
    total = 0
    for item in items[: index + 1]:
        total += item.uncovered
    return total


def simulate_loan(
    instalment_rows: list[dict[str, Any]],
    payments: list[Payment],
    order: str,
    threshold: int,
    as_of: date,
) -> LoanResult:
    """Apply the payments one by one, oldest unpaid instalment first."""
    rows = sorted(instalment_rows, key=lambda r: (r["due_date"], r["period"]))
    states = [
        InstalmentState(r["period"], r["due_date"], r["principal_due"], r["interest_due"])
        for r in rows
    ]
    result = LoanResult(states)

    for state in states:
        if state.is_zero:
            # Nothing due: covered on its due date (completion shown once D reaches it), never late.
            state.completion_date = state.due_date if state.due_date <= as_of else None
            state.material_date = FROM_START
    for i, state in enumerate(states):
        if state.material_date is None and _uncovered_up_to(states, i) <= threshold:
            state.material_date = FROM_START

    components = (
        ("interest", "principal") if order == "interest_first" else ("principal", "interest")
    )

    for payment in payments:
        remaining = payment.amount
        for state in states:
            for component in components:
                if remaining == 0:
                    break
                if component == "interest":
                    take = min(remaining, state.interest_due - state.covered_interest)
                    state.covered_interest += take
                else:
                    take = min(remaining, state.principal_due - state.covered_principal)
                    state.covered_principal += take
                remaining -= take
        result.credit += remaining

        for i, state in enumerate(states):
            if state.completion_date is None and state.uncovered == 0 and not state.is_zero:
                state.completion_date = payment.value_date
            if state.material_date is None and _uncovered_up_to(states, i) <= threshold:
                state.material_date = payment.value_date
    return result


def _lateness(due_date: date, material: date | str | None, as_of: date) -> tuple[int, bool]:
    """(days_late, paid_late) of one instalment or statement as of D (docs/semantics.md)."""
    if material is None:  # not covered as of D
        if due_date < as_of:
            return (as_of - due_date).days, True
        return 0, False
    if material == FROM_START:
        return 0, False
    assert isinstance(material, date)
    if material > due_date:
        return (material - due_date).days, True
    return 0, False


def _counters(items: list[Any], as_of: date) -> tuple[int, int]:
    """(consecutive, cumulative) late-or-unpaid periods among the items due before D."""
    flags = [
        _lateness(item.due_date, item.material_date, as_of)[1]
        for item in items
        if item.due_date < as_of
    ]
    cumulative = sum(1 for flag in flags if flag)
    consecutive = 0
    for flag in reversed(flags):
        if not flag:
            break
        consecutive += 1
    return consecutive, cumulative


def _dpd(items: list[Any], as_of: date) -> int:
    for item in items:  # oldest first
        if item.due_date < as_of and item.material_date is None:
            return (as_of - item.due_date).days
    return 0


def _last_payment_date(payments: list[Payment]) -> date | None:
    if not payments:
        return None
    return max(p.value_date for p in payments)


def _group(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["account_id"], []).append(row)
    return grouped


def _simulate_all_loans(
    portfolio: Portfolio, as_of: date, policy: Any
) -> tuple[dict[str, LoanResult], dict[str, list[Payment]]]:
    payments = counting_payments(portfolio.payments.to_dicts(), as_of)
    instalments = _group(portfolio.instalments.to_dicts())
    order, threshold = allocation_order(policy), threshold_cents(policy)
    results = {}
    for loan in portfolio.loans.to_dicts():
        account = loan["account_id"]
        results[account] = simulate_loan(
            instalments.get(account, []), payments.get(account, []), order, threshold, as_of
        )
    return results, payments


def reference_instalment_status(
    portfolio: Portfolio, as_of: date, policy: Any
) -> list[dict[str, Any]]:
    results, _ = _simulate_all_loans(portfolio, as_of, policy)
    out = []
    for account, result in results.items():
        for s in result.instalments:
            days_late, paid_late = _lateness(s.due_date, s.material_date, as_of)
            out.append(
                {
                    "account_id": account,
                    "period": s.period,
                    "due_date": s.due_date,
                    "principal_due": s.principal_due,
                    "interest_due": s.interest_due,
                    "covered_interest": s.covered_interest,
                    "covered_principal": s.covered_principal,
                    "completion_date": s.completion_date,
                    "days_late": days_late,
                    "paid_late": paid_late,
                }
            )
    return out


def _loan_rows(portfolio: Portfolio, as_of: date, policy: Any) -> list[dict[str, Any]]:
    results, payments = _simulate_all_loans(portfolio, as_of, policy)
    out = []
    for loan in portfolio.loans.to_dicts():
        account = loan["account_id"]
        if loan["disbursement_date"] > as_of:
            continue  # not opened yet
        states = results[account].instalments
        if all(s.uncovered == 0 for s in states):
            continue  # closed: every instalment covered as of D
        overdue_principal = 0
        overdue_interest = 0
        covered_principal = 0
        for s in states:
            covered_principal += s.covered_principal
            if s.due_date < as_of:
                overdue_principal += s.principal_due - s.covered_principal
                overdue_interest += s.interest_due - s.covered_interest
        dpd = _dpd(states, as_of)
        consecutive, cumulative = _counters(states, as_of)
        out.append(
            {
                "account_id": account,
                "customer_id": loan["customer_id"],
                "account_type": "loan",
                "as_of": as_of,
                "outstanding_principal": loan["principal"] - covered_principal,
                "overdue_principal": overdue_principal,
                "overdue_interest": overdue_interest,
                "overdue_amount": overdue_principal + overdue_interest,
                "dpd": dpd,
                "bucket": policy.bucket_for(dpd),
                "risk_class": policy.risk_class_for(dpd, "loan"),
                "consecutive_overdue_periods": consecutive,
                "cumulative_overdue_periods": cumulative,
                "last_payment_date": _last_payment_date(payments.get(account, [])),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# Cards


@dataclass
class StatementState:
    statement_date: date
    due_date: date
    statement_balance: int
    minimum_due: int
    minimum_covered: int = 0
    completion_date: date | None = None
    material_date: date | str | None = None

    @property
    def is_zero(self) -> bool:
        return self.minimum_due == 0

    @property
    def uncovered(self) -> int:
        return self.minimum_due - self.minimum_covered


def simulate_card(
    statement_rows: list[dict[str, Any]], payments: list[Payment], threshold: int, as_of: date
) -> list[StatementState]:
    """Apply each payment to the unpaid minimums of statements already issued, oldest first."""
    rows = sorted(statement_rows, key=lambda r: (r["statement_date"], r["due_date"]))
    states = [
        StatementState(r["statement_date"], r["due_date"], r["statement_balance"], r["minimum_due"])
        for r in rows
    ]
    for state in states:
        if state.is_zero:
            # Nothing due: covered on its due date (completion shown once D reaches it), never late.
            state.completion_date = state.due_date if state.due_date <= as_of else None
            state.material_date = FROM_START
    for i, state in enumerate(states):
        if state.material_date is None and _uncovered_up_to(states, i) <= threshold:
            state.material_date = FROM_START

    for payment in payments:
        remaining = payment.amount
        for state in states:
            if state.statement_date > payment.value_date:
                continue  # not issued yet when the payment was made
            take = min(remaining, state.uncovered)
            state.minimum_covered += take
            remaining -= take
        # whatever remains reduces the billed balance; it never pre-pays a later minimum

        for i, state in enumerate(states):
            if state.completion_date is None and state.uncovered == 0 and not state.is_zero:
                state.completion_date = payment.value_date
            if state.material_date is None and _uncovered_up_to(states, i) <= threshold:
                state.material_date = payment.value_date
    return states


def _simulate_all_cards(
    portfolio: Portfolio, as_of: date, policy: Any
) -> tuple[dict[str, list[StatementState]], dict[str, list[Payment]]]:
    payments = counting_payments(portfolio.payments.to_dicts(), as_of)
    statements = _group(portfolio.statements.to_dicts())
    threshold = threshold_cents(policy)
    results = {}
    for card in portfolio.cards.to_dicts():
        account = card["account_id"]
        results[account] = simulate_card(
            statements.get(account, []), payments.get(account, []), threshold, as_of
        )
    return results, payments


def _paid_in_full(state: StatementState, payments: list[Payment]) -> bool:
    total = 0
    for p in payments:
        if state.statement_date <= p.value_date <= state.due_date:
            total += p.amount
    return total >= state.statement_balance


def reference_statement_status(
    portfolio: Portfolio, as_of: date, policy: Any
) -> list[dict[str, Any]]:
    results, payments = _simulate_all_cards(portfolio, as_of, policy)
    out = []
    for account, states in results.items():
        for s in states:
            days_late, paid_late = _lateness(s.due_date, s.material_date, as_of)
            out.append(
                {
                    "account_id": account,
                    "statement_date": s.statement_date,
                    "due_date": s.due_date,
                    "statement_balance": s.statement_balance,
                    "minimum_due": s.minimum_due,
                    "minimum_covered": s.minimum_covered,
                    "completion_date": s.completion_date,
                    "days_late": days_late,
                    "paid_late": paid_late,
                    "paid_in_full": _paid_in_full(s, payments.get(account, [])),
                }
            )
    return out


def _card_outstanding(states: list[StatementState], payments: list[Payment], as_of: date) -> int:
    issued = [s for s in states if s.statement_date <= as_of]
    if not issued:
        return 0
    latest = issued[-1]
    paid_since = 0
    for p in payments:  # all of them are dated <= D already
        if p.value_date > latest.statement_date:
            paid_since += p.amount
    return max(0, latest.statement_balance - paid_since)


def _card_rows(portfolio: Portfolio, as_of: date, policy: Any) -> list[dict[str, Any]]:
    results, payments = _simulate_all_cards(portfolio, as_of, policy)
    out = []
    for card in portfolio.cards.to_dicts():
        account = card["account_id"]
        if card["open_date"] > as_of:
            continue
        if card["close_date"] is not None and card["close_date"] <= as_of:
            continue
        states = results[account]
        account_payments = payments.get(account, [])
        overdue = 0
        for s in states:
            if s.due_date < as_of:
                overdue += s.uncovered
        dpd = _dpd(states, as_of)
        consecutive, cumulative = _counters(states, as_of)
        out.append(
            {
                "account_id": account,
                "customer_id": card["customer_id"],
                "account_type": "card",
                "as_of": as_of,
                "outstanding_principal": _card_outstanding(states, account_payments, as_of),
                "overdue_principal": overdue,
                "overdue_interest": 0,
                "overdue_amount": overdue,
                "dpd": dpd,
                "bucket": policy.bucket_for(dpd),
                "risk_class": policy.risk_class_for(dpd, "card"),
                "consecutive_overdue_periods": consecutive,
                "cumulative_overdue_periods": cumulative,
                "last_payment_date": _last_payment_date(account_payments),
            }
        )
    return out


# --------------------------------------------------------------------------------------------
# account-status


def reference_account_status(
    portfolio: Portfolio, as_of: date, policy: Any
) -> list[dict[str, Any]]:
    rows = _loan_rows(portfolio, as_of, policy) + _card_rows(portfolio, as_of, policy)
    return sorted(rows, key=lambda r: r["account_id"])
