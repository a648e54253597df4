"""ABC's need dimension (`rules/need.py`): by hand on a few accounts, and against a plain
per-account recomputation (dates by `calendar`, not polars) on random portfolios."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.policy import default_policy, policy_from_dict
from postloan.tiering.rules.frames import LOANS, STATUS
from postloan.tiering.rules.need import CARDS, need_of

POLICY = default_policy()
D = date(2026, 1, 31)


def add_months(day: date, months: int) -> date:
    """`day` + months, rolled back to the month's last day when the day does not exist."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def status_row(as_of: date, account: str, customer: str, kind: str, balance: int) -> dict[str, Any]:
    return {"as_of": as_of, "account_id": account, "customer_id": customer,
            "account_type": kind, "outstanding_principal": balance, "dpd": 0,
            "risk_class": "normal", "cumulative_overdue_periods": 0,
            "last_payment_date": None}  # fmt: skip


def loan_row(loan: str, first_due: date | None, disbursed: date, term: int) -> dict[str, Any]:
    return {"loan_id": loan, "customer_id": "-", "principal": 1, "annual_rate": 0,
            "term_months": term, "disbursement_date": disbursed, "first_due_date": first_due,
            "purpose": None}  # fmt: skip


def frames(status: list[Any], loans: list[Any], cards: list[Any]) -> tuple[pl.DataFrame, ...]:
    return (pl.DataFrame(status, schema=STATUS), pl.DataFrame(loans, schema=LOANS),
            pl.DataFrame(cards, schema=CARDS, orient="row"))  # fmt: skip


def test_by_hand() -> None:
    status, loans, cards = frames(
        [status_row(D, "L1", "A", "loan", 500), status_row(D, "C1", "A", "card", 8_000),
         status_row(D, "L2", "B", "loan", 500), status_row(D, "C2", "B", "card", 7_999),
         status_row(D, "L3", "C", "loan", 0), status_row(D, "C3", "C", "card", 10)],
        # L1: 12 monthly instalments from 2025-04-30: the last on 2026-03-31, within 3 months
        # of Jan 31 (Apr 30); L2: the last on 2026-05-30, beyond; L3: within, but paid off
        [loan_row("L1", date(2025, 4, 30), date(2025, 3, 31), 12),
         loan_row("L2", None, date(2025, 4, 30), 13),  # first due May 30 (a month on)
         loan_row("L3", date(2025, 4, 30), date(2025, 3, 31), 12)],
        [("C1", 10_000), ("C2", 10_000), ("C3", 0)],
    )  # fmt: skip
    got = {r["customer_id"]: (r["need_signals"], r["need"])
           for r in need_of(status, loans, cards, POLICY).to_dicts()}  # fmt: skip
    assert got == {"A": ("renewal,credit_line", "high"), "B": ("", "low"), "C": ("", "low")}
    data = POLICY.model_dump(mode="json")
    data["tiering"]["abc"].update(need_renewal_within_months=4, need_utilisation_percent=79)
    wider = policy_from_dict(data, "test")
    got = {r["customer_id"]: r["need"] for r in need_of(status, loans, cards, wider).to_dicts()}
    assert got == {"A": "high", "B": "high", "C": "low"}


def plain(status: list[Any], loans: dict[str, Any], limits: dict[str, int], within: int,
          percent: int) -> dict[tuple[date, str], tuple[str, str]]:  # fmt: skip
    found: dict[tuple[date, str], list[bool]] = {}
    for r in status:
        flags = found.setdefault((r["as_of"], r["customer_id"]), [False, False])
        if r["account_type"] == "loan" and r["outstanding_principal"] > 0 \
                and r["account_id"] in loans:  # fmt: skip
            lo = loans[r["account_id"]]
            first = lo["first_due_date"] or add_months(lo["disbursement_date"], 1)
            last = add_months(first, lo["term_months"] - 1)
            if r["as_of"] <= last <= add_months(r["as_of"], within):
                flags[0] = True
        limit = limits.get(r["account_id"], 0)
        if r["account_type"] == "card" and limit > 0 \
                and r["outstanding_principal"] * 100 >= percent * limit:  # fmt: skip
            flags[1] = True
    names = ("renewal", "credit_line")
    return {k: (",".join(n for n, f in zip(names, v, strict=True) if f),
                ("low", "medium", "high")[sum(v)]) for k, v in found.items()}  # fmt: skip


days = st.dates(date(2024, 1, 1), date(2027, 12, 31))
accounts = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.booleans(), st.integers(0, 20_000),
              st.one_of(st.none(), days), days, st.integers(1, 60), st.integers(0, 20_000)),
    max_size=25,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    accounts,
    st.sampled_from([D, date(2026, 2, 28), date(2025, 12, 31)]),
    st.integers(1, 24),
    st.integers(1, 100),
)
def test_against_the_plain_recomputation(
    drawn: list[tuple[Any, ...]], as_of: date, within: int, percent: int
) -> None:
    status, loans, cards = [], [], []
    for i, (customer, is_loan, balance, first_due, disbursed, term, limit) in enumerate(drawn):
        account = f"X{i}"
        status.append(status_row(as_of, account, customer, "loan" if is_loan else "card",
                                 balance))  # fmt: skip
        if is_loan:
            loans.append(loan_row(account, first_due, disbursed, term))
        else:
            cards.append((account, limit))
    data = POLICY.model_dump(mode="json")
    data["tiering"]["abc"].update(need_renewal_within_months=within,
                                  need_utilisation_percent=percent)  # fmt: skip
    policy = policy_from_dict(data, "test")
    got = {(r["as_of"], r["customer_id"]): (r["need_signals"], r["need"])
           for r in need_of(*frames(status, loans, cards), policy).to_dicts()}  # fmt: skip
    want = plain(status, {lo["loan_id"]: lo for lo in loans}, dict(cards), within, percent)
    assert got == want
