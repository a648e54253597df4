"""The loyalty ledger on a real store (SQLite and PostgreSQL): the daily step's earnings
(on-time streak over three month ends, tenure) equal a plain recomputation and are appended
once (re-running a date adds nothing); the ledger refuses UPDATE and DELETE; redemption records
its basis and offer; expiry is first in, first out; goodwill is tied to one complaint."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from postloan.errors import ConflictError, InvalidError
from postloan.policy import default_policy
from postloan.relationship import complaints, loyalty
from postloan.relationship.tables import loyalty_ledger, loyalty_offers
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.store.schema import account_status
from tests.relationship.conftest import AS_OF, DATES, NOW

POLICY = default_policy()
L = loyalty_ledger.c


def _ledger(url: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = engine_for(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(L.customer_id, L.entry_on, L.kind, L.rule, L.points, L.key).order_by(L.key)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_earnings_match_a_plain_recomputation_and_are_appended_once(store: str) -> None:
    first = _ledger(store)
    engine = engine_for(store)
    with engine.connect() as conn:
        status = conn.execute(
            select(account_status.c.customer_id, account_status.c.as_of, account_status.c.dpd)
        ).all()
    engine.dispose()
    seen: dict[str, set[str]] = {}
    late: set[str] = set()
    for customer, as_of, dpd in status:
        seen.setdefault(customer, set()).add(str(as_of)[:10])
        if dpd > 0:
            late.add(customer)
    wanted = {c for c, days in seen.items() if len(days) == 3 and c not in late}
    on_time = {r[0] for r in first if r[3] == "on_time_quarter"}
    assert on_time == wanted and wanted, "some customers were on time at all three month ends"
    # Only 30 June has three stored month ends behind it (April, May, June): earned then.
    assert all(
        r[4] == 60 and str(r[1])[:10] == "2026-06-30" for r in first if r[3] == "on_time_quarter"
    )
    assert any(r[3] == "tenure_year" for r in first)
    run_dates(store, [AS_OF], POLICY)  # re-running a date appends nothing
    run_dates(store, DATES, POLICY)
    assert _ledger(store) == first


def test_the_ledger_is_append_only(store: str) -> None:
    engine = engine_for(store)
    for change in (update(loyalty_ledger).values(points=10**6), delete(loyalty_ledger)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(change)
    # and the module offers no path that changes a row
    source = Path(loyalty.__file__).read_text(encoding="utf-8")
    assert "update(" not in source and "delete(" not in source
    engine.dispose()


def test_redeem_expire_and_goodwill(store: str) -> None:
    cheap = POLICY.model_copy(
        update={
            "relationship": POLICY.relationship.model_copy(
                update={
                    "loyalty": POLICY.relationship.loyalty.model_copy(
                        update={"rate_offer_points": 100, "expiry_months": 1}
                    )
                }
            )
        }
    )
    engine = engine_for(store)
    with engine.begin() as conn:
        rich = conn.execute(
            select(L.customer_id, func.sum(L.points))
            .group_by(L.customer_id)
            .having(func.sum(L.points) >= 150)
        ).first()
        assert rich is not None
        customer, held = rich[0], int(rich[1])
        offer = loyalty.redeem(conn, cheap, customer, actor="cs1", today=AS_OF, now=NOW)
        basis = json.loads(
            conn.execute(
                select(loyalty_offers.c.basis).where(loyalty_offers.c.offer_id == offer)
            ).scalar_one()
        )
        assert basis["balance_before"] == held and basis["points"] == 100
        assert basis["policy_version"] == cheap.version
        assert loyalty.balance(conn, customer) == held - 100
        poor = conn.execute(
            select(L.customer_id).group_by(L.customer_id).having(func.sum(L.points) < 100)
        ).first()
        if poor is not None:
            with pytest.raises(ConflictError):
                loyalty.redeem(conn, cheap, poor[0], actor="cs1", today=AS_OF, now=NOW)
        # a month later, everything earned by 30 June and not spent expires (FIFO)
        loyalty.earn_for_dates(conn, [date(2026, 7, 31)], cheap)
        assert loyalty.balance(conn, customer) == 0
        expired = conn.execute(
            select(L.points).where(L.customer_id == customer, L.kind == "expire")
        ).scalar_one()
        assert -int(expired) == held - 100
        loyalty.earn_for_dates(conn, [date(2026, 7, 31)], cheap)  # idempotent
        assert loyalty.balance(conn, customer) == 0
        cid = complaints.receive(
            conn,
            POLICY,
            customer_id=customer,
            received_on=AS_OF,
            channel="app",
            business_type="loans",
            reason="service",
            summary="态度差",
            complained_about=[],
            account_id=None,
            actor="cs1",
            today=AS_OF,
            now=NOW,
        )
        with pytest.raises(InvalidError):  # above the policy's cap
            loyalty.goodwill(conn, POLICY, cid, 201, "补偿", actor="cs1", today=AS_OF, now=NOW)
        loyalty.goodwill(conn, POLICY, cid, 200, "补偿", actor="cs1", today=AS_OF, now=NOW)
        with pytest.raises(ConflictError):  # once per complaint
            loyalty.goodwill(conn, POLICY, cid, 10, "再补", actor="cs1", today=AS_OF, now=NOW)
        assert loyalty.balance(conn, customer) == 200
    engine.dispose()
