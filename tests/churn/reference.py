"""Churn identification as of D, plain and per customer — written straight from
DATA_CONTRACT "Semantics of churn identification as of D (SPEC CH-2)", independently of
`postloan.churn`. Instalment and statement lateness come from the account-status reference
(`tests.reference`: a literal payment-by-payment simulation). Loops everywhere: this is the
obviously-correct version the property test holds the vectorised rules to.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from postloan.engine.frames import Portfolio
from tests.reference import (
    reference_account_status,
    reference_instalment_status,
    reference_statement_status,
)

RULES = ("loan_overdue", "card_default", "closed_not_reapplied", "transferred_out", "inactive")


def months_after(d: date, n: int) -> date:
    """d + n months (n may be negative), rolled to the month's last day when the day does not
    exist — "the same month-end rolling as due dates"."""
    index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


def _count_back(flags: list[bool]) -> int:
    """How many of the latest flags are True, counted back until the first False."""
    n = 0
    for flag in reversed(flags):
        if not flag:
            break
        n += 1
    return n


def reference_evidence(
    portfolio: Portfolio,
    events: list[dict[str, Any]],
    as_of: date,
    policy: Any,
    products: dict[str, str] | None = None,
) -> dict[str, dict[str, list[tuple[str, int, int]]]]:
    """customer_id -> {"loan_overdue": [(loan, consecutive, in window)], "card_default":
    [(card, consecutive not paid in full, late in window)]} for the accounts meeting (a)/(b)."""
    found: dict[str, dict[str, list[tuple[str, int, int]]]] = {}
    reference_churn(portfolio, events, as_of, policy, products, found)
    return found


def reference_churn(
    portfolio: Portfolio,
    events: list[dict[str, Any]],
    as_of: date,
    policy: Any,
    products: dict[str, str] | None = None,
    evidence: dict[str, dict[str, list[tuple[str, int, int]]]] | None = None,
) -> dict[str, dict[str, bool]]:
    """customer_id -> {rule: holds} for every customer identified as churned on D
    (`products`: loan id -> product, for the policy's per-product thresholds; `evidence`,
    when given, is filled with the accounts meeting (a) and (b) and their counts)."""
    evidence = {} if evidence is None else evidence
    churn = policy.churn
    window_start = months_after(as_of, -churn.cumulative_lookback_months)
    loans = portfolio.loans.to_dicts()
    cards = portfolio.cards.to_dicts()
    instalments = reference_instalment_status(portfolio, as_of, policy)
    statements = reference_statement_status(portfolio, as_of, policy)
    open_accounts = {r["account_id"] for r in reference_account_status(portfolio, as_of, policy)}
    payments = portfolio.payments.to_dicts()
    raw_statements = portfolio.statements.to_dicts()

    customers: set[str] = {r["customer_id"] for r in loans + cards}
    customers |= {e["customer_id"] for e in events}
    out: dict[str, dict[str, bool]] = {}
    for customer in sorted(customers):
        my_loans = [r for r in loans if r["customer_id"] == customer]
        my_cards = [r for r in cards if r["customer_id"] == customer]
        my_events = [e for e in events if e["customer_id"] == customer]
        my_ids = {r["account_id"] for r in my_loans + my_cards}

        # (a) loan_overdue
        loan_overdue = False
        for loan in my_loans:
            if loan["disbursement_date"] > as_of:
                continue
            own = sorted(
                (i for i in instalments if i["account_id"] == loan["account_id"]),
                key=lambda i: (i["due_date"], i["period"]),
            )
            due = [i for i in own if i["due_date"] < as_of]
            consecutive = _count_back([i["paid_late"] for i in due])
            in_window = sum(1 for i in due if i["due_date"] >= window_start and i["paid_late"])
            need_c, need_w = churn.loan_thresholds((products or {}).get(loan["account_id"]))
            if consecutive >= need_c or in_window >= need_w:
                loan_overdue = True
                evidence.setdefault(customer, {}).setdefault("loan_overdue", []).append(
                    (loan["account_id"], consecutive, in_window)
                )

        # (b) card_default
        card_default = False
        for card in my_cards:
            if card["open_date"] > as_of:
                continue
            own = sorted(
                (s for s in statements if s["account_id"] == card["account_id"]),
                key=lambda s: (s["statement_date"], s["due_date"]),
            )
            due = [s for s in own if s["due_date"] < as_of]
            not_in_full = [not (s["statement_balance"] <= 0 or s["paid_in_full"]) for s in due]
            consecutive = _count_back(not_in_full)
            late = sum(1 for s in due if s["due_date"] >= window_start and s["paid_late"])
            if (
                consecutive >= churn.card_consecutive_months_not_paid_in_full
                or late >= churn.card_overdue_times
            ):
                card_default = True
                evidence.setdefault(customer, {}).setdefault("card_default", []).append(
                    (card["account_id"], consecutive, late)
                )

        openings = [r["disbursement_date"] for r in my_loans] + [r["open_date"] for r in my_cards]
        applications = [e["date"] for e in my_events if e["type"] == "application"]

        starts = applications + openings

        def nothing_started_in(start: date, end: date, starts: list[date] = starts) -> bool:
            return not any(start < d <= end for d in starts)

        # (c) closed_not_reapplied
        closed = [
            e["date"] for e in my_events if e["type"] == "account_closed" and e["date"] <= as_of
        ]
        closed_not_reapplied = False
        if closed:
            e = max(closed)
            closed_not_reapplied = (
                months_after(e, churn.months_after_closing_without_reapplying) <= as_of
                and nothing_started_in(e, as_of)
                and not (my_ids & open_accounts)
            )

        # (d) transferred_out
        moved = [e["date"] for e in my_events if e["type"] == "transfer_out" and e["date"] <= as_of]
        transferred_out = False
        if moved:
            t = max(moved)
            transferred_out = months_after(
                t, churn.months_after_transfer_out_without_resuming
            ) <= as_of and nothing_started_in(t, as_of)

        # (e) inactive
        quiet_from = months_after(as_of, -churn.months_without_credit_transaction)
        transactions = [
            p["value_date"]
            for p in payments
            if p["account_id"] in my_ids and p["reverses_payment_id"] is None
        ]
        transactions += openings + applications
        transactions += [
            s["statement_date"]
            for s in raw_statements
            if s["account_id"] in my_ids and s["purchases"] > 0
        ]
        transactions += [e["date"] for e in my_events if e["type"] == "explanation"]
        inactive = any(d <= quiet_from for d in openings) and not any(
            quiet_from < d <= as_of for d in transactions
        )  # fmt: skip

        found = {
            "loan_overdue": loan_overdue,
            "card_default": card_default,
            "closed_not_reapplied": closed_not_reapplied,
            "transferred_out": transferred_out,
            "inactive": inactive,
        }
        if any(found.values()):
            out[customer] = found
    return out
