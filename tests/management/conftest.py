"""A hand-built history for management's tests: customers, loans, cards and the account status
of six month-ends (plus a mid-month date) written straight into fresh stores — SQLite always,
PostgreSQL when POSTLOAN_TEST_DATABASE_URL is set. The rows are drawn from a seeded generator
so every KPI meets overdue, cured, paid-off and lagged cases; the tests recompute each figure
from these rows in plain Python."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from postloan.policy.loader import default_policy
from postloan.store import schema
from postloan.store.db import engine_for
from tests.store.conftest import BACKENDS, make_store  # noqa: F401

MONTH_ENDS = [
    date(2026, 1, 31),
    date(2026, 2, 28),
    date(2026, 3, 31),
    date(2026, 4, 30),
    date(2026, 5, 31),
    date(2026, 6, 30),
]
MID_MONTH = date(2026, 6, 15)  # a stored date that is no month-end (drill-down on any date)
BRANCHES = ["B1", "B2", "B3"]
PRODUCTS = ["consumer_loan", "business_loan"]


@dataclass
class History:
    url: str
    status: list[dict[str, Any]]  # every account_status row written
    loans: dict[str, dict[str, Any]]
    customers: dict[str, dict[str, Any]]
    cards: dict[str, dict[str, Any]]
    payments: list[dict[str, Any]]


def _bucket(dpd: int) -> str:
    if dpd == 0:
        return "current"
    if dpd <= 30:
        return "M1"
    if dpd <= 60:
        return "M2"
    if dpd <= 90:
        return "M3"
    return "M3+"


def _class(dpd: int) -> str:
    return (
        "normal"
        if dpd <= 30
        else "special_mention"
        if dpd <= 90
        else "substandard"
        if dpd <= 180
        else "doubtful"
        if dpd <= 360
        else "loss"
    )


def build(url: str, seed: int = 16, accounts: int = 40) -> History:
    rng = random.Random(seed)
    policy = default_policy()
    now = datetime(2026, 7, 1, tzinfo=UTC)
    customers = {
        f"K{i:02d}": {
            "customer_id": f"K{i:02d}",
            "name": f"客户{i}",
            "branch_id": BRANCHES[i % 3],
            "industry": ["retail", "farming"][i % 2],
            "id_type": "prc_id",
        }
        for i in range(accounts // 2)
    }
    loans: dict[str, dict[str, Any]] = {}
    cards: dict[str, dict[str, Any]] = {}
    status: list[dict[str, Any]] = []
    days = sorted([*MONTH_ENDS, MID_MONTH])
    for i in range(accounts):
        customer = f"K{i % (accounts // 2):02d}"
        is_card = i % 8 == 7
        acct = f"C{i:03d}" if is_card else f"L{i:03d}"
        disbursed = date(2025, 10 + rng.randrange(3), 1) if i % 3 else date(2026, 2 + i % 3, 10)
        principal = rng.randrange(10, 200) * 100_000
        if is_card:
            cards[acct] = {
                "card_id": acct,
                "customer_id": customer,
                "credit_limit": 5_000_000,
                "open_date": date(2024, 1, 5) if i % 16 == 7 else disbursed,
            }
        else:
            loans[acct] = {
                "loan_id": acct,
                "customer_id": customer,
                "principal": principal,
                "annual_rate": 8_000_000,
                "term_months": [6, 24, 84][i % 3],
                "repayment_method": "equal_installment",
                "disbursement_date": disbursed,
                "product": PRODUCTS[i % 2],
                "purpose": ["consumer", "business"][i % 2],
                "guarantee": "credit",
                "rate_type": "fixed",
                "borrower_type": "individual",
                "branch_id": customers[customer]["branch_id"],
                "officer_id": f"O{i % 5}",
            }
        dpd, left = 0, (0 if is_card and i % 16 == 7 else principal)
        paid_off_from = MONTH_ENDS[4] if i % 11 == 5 else None
        for day in days:
            opened = cards[acct]["open_date"] if is_card else disbursed
            if day < opened or (paid_off_from and day >= paid_off_from and i % 2):
                continue  # not open yet; or paid off and no longer reported
            if day != MID_MONTH:
                move = rng.random()
                dpd = (
                    0
                    if move < 0.35
                    else dpd + 31
                    if move < 0.8 and dpd
                    else rng.randrange(1, 29)
                    if move < 0.8
                    else max(dpd - 30, 0)
                )
                left = max(left - principal // 20, 0)
            if paid_off_from and day >= paid_off_from:
                left, dpd = 0, 0
            overdue = left // 10 if dpd else 0
            status.append(
                {
                    "as_of": day,
                    "account_id": acct,
                    "customer_id": customer,
                    "account_type": "card" if is_card else "loan",
                    "outstanding_principal": left,
                    "overdue_principal": overdue,
                    "overdue_interest": 0,
                    "overdue_amount": overdue,
                    "dpd": dpd,
                    "bucket": _bucket(dpd),
                    "risk_class": _class(dpd),
                    "consecutive_overdue_periods": dpd // 30,
                    "cumulative_overdue_periods": dpd // 30,
                    "last_payment_date": None,
                    "run_id": 1 if day < MONTH_ENDS[3] else 2,
                    "restructured": False,
                }
            )
    # Payments: one a month on most loans, and a reversal of one of them (cash nets it out).
    payments = [
        {
            "payment_id": f"P{k}",
            "account_id": r["account_id"],
            "value_date": r["as_of"],
            "amount": 150_000 + 1_000 * k,
            "channel": "bank",
            "reverses_payment_id": None,
        }
        for k, r in enumerate(status)
        if r["account_type"] == "loan" and k % 3
    ]
    payments.append(
        {
            **payments[0],
            "payment_id": "R0",
            "reverses_payment_id": "P1",
            "value_date": MONTH_ENDS[-1],
        }
    )
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(
            insert(schema.policy_versions).values(
                version=policy.version, content="{}", recorded_at=now
            )
        )
        for run_id, (a, b) in (
            (1, (MONTH_ENDS[0], MONTH_ENDS[2])),
            (2, (MONTH_ENDS[3], MONTH_ENDS[5])),
        ):
            conn.execute(
                insert(schema.runs).values(
                    run_id=run_id,
                    kind="backfill",
                    date_from=a,
                    date_to=b,
                    policy_version=policy.version,
                    status="succeeded",
                    started_at=now,
                    finished_at=now,
                )
            )
        conn.execute(insert(schema.customers), list(customers.values()))
        conn.execute(insert(schema.loans), list(loans.values()))
        conn.execute(insert(schema.cards), list(cards.values()))
        conn.execute(insert(schema.account_status), status)
        conn.execute(insert(schema.payments), payments)
    engine.dispose()
    return History(url, status, loans, customers, cards, payments)


@pytest.fixture(params=BACKENDS)
def history(request: pytest.FixtureRequest, make_store: Any) -> History:  # noqa: F811
    return build(make_store(request.param))
