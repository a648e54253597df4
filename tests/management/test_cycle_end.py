"""The card cycle-end 口径 (账单日口径, `period = "cycle_end"`) against a plain recomputation on
a hand-built history (SQLite and PostgreSQL): each card measured on its last statement date of
the month that is stored — not on the month-end — by amount and by count, per branch; loans
not counted; the month-end figures unchanged beside it; its drill-down sums to the cell; a
cycle-end definition that is lagged or "ever" is refused."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy import insert, true

from postloan.management import service, totals
from postloan.policy import Policy, default_policy
from postloan.policy.loader import PolicyError, policy_from_dict
from postloan.store import schema
from postloan.store.db import engine_for
from tests.management.conftest import MID_MONTH, MONTH_ENDS, History, build
from tests.management.test_totals import NOW, _same
from tests.store.conftest import BACKENDS, make_store  # noqa: F401

START, END = date(2026, 1, 1), date(2026, 6, 30)
# Statement dates: some stored (month-ends, mid-month), some never stored (ignored); every
# other card has a second stored one in June, at the month-end (the later one counts).
STATEMENTS = [date(2026, 2, 28), date(2026, 3, 12), date(2026, 3, 31), MID_MONTH,
              date(2026, 5, 31), date(2026, 4, 10)]  # fmt: skip


def _statements(card: str) -> list[date]:
    return [*STATEMENTS, END] if int(card[1:]) // 8 % 2 else STATEMENTS


def _policy() -> Policy:
    data = default_policy().model_dump(mode="json")
    kpis = data["management"]["kpis"]
    kpis["overdue_rate_cycle"] = {**kpis["overdue_rate"], "name_en": "overdue rate (cycle end)",
                                  "name_zh": "逾期率（账单日）", "period": "cycle_end"}  # fmt: skip
    kpis["overdue_count_cycle"] = {**kpis["overdue_count_rate"], "period": "cycle_end",
                                   "name_en": "overdue accounts (cycle end)"}  # fmt: skip
    return policy_from_dict(data)


@pytest.fixture(params=BACKENDS)
def carded(request: pytest.FixtureRequest, make_store: Any) -> History:  # noqa: F811
    """A history with 3× the accounts of the shared one (more cards), and their statements."""
    url = make_store(request.param)
    built = build(url, seed=23, accounts=120)
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(
            insert(schema.card_statements),
            [
                {"card_id": card, "statement_date": day, "due_date": day, "statement_balance": 0,
                 "minimum_due": 0, "purchases": 0}
                for card in built.cards
                for day in _statements(card)
            ],
        )  # fmt: skip
    engine.dispose()
    return built


def _recompute(history: History, kpi: str) -> dict[tuple[date, str], tuple[int, int]]:
    """(month-end, branch or "all") → (numerator, denominator), from the status rows."""
    policy = _policy()
    definition = policy.management.kpis[kpi]
    stored = {(r["as_of"], r["account_id"]): r for r in history.status}
    days = {r["as_of"] for r in history.status}
    out: dict[tuple[date, str], list[int]] = defaultdict(lambda: [0, 0])
    for end in MONTH_ENDS:
        for card, c in history.cards.items():
            mine = [d for d in _statements(card) if d in days and d.month == end.month]
            if not mine or (max(mine), card) not in stored:
                continue
            row = stored[(max(mine), card)]
            if row["outstanding_principal"] <= 0 and row["overdue_amount"] <= 0:
                continue  # not in the pool
            weight = row["outstanding_principal"] if definition.basis == "amount" else 1
            hit = row["dpd"] >= definition.min_dpd
            branch = history.customers[c["customer_id"]]["branch_id"]
            for key in ((end, "all"), (end, branch)):
                out[key][0] += weight if hit else 0
                out[key][1] += weight
    return {k: (v[0], v[1]) for k, v in out.items()}


@pytest.mark.parametrize("kpi", ["overdue_rate_cycle", "overdue_count_cycle"])
def test_cycle_end_figures_equal_a_plain_recomputation(carded: History, kpi: str) -> None:
    policy = _policy()
    engine = engine_for(carded.url)
    with engine.connect() as conn:
        built = service.build(conn, policy, START, END, true())
        plain = service.build(conn, default_policy(), START, END, true())
    engine.dispose()
    expected = _recompute(carded, kpi)
    assert any(num for num, _ in expected.values())  # overdue cards at some cycle end
    seen = 0
    for row in built.figures.iter_rows(named=True):
        if row["dimension"] not in ("portfolio", "branch"):
            continue
        num, den = expected.get((row["as_of"], row["value"]), (0, 0))
        assert (row[f"{kpi}_numerator"], row[f"{kpi}_denominator"]) == (num, den), row
        assert row[kpi] == (num / den if den else None)
        seen += bool(den)
    assert seen >= 8
    # January has no statement: no figure; the month-end definitions are untouched.
    jan = built.figures.filter(dimension="portfolio", as_of=MONTH_ENDS[0])
    assert jan[kpi].to_list() == [None]
    assert built.figures.select(plain.figures.columns).equals(plain.figures)


def test_the_stored_month_totals_carry_the_cycle_end_figures(carded: History) -> None:
    """A whole-book pack read from the month totals equals the one from the status with the
    cycle-end definitions in the policy (the step stores their sums per month)."""
    policy = _policy()
    engine = engine_for(carded.url)
    with engine.begin() as conn:
        totals.store_months(conn, policy, MONTH_ENDS[0], 2, NOW)
    with engine.connect() as conn:
        _, history = service._history(conn, END)
        assert totals.load(conn, policy, history, history) is not None
        fast = service.build(conn, policy, START, END, true())
        slow = service.build(conn, policy, START, END, true(), use_totals=False)
    engine.dispose()
    assert fast.figures["overdue_rate_cycle_numerator"].sum() > 0
    _same(fast, slow)


def test_cycle_end_drill_down_sums_to_the_cell(carded: History) -> None:
    policy = _policy()
    engine = engine_for(carded.url)
    with engine.connect() as conn:
        built = service.build(conn, policy, START, END, true())
        for kpi in ("overdue_rate_cycle", "overdue_count_cycle"):
            for row in built.figures.filter(dimension="branch").iter_rows(named=True):
                found = service.drill(
                    conn, policy, row["as_of"], "branch", row["value"], kpi, true()
                )
                assert found["numerator"] == row[f"{kpi}_numerator"]
                assert all(a["account_type"] == "card" for a in found["accounts"])
    engine.dispose()


@pytest.mark.parametrize(
    "change",
    [{"timing": "lagged", "lag_months": 3, "denominator": "outstanding_lagged"},
     {"status": "ever"}],
)  # fmt: skip
def test_a_cycle_end_definition_is_current_and_current_status(change: dict[str, Any]) -> None:
    data = default_policy().model_dump(mode="json")
    data["management"]["kpis"]["overdue_rate"].update({"period": "cycle_end", **change})
    with pytest.raises(PolicyError, match="cycle-end"):
        policy_from_dict(data)
