"""The pack from the status one month-end at a time (`management.stream`), SQLite and
PostgreSQL: over a long history (30 month-ends) it equals the pack computed from every
month-end at once (`tests/management/all_at_once.py`) and the pack read from the stored month
totals, frame by frame, whole-book and branch-scoped, with two "ever" definitions, a lagged
one, cycle-end ones, vintages, dormant cards and a write-off in play — reading each month-end's
status once; a branch-scoped pack's portfolio figures equal the whole book's figures for that
branch wherever a branch's figures cannot depend on other branches."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import ColumnElement, insert, true

from postloan.collections.legal_tables import account_disposals
from postloan.management import queries, service, totals
from postloan.policy import Policy, default_policy
from postloan.policy.loader import policy_from_dict
from postloan.store import schema
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.management import all_at_once, area_data
from tests.management.conftest import BRANCHES, MONTH_ENDS, PRODUCTS, History, _bucket, _class
from tests.management.test_totals import NOW, _same
from tests.store.conftest import BACKENDS, make_store  # noqa: F401

START, END = date(2026, 1, 1), date(2026, 6, 30)
ENDS = pl.date_range(date(2024, 1, 1), date(2026, 6, 1), "1mo", eager=True).dt.month_end().to_list()
MID = date(2025, 9, 15)  # a stored date that is no month-end
B2 = customers.c.branch_id == "B2"
NPL = ("substandard", "doubtful", "loss")


def _policy() -> Policy:
    """The default definitions plus a second "ever" one (count basis, NPL) and two card
    cycle-end ones."""
    data = default_policy().model_dump(mode="json")
    kpis = data["management"]["kpis"]
    kpis["npl_ever_count"] = {**kpis["npl_ratio"], "name_en": "ever NPL (accounts)",
                              "basis": "count", "status": "ever"}  # fmt: skip
    kpis["overdue_rate_cycle"] = {**kpis["overdue_rate"], "name_en": "overdue (cycle end)",
                                  "period": "cycle_end"}  # fmt: skip
    return policy_from_dict(data)


def _long(url: str, seed: int = 30, accounts: int = 48) -> None:
    """A small portfolio over 30 month-ends (and one mid-month date): loans disbursed all along
    (vintage cohorts), DPD walks into the non-performing classes, loans paid off, cards with
    statements (some never used: dormant), payments on loans, a reversal, a write-off."""
    rng = random.Random(seed)
    policy = default_policy()
    now = datetime(2026, 7, 1, tzinfo=UTC)
    custs = {f"K{i:02d}": {"customer_id": f"K{i:02d}", "name": f"客户{i}",
                           "branch_id": BRANCHES[i % 3], "industry": ["retail", "farming"][i % 2],
                           "id_type": "prc_id"}
             for i in range(accounts // 2)}  # fmt: skip
    loans, cards, status, statements = [], [], [], []
    days = sorted([*ENDS, MID])
    for i in range(accounts):
        customer = f"K{i % (accounts // 2):02d}"
        is_card = i % 5 == 4
        acct = f"C{i:03d}" if is_card else f"L{i:03d}"
        k = rng.randrange(-3, 27)  # the month of disbursement, from three months before ENDS
        opened = (ENDS[0] if k < 0 else ENDS[k]) - timedelta(days=20 + 30 * max(-k, 0))
        if is_card and i % 10 == 4:
            opened = date(2022, 5, 5)  # an old card, never used: dormant once paid down
        principal = rng.randrange(10, 200) * 100_000
        if is_card:
            cards.append({"card_id": acct, "customer_id": customer, "credit_limit": 5_000_000,
                          "open_date": opened})  # fmt: skip
        else:
            loans.append({"loan_id": acct, "customer_id": customer, "principal": principal,
                          "annual_rate": 8_000_000, "term_months": [6, 24, 84][i % 3],
                          "repayment_method": "equal_installment", "disbursement_date": opened,
                          "product": PRODUCTS[i % 2], "purpose": ["consumer", "business"][i % 2],
                          "guarantee": "credit", "rate_type": "fixed",
                          "borrower_type": "individual", "branch_id": custs[customer]["branch_id"],
                          "officer_id": f"O{i % 5}"})  # fmt: skip
        dpd, left = 0, (0 if is_card and i % 10 == 4 else principal)
        paid_off = ENDS[20 + i % 7] if i % 9 == 4 else None
        for day in days:
            if day < opened or (paid_off and day >= paid_off and i % 2):
                continue
            if day != MID:
                move = rng.random()
                dpd = (0 if move < 0.3 else dpd + 31 if move < 0.85 and dpd
                       else rng.randrange(1, 29) if move < 0.85 else max(dpd - 30, 0))  # fmt: skip
                left = max(left - principal // 40, 0)
            if paid_off and day >= paid_off:
                left, dpd = 0, 0
            overdue = left // 10 if dpd else 0
            status.append({"as_of": day, "account_id": acct, "customer_id": customer,
                           "account_type": "card" if is_card else "loan",
                           "outstanding_principal": left, "overdue_principal": overdue,
                           "overdue_interest": 0, "overdue_amount": overdue, "dpd": dpd,
                           "bucket": _bucket(dpd), "risk_class": _class(dpd),
                           "consecutive_overdue_periods": dpd // 30,
                           "cumulative_overdue_periods": dpd // 30, "last_payment_date": None,
                           "run_id": 1 if day.year < 2025 else 2,
                           "restructured": False})  # fmt: skip
            if is_card and day.month % 2 and day != MID:
                statements.append({"card_id": acct, "statement_date": day, "due_date": day,
                                   "statement_balance": left, "minimum_due": 0,
                                   "purchases": 0 if i % 10 == 4 else 5_000})  # fmt: skip
    payments = [{"payment_id": f"P{n}", "account_id": r["account_id"], "value_date": r["as_of"],
                 "amount": 150_000 + 1_000 * n, "channel": "bank", "reverses_payment_id": None}
                for n, r in enumerate(status)
                if n % 3 and r["as_of"] != MID and r["account_type"] == "loan"]  # fmt: skip
    reversed_ = payments[5]["payment_id"]
    payments.append({**payments[5], "payment_id": "R0", "reverses_payment_id": reversed_,
                     "value_date": ENDS[12]})  # fmt: skip
    bad = next(r for r in status if r["as_of"] == ENDS[15] and r["risk_class"] in NPL
               and r["account_type"] == "loan" and r["outstanding_principal"] > 0)  # fmt: skip
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(insert(schema.policy_versions).values(version=policy.version, content="{}",
                                                           recorded_at=now))  # fmt: skip
        for run_id, (a, b) in ((1, (ENDS[0], ENDS[11])), (2, (ENDS[12], ENDS[-1]))):
            conn.execute(insert(schema.runs).values(
                run_id=run_id, kind="backfill", date_from=a, date_to=b,
                policy_version=policy.version, status="succeeded", started_at=now,
                finished_at=now))  # fmt: skip
        conn.execute(insert(schema.customers), list(custs.values()))
        conn.execute(insert(schema.loans), loans)
        conn.execute(insert(schema.cards), cards)
        conn.execute(insert(schema.account_status), status)
        conn.execute(insert(schema.card_statements), statements)
        conn.execute(insert(schema.payments), payments)
        conn.execute(account_disposals.insert().values(
            account_id=bad["account_id"], customer_id=bad["customer_id"], kind="write_off",
            effective_on=ENDS[15], principal=bad["outstanding_principal"], interest=0, fee=0,
            reason="test", status="approved", proposed_by="a", proposed_at=now,
            decided_by="b", decided_at=now))  # fmt: skip
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def long(request: pytest.FixtureRequest, make_store: Any) -> str:  # noqa: F811
    url = make_store(request.param)
    _long(url)
    return url


class _Reads:
    """Records the dates of every status read (and reads them: the store is real)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.days: list[list[date]] = []
        read = queries.status_rows

        def status_rows(source: Any, days: Any, scope: ColumnElement[bool]) -> pl.DataFrame:
            self.days.append(list(days))
            return read(source, days, scope)

        monkeypatch.setattr(queries, "status_rows", status_rows)


def _streamed(url: str, policy: Policy, start: date, end: date, scope: Any) -> service.Pack:
    engine = engine_for(url)
    with engine.connect() as conn:
        built = service.build(conn, policy, start, end, scope, use_totals=False)
    engine.dispose()
    return built


def _at_once(url: str, policy: Policy, start: date, end: date, scope: Any) -> service.Pack:
    engine = engine_for(url)
    with engine.connect() as conn:
        built = all_at_once.build(conn, policy, start, end, scope)
    engine.dispose()
    return built


@pytest.mark.parametrize(
    ("start", "end"),
    [(ENDS[0], ENDS[-1]), (date(2025, 7, 1), ENDS[-1]), (date(2024, 6, 1), date(2025, 9, 20))],
)
def test_a_long_history_streamed_equals_the_pack_from_all_month_ends_at_once(
    long: str, start: date, end: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = _policy()
    reads = _Reads(monkeypatch)
    for scope in (true(), B2):
        reads.days.clear()
        streamed = _streamed(long, policy, start, end, scope)
        # one month-end per read, each month-end of the history read once
        stored = [d for d in sorted([*ENDS, MID]) if d <= end]
        assert reads.days == [[d] for d in queries.month_ends(stored)["as_of"].to_list()]
        reference = _at_once(long, policy, start, end, scope)
        _same(streamed, reference)
        assert streamed.runs == reference.runs
        figures = streamed.figures
        assert figures["dpd30_ever_numerator"].sum() > figures["dpd30_ratio_numerator"].sum()
        assert figures["npl_ever_count_numerator"].sum() > 0
        assert streamed.vintage["ever_principal"].sum() > 0
        if isinstance(scope, type(true())):  # the whole book's cards
            assert figures["overdue_rate_cycle_denominator"].sum() > 0
            assert streamed.dormant["dormant_cards"].sum() > 0


def test_a_long_history_from_the_stored_totals_equals_the_streamed_pack(long: str) -> None:
    """The step stores the same frames the stream computes: from the history's first month,
    and again from a later month (its state seeded from the store)."""
    policy = _policy()
    engine = engine_for(long)
    for first in (ENDS[0], date(2025, 5, 3)):
        with engine.begin() as conn:
            written = totals.store_months(conn, policy, first, 2, NOW)
        assert written[0] == first.strftime("%Y-%m") and written[-1] == "2026-06"
        with engine.connect() as conn:
            _, history = service._history(conn, ENDS[-1])
            assert totals.load(conn, policy, history, history) is not None
            fast = service.build(conn, policy, START, ENDS[-1], true())
        _same(fast, _at_once(long, policy, START, ENDS[-1], true()))
    engine.dispose()


@pytest.fixture
def loaded(history: History) -> History:
    area_data.add(history)
    return history


def test_a_branch_pack_equals_the_whole_books_rows_of_that_branch(loaded: History) -> None:
    """A branch is a customer's, so every figure of the branch-scoped pack's portfolio row is
    the whole book's row for that branch: balances, every definition (lagged, "ever"), the roll
    matrix and flow rates, recoveries and disbursement. The scoped pack also equals the one
    from all its month-ends at once (collectors and other areas' figures in play)."""
    policy = default_policy()
    start = MONTH_ENDS[0]
    mine = _streamed(loaded.url, policy, start, END, B2)
    whole = _at_once(loaded.url, policy, start, END, true())
    _same(mine, _at_once(loaded.url, policy, start, END, B2))
    _same(_streamed(loaded.url, policy, start, END, true()), whole)

    def part(frame: pl.DataFrame, dimension: str, value: str) -> pl.DataFrame:
        return frame.filter(dimension=dimension, value=value).drop("dimension", "value")

    mine_rows = part(mine.figures, "portfolio", "all")
    assert mine_rows.height == len(MONTH_ENDS)
    assert mine_rows["dpd30_ever_numerator"].sum() > mine_rows["dpd30_ratio_numerator"].sum()
    assert mine_rows["overdue_rate_lagged_denominator"].drop_nulls().len() == 3
    assert mine_rows["principal_recovered"].sum() > 0 and mine_rows["cure_numerator"].sum() > 0
    assert_frame_equal(mine_rows, part(whole.figures, "branch", "B2"), check_dtypes=False)
    assert_frame_equal(part(mine.roll, "portfolio", "all"), part(whole.roll, "branch", "B2"),
                       check_dtypes=False)  # fmt: skip
    # and within the branch, a breakdown the branch shares with others differs from the book's
    product = part(mine.figures, "product", PRODUCTS[0])["outstanding_principal"]
    book = part(whole.figures, "product", PRODUCTS[0])["outstanding_principal"]
    assert 0 < product.sum() < book.sum()


def test_an_ever_drill_down_sums_to_the_streamed_cell_in_a_scope(long: str) -> None:
    """A drill-down reads its date's rows and the ids of the accounts that met an "ever"
    numerator earlier (in the caller's scope): it sums to the streamed pack's cell, on
    month-ends late in the history and on a mid-month date."""
    policy = _policy()
    built = _streamed(long, policy, ENDS[0], ENDS[-1], B2)
    mid = _streamed(long, policy, ENDS[0], MID, B2)
    cells = built.figures.filter(dimension="portfolio").rows(named=True)[5::6]
    cells += mid.figures.filter(dimension="portfolio", as_of=MID).rows(named=True)
    engine = engine_for(long)
    with engine.connect() as conn:
        for row in cells:
            for kpi in ("dpd30_ever", "npl_ever_count"):
                found = service.drill(conn, policy, row["as_of"], "portfolio", "all", kpi, B2)
                assert found["numerator"] == row[f"{kpi}_numerator"], (row["as_of"], kpi)
                assert {a["branch"] for a in found["accounts"]} <= {"B2"}
    engine.dispose()
    assert cells[-1]["as_of"] == MID and any(row["npl_ever_count_numerator"] for row in cells)
