"""Card activity in RFM (issue 14): a card's statements with purchases count as recency and
frequency, its on-time statements as frequency — by hand on a small portfolio, and in the daily
run on a synthetic store (a card-only customer's recency is its last statement with purchases)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select

from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store import schema
from postloan.store.db import engine_for
from postloan.tiering.rules.frames import LOANS, STATEMENTS, STATUS
from postloan.tiering.rules.rfm import rfm
from postloan.tiering.tables import tier_assignments
from tests.tiering.conftest import AS_OF, filled

POLICY = default_policy()
D = date(2026, 6, 30)


def test_card_activity_by_hand() -> None:
    status = pl.DataFrame(
        [
            # K: a card only, last paid 2026-05-10, one overdue statement ever
            (D, "K1", "K", "card", 1000, 0, "normal", 1, date(2026, 5, 10)),
            # L: a loan only, no payment, disbursed 2026-06-01 (first due 2026-07-01: none due)
            (D, "L1", "L", "loan", 5000, 0, "normal", 0, None),
        ],
        schema=STATUS, orient="row",
    )  # fmt: skip
    loans = pl.DataFrame([("L1", "L", 5000, 0, 12, date(2026, 6, 1), None, "consumer")],
                         schema=LOANS, orient="row")  # fmt: skip
    statements = pl.DataFrame(
        [
            ("K", "K1", date(2026, 4, 5), date(2026, 4, 25), 500, 20_000),  # used, due, late
            ("K", "K1", date(2026, 5, 5), date(2026, 5, 25), 500, 0),  # due, on time
            ("K", "K1", date(2026, 6, 5), date(2026, 6, 25), 0, 300),  # used; nothing to pay
            ("K", "K1", date(2026, 6, 20), date(2026, 7, 10), 500, 10),  # used, not yet due
            ("K", "K2", date(2026, 6, 25), date(2026, 7, 15), 0, 50),  # a closed card, used
            ("K", "K1", date(2026, 7, 5), date(2026, 7, 25), 500, 99),  # after D: not counted
        ],
        schema=STATEMENTS, orient="row",
    )  # fmt: skip
    got = {r["customer_id"]: r for r in rfm(status, loans, statements, POLICY).to_dicts()}
    # K: last use 2026-06-25 (the closed card) beats the payment of 05-10: 5 days;
    # F = on-time statements (2 due with a minimum − 1 late) + 4 statements with purchases
    assert (got["K"]["recency_days"], got["K"]["frequency"]) == (5, 1 + 4)
    # L: the drawdown only (29 days), one drawdown, nothing due yet
    assert (got["L"]["recency_days"], got["L"]["frequency"]) == (29, 1)
    without = {r["customer_id"]: r for r in
               rfm(status, loans, statements.clear(), POLICY).to_dicts()}  # fmt: skip
    assert (without["K"]["recency_days"], without["K"]["frequency"]) == (51, 0)


def test_the_run_counts_card_activity(make_store: Any, backend: str, tier_files: Path) -> None:
    url = filled(make_store, backend, tier_files)
    run_dates(url, [AS_OF], POLICY)
    engine = engine_for(url)
    with engine.connect() as conn:
        cards = schema.cards.c
        st = schema.card_statements.c
        uses = conn.execute(
            select(cards.customer_id, st.statement_date).select_from(
                schema.card_statements.join(schema.cards, cards.card_id == st.card_id))
            .where(st.purchases > 0, st.statement_date <= AS_OF)
        ).all()  # fmt: skip
        t = tier_assignments.c
        tiered = {r.customer_id: r for r in conn.execute(
            select(t.customer_id, t.recency_days).where(t.as_of == AS_OF)).all()}  # fmt: skip
    engine.dispose()
    last_use: dict[str, date] = {}
    for customer, day in uses:
        last_use[customer] = max(day, last_use.get(customer, day))
    assert last_use, "the synthetic portfolio has card purchases"
    # nobody's recency is older than their last card use
    checked = [c for c in last_use if c in tiered]
    assert checked
    for customer in checked:
        assert tiered[customer].recency_days <= (AS_OF - last_use[customer]).days, customer
    assert any(tiered[c].recency_days == (AS_OF - last_use[c]).days for c in checked)
