"""Tier and RFM assignment against the plain per-customer recomputation (`reference.py`) on
random portfolios; every customer gets exactly one row; a tier never contradicts a floor (the
worst five-category class, an open case); hysteresis against its plain replay."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from postloan.policy import default_policy
from postloan.tiering.rules.classify import classify
from postloan.tiering.rules.frames import CASES, CUSTOMERS, LOANS, STATE, STATEMENTS, STATUS
from postloan.tiering.rules.hysteresis import hold
from postloan.tiering.rules.rfm import rfm
from tests.tiering.reference import CLASSES, TIERS, classify_one, hold_sequence, rfm_day

POLICY = default_policy()
DAY = date(2026, 6, 30)
LATER = DAY + timedelta(30)  # a drawdown after D is not counted
PURPOSES = ["consumer", "business", "housing", "working_capital", "fixed_asset", "project",
            "other", None]  # fmt: skip


@st.composite
def portfolios(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(1, 12))
    status, loans, customers, cases, statements = [], [], [], [], []
    for i in range(n):
        cid = f"C{i:03d}"
        if draw(st.booleans()):
            customers.append({
                "customer_id": cid, "branch_id": draw(st.sampled_from(["B1", "B2", None])),
                "monthly_income": draw(st.one_of(st.none(), st.integers(0, 5_000_000))),
                "total_liabilities": draw(st.one_of(st.none(), st.integers(0, 200_000_000))),
            })  # fmt: skip
        if draw(st.integers(0, 3)) == 0:
            opened = DAY - timedelta(days=draw(st.integers(-5, 60)))
            closed = draw(st.one_of(st.none(), st.just(opened + timedelta(
                days=draw(st.integers(1, 90))))))  # fmt: skip
            cases.append({"customer_id": cid, "opened_on": opened, "closed_on": closed})
        for j in range(draw(st.integers(1, 3))):
            aid = f"A{i:03d}{j}"
            kind = draw(st.sampled_from(["loan", "loan", "card"]))
            dpd = draw(st.sampled_from([0, 0, 0, 5, 31, 95, 200, 400]))
            row = {
                "as_of": DAY, "account_id": aid, "customer_id": cid, "account_type": kind,
                # equal balances on purpose: ties are broken by the account / customer id
                "outstanding_principal": draw(st.sampled_from([0, 100_000, 100_000, 5_000_000,
                                                               draw(st.integers(0, 10**9))])),
                "dpd": dpd, "risk_class": draw(st.sampled_from(CLASSES)),
                "cumulative_overdue_periods": draw(st.integers(0, 8)),
                "last_payment_date": draw(st.one_of(st.none(), st.dates(
                    date(2024, 1, 1), DAY))),
            }  # fmt: skip
            status.append(row)
            if kind == "card":
                statements += card_statements(draw, cid, aid)
            if kind == "loan":
                disbursed = draw(st.dates(date(2023, 1, 1), DAY))
                loans.append({
                    "loan_id": aid, "customer_id": cid,
                    "principal": draw(st.integers(1, 10**9)),
                    "annual_rate": draw(st.integers(0, 36_000_000)),
                    "term_months": draw(st.integers(1, 60)), "disbursement_date": disbursed,
                    "first_due_date": draw(st.one_of(st.none(), st.just(
                        disbursed + timedelta(days=draw(st.integers(1, 62)))))),
                    "purpose": draw(st.sampled_from(PURPOSES)),
                })  # fmt: skip
        if draw(st.integers(0, 4)) == 0:  # a closed card: its purchases are past activity
            statements += card_statements(draw, cid, f"K{i:03d}")
        if draw(st.integers(0, 4)) == 0:  # a paid-off loan: a drawdown, not in status
            loans.append({"loan_id": f"P{i:03d}", "customer_id": cid, "principal": 1000,
                          "annual_rate": 0, "term_months": 1,
                          "disbursement_date": draw(st.dates(date(2023, 1, 1), LATER)),
                          "first_due_date": None, "purpose": "consumer"})  # fmt: skip
    return {"status": status, "loans": loans, "customers": customers, "cases": cases,
            "statements": statements}  # fmt: skip


def card_statements(draw: Any, cid: str, card: str) -> list[dict[str, Any]]:
    """Monthly statements of a card, some after D (not counted), some without purchases or
    minimum (no use, nothing to repay)."""
    found = []
    for k in range(draw(st.integers(0, 4))):
        dated = DAY - timedelta(days=31 * k - draw(st.integers(-20, 40)))
        found.append({"customer_id": cid, "card_id": card, "statement_date": dated,
                      "due_date": dated + timedelta(days=draw(st.sampled_from([0, 20, 25]))),
                      "minimum_due": draw(st.sampled_from([0, 500, 10_000])),
                      "purchases": draw(st.sampled_from([0, 0, 1, 250_000]))})  # fmt: skip
    return found


def frames(p: dict[str, Any]) -> tuple[pl.DataFrame, ...]:
    return (
        pl.DataFrame(p["status"], schema=STATUS),
        pl.DataFrame(p["loans"], schema=LOANS),
        pl.DataFrame(p["customers"], schema=CUSTOMERS),
        pl.DataFrame(p["cases"], schema=CASES),
    )


def _open(cases: list[dict[str, Any]], cid: str) -> bool:
    return any(c["customer_id"] == cid and c["opened_on"] <= DAY
               and (c["closed_on"] is None or c["closed_on"] > DAY) for c in cases)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(portfolios())
def test_classification_and_tiers_equal_the_plain_recomputation(p: dict[str, Any]) -> None:
    status, loans, customers, cases = frames(p)
    found = {r["customer_id"]: r for r in
             classify(status, loans, customers, cases, POLICY).to_dicts()}  # fmt: skip
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for a in p["status"]:
        by_customer.setdefault(a["customer_id"], []).append(a)
    assert set(found) == set(by_customer)  # exactly one row per customer in status
    loan_of = {lo["loan_id"]: lo for lo in p["loans"]}
    customer_of = {c["customer_id"]: c for c in p["customers"]}
    for cid, rows in by_customer.items():
        wanted = classify_one(rows, loan_of, customer_of.get(cid), _open(p["cases"], cid), POLICY)
        got = {k: found[cid][k] for k in wanted}
        assert got == wanted, cid
        # never contradicts a floor
        tier = TIERS.index(got["qualified_tier"])
        if got["open_case"] or got["worst_class"] in ("substandard", "doubtful", "loss"):
            assert got["qualified_tier"] == "high"
        if got["worst_class"] == "special_mention":
            assert tier >= TIERS.index(POLICY.tiering.floors.special_mention)


@settings(max_examples=300, deadline=None)
@given(portfolios())
def test_rfm_equals_the_plain_recomputation(p: dict[str, Any]) -> None:
    status, loans, _, _ = frames(p)
    statements = pl.DataFrame(p["statements"], schema=STATEMENTS)
    found = {r["customer_id"]: r for r in rfm(status, loans, statements, POLICY).to_dicts()}
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for a in p["status"]:
        by_customer.setdefault(a["customer_id"], []).append(a)
    wanted = rfm_day(DAY, by_customer, {lo["loan_id"]: lo for lo in p["loans"]}, POLICY,
                     p["statements"])  # fmt: skip
    assert set(found) == set(wanted)
    for cid, w in wanted.items():
        got = found[cid]
        for key in ("recency_days", "frequency", "rfm_r", "rfm_f", "rfm_m", "rfm_segment"):
            assert got[key] == w[key], (cid, key)
    # quintiles: every score 1..5, as many of each as the ⌊5i/n⌋ rule gives
    for key in ("rfm_r", "rfm_f", "rfm_m"):
        scores = sorted(r[key] for r in found.values())
        assert scores == sorted(i * 5 // len(scores) + 1 for i in range(len(scores)))


tiers_or_gaps = st.lists(st.one_of(st.sampled_from(TIERS), st.none()), min_size=1, max_size=15)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from([f"C{i}" for i in range(6)]), tiers_or_gaps, min_size=1),
    st.integers(1, 4),
)
def test_hysteresis_equals_its_plain_replay(qualified: dict[str, list[str | None]], n: int) -> None:
    days = max(len(v) for v in qualified.values())
    state = pl.DataFrame(schema=STATE)
    held: dict[str, list[str | None]] = {c: [] for c in qualified}
    for d in range(days):
        today = pl.DataFrame(
            [(c, v[d]) for c, v in qualified.items() if d < len(v) and v[d] is not None],
            schema={"customer_id": pl.String, "qualified_tier": pl.String}, orient="row",
        )  # fmt: skip
        state = hold(today, state, n)
        got = dict(zip(state["customer_id"], state["tier"], strict=True))
        for c in qualified:
            held[c].append(got.get(c))
    for c, seq in qualified.items():
        padded = seq + [None] * (days - len(seq))
        wanted = hold_sequence(padded, n)
        assert held[c] == wanted, (c, padded)
        for q, h in zip(padded, held[c], strict=True):
            # the held tier is never better than the qualified one (so never than a floor)
            assert (q is None) == (h is None)
            if q is not None and h is not None:
                assert TIERS.index(h) >= TIERS.index(q)
