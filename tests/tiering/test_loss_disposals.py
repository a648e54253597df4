"""The loss rate per tier with collections' write-offs and disposals, read from a store (SQLite
and PostgreSQL): an approved write-off effective inside a month makes its customer a new loss
of that month, its account leaves the pool from the effective date (as in the core summary),
and a rejected one changes nothing — checked against the plain recomputation of
`test_rolls.plain` over the stored rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, true

from postloan.collections.legal_tables import account_disposals
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from postloan.tiering import report
from postloan.tiering.tables import tier_assignments
from tests.tiering.conftest import AS_OF, DATES, filled
from tests.tiering.test_rolls import plain

EFFECTIVE = date(2026, 4, 15)  # between the March and April month ends


def _dispose(conn: Any, row: Any, status: str, effective: date) -> None:
    conn.execute(account_disposals.insert().values(
        account_id=row.account_id, customer_id=row.customer_id, kind="write_off",
        effective_on=effective, principal=row.outstanding_principal, interest=0, fee=0,
        reason="test", status=status, proposed_by="a", proposed_at=datetime.now(UTC),
        decided_by="b", decided_at=datetime.now(UTC)))  # fmt: skip


def test_write_offs_count_in_the_loss_rate(make_store: Any, backend: str, tier_files: Path) -> None:
    url = filled(make_store, backend, tier_files)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    s, t = account_status.c, tier_assignments.c
    with engine.begin() as conn:
        before = report.roll_and_loss(conn, DATES[0], AS_OF, true(), default_policy())
        # a performing loan of a customer who is not lost on March 31 nor April 30
        candidates = conn.execute(
            select(s.account_id, s.customer_id, s.outstanding_principal)
            .join(tier_assignments, (t.customer_id == s.customer_id) & (t.as_of == s.as_of))
            .where(s.as_of == DATES[1], s.account_type == "loan", s.outstanding_principal > 0,
                   s.risk_class == "normal", t.worst_class == "normal")
            .order_by(s.account_id)).all()  # fmt: skip
        chosen, other = candidates[0], candidates[1]
        _dispose(conn, chosen, "approved", EFFECTIVE)
        _dispose(conn, other, "rejected", EFFECTIVE)  # never approved: no effect
    with engine.connect() as conn:
        after = report.roll_and_loss(conn, DATES[0], AS_OF, true(), default_policy())
        tiers = conn.execute(select(t.as_of, t.customer_id, t.tier, t.balance, t.max_dpd,
                                    t.worst_class)).all()  # fmt: skip
        out = {(r.as_of, r.customer_id): r.outstanding_principal for r in conn.execute(
            select(s.as_of, s.customer_id, s.outstanding_principal)
            .where(s.account_id == chosen.account_id, s.as_of >= EFFECTIVE))}  # fmt: skip
    engine.dispose()
    march = {(r["month"], r["tier"]): r for r in before["losses"]}
    tier = next(
        r.tier for r in tiers if r.as_of == DATES[0] and r.customer_id == chosen.customer_id
    )
    key = ("2026-03", tier)
    got = {(r["month"], r["tier"]): r for r in after["losses"]}
    # the customer's pool balance on March 31 is now a loss of March, by write-off
    balance = next(r.balance for r in tiers if r.as_of == DATES[0]
                   and r.customer_id == chosen.customer_id)  # fmt: skip
    assert got[key]["loss_balance"] == march[key]["loss_balance"] + balance
    assert got[key]["written_off_balance"] == balance > 0
    # from April 15 on the account is out of the pool: April's cohort has its balance apart
    april = next(r for r in after["losses"] if r["month"] == "2026-04"
                 and r["removed_balance"] > 0)  # fmt: skip
    assert april["removed_balance"] == out[(DATES[1], chosen.customer_id)]
    # and everything equals the plain recomputation over the stored rows
    history = [{**r._asdict(), "removed_balance": out.get((r.as_of, r.customer_id), 0)}
               for r in tiers if DATES[0] <= r.as_of]  # fmt: skip
    _, want = plain(history, {chosen.customer_id: EFFECTIVE})
    assert {k: (r["customers"], r["balance"], r["removed_balance"], r["loss_balance"],
                r["written_off_balance"], r["loss_rate"]) for k, r in got.items()} == {
        k: v for k, v in want.items() if k[0] <= AS_OF.strftime("%Y-%m")}  # fmt: skip
